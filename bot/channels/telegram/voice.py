"""Voice notes: decode Telegram's OGG/Opus to 16 kHz mono PCM and transcribe it.

The recogniser is whatever object satisfies :class:`Transcriber` (the
:mod:`speech` package provides the Vosk one); the gateway publishes it under
the :data:`TRANSCRIBER` app key or passes it to ``channel_telegram.setup``.
Decoding runs ffmpeg as an asyncio subprocess, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.channels.telegram.errors import VoiceDecodeError

__all__ = ["PCM_RATE", "TRANSCRIBER", "Transcriber", "decode_to_pcm16k"]

PCM_RATE = 16_000
_DECODE_TIMEOUT_S = 60.0


@runtime_checkable
class Transcriber(Protocol):
    """Anything that turns 16 kHz mono signed 16-bit little-endian PCM into text."""

    async def transcribe(self, pcm16k: bytes) -> str:
        """Return the recognised text ("" when nothing was understood)."""
        ...


TRANSCRIBER = web.AppKey("transcriber", Transcriber)


async def decode_to_pcm16k(audio: bytes, ffmpeg: str = "ffmpeg", max_seconds: int = 120) -> bytes:
    """Decode any audio ffmpeg understands (OGG/Opus voice notes) to 16 kHz mono s16le.

    Args:
        audio: The encoded file's bytes.
        ffmpeg: Path or name of the ffmpeg executable.
        max_seconds: Audio past this point is dropped.

    Returns:
        Raw PCM samples (2 bytes each, little-endian, mono, 16 kHz).

    Raises:
        VoiceDecodeError: ffmpeg is missing, failed, timed out or produced no audio.
    """
    args = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
        "-t", str(max_seconds), "-vn", "-ac", "1", "-ar", str(PCM_RATE),
        "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
    ]  # fmt: skip
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise VoiceDecodeError(f"cannot run {ffmpeg!r}: {exc}") from exc
    try:
        pcm, err = await asyncio.wait_for(proc.communicate(audio), _DECODE_TIMEOUT_S)
    except asyncio.TimeoutError as exc:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise VoiceDecodeError("ffmpeg timed out") from exc
    stderr = err.decode("utf-8", "replace").strip()[-500:]
    if proc.returncode != 0:
        raise VoiceDecodeError("ffmpeg failed", proc.returncode, stderr)
    if not pcm:
        raise VoiceDecodeError("no audio in the voice note", proc.returncode, stderr)
    return pcm[: len(pcm) - len(pcm) % 2]
