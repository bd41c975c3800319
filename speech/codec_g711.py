"""G.711 µ-law (PCMU) and A-law (PCMA) <-> 16-bit little-endian PCM at 8 kHz."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from speech._audioop import audioop
from speech.errors import CodecError

__all__ = [
    "CODECS",
    "Codec",
    "PCMA",
    "PCMU",
    "alaw_decode",
    "alaw_encode",
    "codec_by_name",
    "ulaw_decode",
    "ulaw_encode",
]


def _checked(pcm: bytes) -> bytes:
    if len(pcm) % 2:
        raise CodecError(f"16-bit PCM needs an even byte count, got {len(pcm)}")
    return pcm


def ulaw_encode(pcm: bytes) -> bytes:
    """Encode 16-bit PCM to µ-law (one byte per sample)."""
    return audioop.lin2ulaw(_checked(pcm), 2)


def ulaw_decode(data: bytes) -> bytes:
    """Decode µ-law to 16-bit PCM."""
    return audioop.ulaw2lin(data, 2)


def alaw_encode(pcm: bytes) -> bytes:
    """Encode 16-bit PCM to A-law (one byte per sample)."""
    return audioop.lin2alaw(_checked(pcm), 2)


def alaw_decode(data: bytes) -> bytes:
    """Decode A-law to 16-bit PCM."""
    return audioop.alaw2lin(data, 2)


@dataclass(frozen=True)
class Codec:
    """An RTP audio codec with a static payload type.

    Attributes:
        name: The SDP encoding name (``PCMU``/``PCMA``).
        payload_type: The static RTP payload type (0 or 8).
        clock_rate: Samples per second.
        encode: 16-bit PCM -> payload bytes.
        decode: Payload bytes -> 16-bit PCM.
        silence: One encoded byte of digital silence.
    """

    name: str
    payload_type: int
    clock_rate: int
    encode: Callable[[bytes], bytes]
    decode: Callable[[bytes], bytes]
    silence: bytes


PCMU = Codec("PCMU", 0, 8000, ulaw_encode, ulaw_decode, b"\xff")
PCMA = Codec("PCMA", 8, 8000, alaw_encode, alaw_decode, b"\xd5")
CODECS: tuple[Codec, ...] = (PCMU, PCMA)


def codec_by_name(name: str) -> Codec:
    """Return the codec called ``name`` (case-insensitive).

    Raises:
        CodecError: For any codec other than PCMU and PCMA.
    """
    for codec in CODECS:
        if codec.name.lower() == name.lower():
            return codec
    raise CodecError(f"unsupported codec {name!r}")
