"""RTP media for one call: receive/decode, paced send, barge-in-able playback.

Sending is driven by a :class:`Pacer` shared by all calls: one task wakes
every 20 ms at ``t0 + n * 20 ms`` (drift-free: lateness never accumulates)
and asks each session for its next packet.  A session sends silence when it
has nothing to play, so the remote jitter buffer sees a steady stream.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass
from typing import cast

from speech.clock import Clock, MonotonicClock
from speech.codec_g711 import PCMU, Codec
from speech.errors import CodecError
from speech.sip.rtp import DtmfDetector, RtpPacket

__all__ = ["DtmfIn", "AudioIn", "MediaSession", "Pacer", "Playback"]

log = logging.getLogger("jiesu.speech.rtp")

PTIME_S = 0.020
SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = SAMPLES * 2


@dataclass(frozen=True)
class AudioIn:
    """Decoded caller audio (16-bit PCM at 8 kHz) and its arrival time."""

    pcm: bytes
    at: float


@dataclass(frozen=True)
class DtmfIn:
    """A key press (RFC 4733) and its arrival time."""

    digit: str
    at: float


class Playback:
    """Audio queued for sending; await :attr:`done` (True = played out, False = stopped)."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.pos = 0
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.first_sent_at: float | None = None

    def stop(self) -> None:
        """Stop now (barge-in); the rest is not sent."""
        if not self.done.done():
            self.done.set_result(False)

    @property
    def active(self) -> bool:
        """True while audio remains and nobody stopped it."""
        return not self.done.done()


class MediaSession(asyncio.DatagramProtocol):
    """One call's RTP socket."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or MonotonicClock()
        self.inbound: asyncio.Queue[AudioIn | DtmfIn] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: tuple[str, int] | None = None
        self.codec: Codec = PCMU
        self.dtmf_pt: int | None = None
        self.sending = True
        self._dtmf = DtmfDetector()
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._queue: deque[Playback] = deque()
        self._talkspurt = False
        self.packets_in = 0
        self.packets_out = 0

    @classmethod
    async def open(cls, host: str, port: int = 0, clock: Clock | None = None) -> MediaSession:
        """Bind a UDP socket on ``host:port`` (0 = any free port)."""
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(lambda: cls(clock), local_addr=(host, port))
        return proto

    @property
    def local_port(self) -> int:
        """The bound port."""
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def configure(
        self, remote: tuple[str, int], codec: Codec, dtmf_pt: int | None, sending: bool = True
    ) -> None:
        """Apply the negotiated SDP."""
        self.remote = remote
        self.codec = codec
        self.dtmf_pt = dtmf_pt
        self.sending = sending and remote[1] != 0

    # -- asyncio protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        # Python 3.10's selector datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # noqa: D102
        try:
            pkt = RtpPacket.parse(data)
        except CodecError:
            return  # RTCP or junk on the RTP port
        now = self.clock.now()
        self.packets_in += 1
        if pkt.payload_type == self.codec.payload_type:
            self.inbound.put_nowait(AudioIn(self.codec.decode(pkt.payload), now))
        elif self.dtmf_pt is not None and pkt.payload_type == self.dtmf_pt:
            digit = self._dtmf.feed(pkt)
            if digit:
                self.inbound.put_nowait(DtmfIn(digit, now))

    def error_received(self, exc: Exception) -> None:  # noqa: D102
        log.debug("RTP socket error: %s", exc)

    # -- sending ----------------------------------------------------------
    def play(self, pcm8k: bytes) -> Playback:
        """Queue 8 kHz 16-bit PCM for sending; returns a handle to await or stop."""
        pb = Playback(pcm8k)
        if not pcm8k:
            pb.done.set_result(True)
        else:
            self._queue.append(pb)
        return pb

    def stop_playback(self) -> None:
        """Stop everything queued (barge-in)."""
        while self._queue:
            self._queue.popleft().stop()

    def pending(self) -> list[Playback]:
        """Prompts queued or being sent."""
        return [pb for pb in self._queue if pb.active]

    @property
    def playing(self) -> bool:
        """True while a prompt is being sent."""
        return any(pb.active for pb in self._queue)

    def next_frame(self, now: float) -> tuple[bytes, bool]:
        """Return the next 20 ms of PCM and whether it is speech (not filler silence)."""
        while self._queue and not self._queue[0].active:
            self._queue.popleft()
        if not self._queue:
            return b"\x00" * FRAME_BYTES, False
        pb = self._queue[0]
        chunk = pb.pcm[pb.pos : pb.pos + FRAME_BYTES]
        pb.pos += FRAME_BYTES
        if pb.first_sent_at is None:
            pb.first_sent_at = now
        if pb.pos >= len(pb.pcm):
            pb.done.set_result(True)
            self._queue.popleft()
        return chunk.ljust(FRAME_BYTES, b"\x00"), True

    def tick(self, now: float) -> None:
        """Send one packet (called by the :class:`Pacer` every 20 ms)."""
        pcm, speech = self.next_frame(now)
        if self.transport is None or self.remote is None or not self.sending:
            self._ts += SAMPLES
            return
        marker = speech and not self._talkspurt
        self._talkspurt = speech
        payload = self.codec.encode(pcm)
        pkt = RtpPacket(self.codec.payload_type, self._seq, self._ts, self._ssrc, payload, marker)
        self.transport.sendto(pkt.to_bytes(), self.remote)
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + SAMPLES) & 0xFFFFFFFF
        self.packets_out += 1

    def close(self) -> None:
        """Stop playback and close the socket."""
        self.stop_playback()
        if self.transport is not None:
            self.transport.close()


class Pacer:
    """One 20 ms clock for every session's RTP sending; records send lateness."""

    def __init__(self, clock: Clock | None = None, max_catch_up: int = 5) -> None:
        self.clock = clock or MonotonicClock()
        self.sessions: set[MediaSession] = set()
        self.lateness: deque[float] = deque(maxlen=100_000)
        self._max_catch_up = max_catch_up
        self._task: asyncio.Task[None] | None = None

    def add(self, session: MediaSession) -> None:
        """Start sending for ``session``."""
        self.sessions.add(session)

    def discard(self, session: MediaSession) -> None:
        """Stop sending for ``session``."""
        self.sessions.discard(session)

    def start(self) -> None:
        """Start the ticking task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="rtp-pacer")

    async def stop(self) -> None:
        """Stop the ticking task."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        t0 = self.clock.now()
        n = 0
        while True:
            n += 1
            target = t0 + n * PTIME_S
            delay = target - self.clock.now()
            if delay > 0:
                await asyncio.sleep(delay)
            now = self.clock.now()
            behind = int((now - target) / PTIME_S)
            if behind > self._max_catch_up:  # stalled: skip ahead rather than burst
                n += behind
                target = t0 + n * PTIME_S
            self.lateness.append(now - target)
            for session in list(self.sessions):
                try:
                    session.tick(now)
                except Exception:  # one broken call must not stop the others
                    log.exception("RTP send failed")
                    self.sessions.discard(session)
