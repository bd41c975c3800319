"""Transcribe one audio file with the phone channel's recogniser.

``jiesu speech transcribe FILE [--json] [--engine auto|vosk|whisper]`` (wired
by ``bot/cli.py``) or ``python -m speech.transcribe FILE``.  WAV of any rate,
width and channel count is read with :mod:`wave` and
:mod:`speech.resample`; anything else (OGG/Opus Telegram voice notes, MP3,
M4A) is decoded with PyAV, which faster-whisper already installs.  The audio is
fed through the :class:`speech.asr.Recognizer` protocol in 20 ms chunks, the
way a call feeds it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
import wave
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from speech._audioop import audioop
from speech.asr import RecognizerFactory
from speech.asr_engine import build_recognizer_factory, resolve_engine, shared_recognizer_factory
from speech.errors import CodecError, SpeechError
from speech.resample import resample
from speech.settings import AsrEngine, PhoneSettings, from_env

__all__ = [
    "PIECE_SECONDS",
    "SharedTranscriber",
    "cer",
    "edit_distance",
    "load_audio",
    "main",
    "normalise_for_cer",
    "transcribe_file",
    "transcribe_pcm",
]

SAMPLE_RATE = 16000
CHUNK_BYTES = 640  # 20 ms at 16 kHz, as RTP delivers it
_SCORED = re.compile(r"[\u3400-\u9fff0-9a-z]")


def normalise_for_cer(text: str) -> str:
    """Scoring form: simplified, lower-case, only CJK/digits/letters, numerals as digits."""
    import cn2an

    from speech.asr_whisper import to_simplified

    text = "".join(_SCORED.findall(to_simplified(text).lower()))
    try:
        return str(cn2an.transform(text, "cn2an"))
    except Exception:  # cn2an rejects a few odd numeral runs; score those unconverted
        return text


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of one transcript after :func:`normalise_for_cer`."""
    ref = normalise_for_cer(reference)
    return edit_distance(ref, normalise_for_cer(hypothesis)) / max(1, len(ref))


def _read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        if w.getcomptype() != "NONE":
            raise CodecError(f"compressed WAV ({w.getcompname()}) is not supported")
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        pcm = w.readframes(w.getnframes())
    if width == 1:  # 8-bit WAV is unsigned
        pcm = audioop.bias(pcm, 1, -128)
    if width != 2:
        pcm = audioop.lin2lin(pcm, width, 2)
    if channels == 2:
        pcm = audioop.tomono(pcm, 2, 0.5, 0.5)
    elif channels != 1:
        raise CodecError(f"{channels}-channel WAV is not supported")
    return resample(pcm, rate, SAMPLE_RATE)


def _read_av(path: Path) -> bytes:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av comes with faster-whisper
        raise CodecError(f"cannot decode {path.suffix} without PyAV (pip install av)") from exc
    out = bytearray()
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise CodecError(f"{path} has no audio stream")
            resampler: Any = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for f in resampler.resample(frame):
                    out += f.to_ndarray().tobytes()
            for f in resampler.resample(None):
                out += f.to_ndarray().tobytes()
    except av.FFmpegError as exc:
        raise CodecError(f"cannot decode {path}: {exc}") from exc
    return bytes(out)


def load_audio(path: str | Path) -> bytes:
    """Read an audio file as 16 kHz 16-bit mono PCM.

    Raises:
        CodecError: Unreadable, unsupported or corrupt audio.
        FileNotFoundError: No such file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(str(p))
    with p.open("rb") as fh:
        head = fh.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        try:
            return _read_wav(p)
        except (wave.Error, EOFError, audioop.error) as exc:
            raise CodecError(f"bad WAV {p}: {exc}") from exc
    return _read_av(p)


async def transcribe_pcm(factory: RecognizerFactory, pcm16k: bytes) -> str:
    """Run one utterance through a recogniser made by ``factory``."""
    rec = factory.create()
    try:
        await rec.start()
        for i in range(0, len(pcm16k), CHUNK_BYTES):
            await rec.accept(pcm16k[i : i + CHUNK_BYTES])
        return (await rec.finish()).text
    finally:
        await rec.close()


#: Whisper sees at most 30 s per decode: longer audio is decoded in pieces of this length.
PIECE_SECONDS = 25


class SharedTranscriber:
    """Voice notes (Telegram) through the process's shared recogniser, loaded on first use.

    Satisfies ``bot.channels.telegram.voice.Transcriber``.  Audio longer than one decoding
    window is cut into :data:`PIECE_SECONDS` pieces whose transcripts are joined.
    """

    def __init__(self, settings: PhoneSettings | None = None) -> None:
        self.settings = settings or from_env(os.environ)

    async def transcribe(self, pcm16k: bytes) -> str:
        factory = await shared_recognizer_factory(self.settings)
        step = PIECE_SECONDS * 16_000 * 2
        texts = []
        for i in range(0, len(pcm16k), step):
            text = (await transcribe_pcm(factory, pcm16k[i : i + step])).strip()
            if text:
                texts.append(text)
        return "，".join(texts)


def transcribe_file(
    path: str | Path,
    engine: str | AsrEngine | None = None,
    model: str | None = None,
    beam_size: int | None = None,
    settings: PhoneSettings | None = None,
) -> dict[str, Any]:
    """Transcribe ``path``; return ``{"text", "engine", "seconds"}``.

    ``seconds`` is the audio's duration; ``decode_s`` (also in the dict) the
    wall time to load the model and decode.  Settings default to the
    environment (``JIESU_ASR_ENGINE``, ``JIESU_WHISPER_MODEL`` ...).

    Raises:
        CodecError: The file cannot be decoded.
        ModelError: The engine's model is missing or broken.
    """
    s = settings or from_env(os.environ)
    if engine is not None:
        s = replace(s, asr_engine=AsrEngine(engine))
    if model:
        s = replace(s, whisper_model=model)
    if beam_size:
        s = replace(s, whisper_beam_size=beam_size)
    pcm = load_audio(path)

    async def run() -> str:
        factory = await build_recognizer_factory(s)
        return await transcribe_pcm(factory, pcm)

    t0 = time.perf_counter()
    text = asyncio.run(run())
    return {
        "text": text,
        "engine": resolve_engine(s).value,
        "seconds": round(len(pcm) / (2 * SAMPLE_RATE), 3),
        "decode_s": round(time.perf_counter() - t0, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``transcribe FILE [--json] [--engine E] [--model M] [--beam N]``; 0 on success."""
    p = argparse.ArgumentParser(prog="jiesu speech transcribe", description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--engine", choices=[e.value for e in AsrEngine], default=None)
    p.add_argument("--model", help="Whisper model: base, small or a directory")
    p.add_argument("--beam", type=int, default=None, help="Whisper beam size")
    args = p.parse_args(argv)
    try:
        result = transcribe_file(args.file, args.engine, args.model, args.beam)
    except (SpeechError, FileNotFoundError) as exc:
        print(f"transcribe: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(result["text"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
