"""An RTP sink on 127.0.0.1 that records what the bot says (PCMU/PCMA)."""

from __future__ import annotations

import asyncio
import struct
from typing import cast

from speech.codec_g711 import alaw_decode, ulaw_decode
from speech.errors import CodecError
from speech.sip.rtp import RtpPacket

__all__ = ["RtpRecorder", "speech_seconds"]


class RtpRecorder(asyncio.DatagramProtocol):
    """Collects RTP packets; ``pcm`` is the decoded audio in arrival order."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self.arrivals: list[float] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.first_packet = asyncio.Event()

    @classmethod
    async def open(cls) -> RtpRecorder:
        """Bind on 127.0.0.1, any free port."""
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return proto

    @property
    def port(self) -> int:
        """The bound port."""
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        # Python 3.10's selector datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # noqa: D102
        try:
            self.packets.append(RtpPacket.parse(data))
        except CodecError:
            return
        self.arrivals.append(asyncio.get_running_loop().time())
        self.first_packet.set()

    @property
    def pcm(self) -> bytes:
        """All received audio decoded to 16-bit PCM."""
        out = []
        for p in self.packets:
            if p.payload_type == 0:
                out.append(ulaw_decode(p.payload))
            elif p.payload_type == 8:
                out.append(alaw_decode(p.payload))
        return b"".join(out)

    def close(self) -> None:
        """Close the socket."""
        if self.transport is not None:
            self.transport.close()


def speech_seconds(pcm: bytes, threshold: int = 500) -> float:
    """Seconds of 20 ms frames whose RMS exceeds ``threshold`` (i.e. not silence)."""
    n = len(pcm) // 320
    loud = 0
    for i in range(n):
        frame = struct.unpack("<160h", pcm[i * 320 : (i + 1) * 320])
        rms = (sum(s * s for s in frame) / 160) ** 0.5
        loud += rms > threshold
    return loud * 0.02
