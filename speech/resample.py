"""Sample-rate conversion of 16-bit mono PCM (8 kHz <-> 16 kHz and TTS rates)."""

from __future__ import annotations

from typing import Any

from speech._audioop import audioop
from speech.errors import CodecError

__all__ = ["Resampler", "resample"]


class Resampler:
    """Streaming converter that keeps filter state between chunks.

    Use one per direction per call, so chunk boundaries do not click.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise CodecError(f"bad rates {src_rate} -> {dst_rate}")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._state: Any = None

    def convert(self, pcm: bytes) -> bytes:
        """Convert one chunk of 16-bit mono PCM."""
        if len(pcm) % 2:
            raise CodecError(f"16-bit PCM needs an even byte count, got {len(pcm)}")
        if self.src_rate == self.dst_rate or not pcm:
            return pcm
        out, self._state = audioop.ratecv(pcm, 2, 1, self.src_rate, self.dst_rate, self._state)
        return bytes(out)


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Convert a whole buffer of 16-bit mono PCM from ``src_rate`` to ``dst_rate``."""
    return Resampler(src_rate, dst_rate).convert(pcm)
