"""RTP packets (RFC 3550) and telephone-events (RFC 4733), pure functions."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from speech.errors import CodecError

__all__ = ["DTMF_EVENTS", "DtmfDetector", "DtmfEvent", "RtpPacket", "build_dtmf_packets"]

DTMF_EVENTS = "0123456789*#ABCD"


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet (no CSRC/extension output; both are skipped on input)."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        """Serialise with version 2, no padding/extension/CSRC."""
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        head = struct.pack(
            "!BBHII", 0x80, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc
        )
        return head + self.payload

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse a datagram.

        Raises:
            CodecError: Not RTP version 2, or truncated.
        """
        if len(data) < 12 or data[0] >> 6 != 2:
            raise CodecError("not an RTP v2 packet")
        b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
        pos = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if len(data) < pos + 4:
                raise CodecError("truncated RTP extension")
            pos += 4 + 4 * struct.unpack("!H", data[pos + 2 : pos + 4])[0]
        end = len(data)
        if b0 & 0x20 and end > pos:  # padding
            end -= data[-1]
        if pos > end:
            raise CodecError("truncated RTP packet")
        return cls(b1 & 0x7F, seq, ts, ssrc, data[pos:end], bool(b1 & 0x80))


@dataclass(frozen=True)
class DtmfEvent:
    """An RFC 4733 telephone-event payload."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str:
        """The key (``0-9 * # A-D``), or ``""`` for non-DTMF events."""
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else ""

    @classmethod
    def parse(cls, payload: bytes) -> DtmfEvent:
        """Parse the 4-byte payload.

        Raises:
            CodecError: Shorter than 4 bytes.
        """
        if len(payload) < 4:
            raise CodecError("telephone-event payload shorter than 4 bytes")
        event, flags, duration = struct.unpack("!BBH", payload[:4])
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def to_bytes(self) -> bytes:
        """Serialise the 4-byte payload."""
        return struct.pack(
            "!BBH", self.event, (0x80 if self.end else 0) | self.volume, self.duration
        )


class DtmfDetector:
    """Turns a telephone-event packet stream into key presses.

    A key is reported once, on its first packet, keyed by RTP timestamp (all
    packets of one event share it; the end packet is sent three times).
    """

    def __init__(self) -> None:
        self._last_ts: int | None = None

    def feed(self, packet: RtpPacket) -> str | None:
        """Return the digit when ``packet`` starts a new event, else None."""
        try:
            ev = DtmfEvent.parse(packet.payload)
        except CodecError:
            return None
        if packet.timestamp == self._last_ts or not ev.digit:
            return None
        self._last_ts = packet.timestamp
        return ev.digit


def build_dtmf_packets(
    digit: str, payload_type: int, seq: int, timestamp: int, ssrc: int, duration_ms: int = 100
) -> list[RtpPacket]:
    """Build the packets of one key press (updates every 20 ms, end packet x3)."""
    event = DTMF_EVENTS.index(digit)
    steps = max(1, duration_ms // 20)
    out: list[RtpPacket] = []
    for i in range(1, steps + 1):
        ev = DtmfEvent(event, i == steps, 10, i * 160)
        for _ in range(3 if i == steps else 1):
            out.append(RtpPacket(payload_type, seq, timestamp, ssrc, ev.to_bytes(), i == 1))
            seq += 1
    return out
