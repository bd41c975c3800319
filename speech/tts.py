"""Text-to-speech: pluggable engine, espeak-ng default, prompt cache.

:class:`Tts` normalises text (:mod:`speech.tts_text`), looks it up in a
:class:`PromptCache` (in-memory LRU in front of an optional directory), and
on a miss runs the engine.  Output is always 16-bit mono PCM at 8 kHz, the
call codec's rate.  espeak-ng runs as an asyncio subprocess.

The default voice is ``cmn-latn-pinyin``: in Debian's espeak-ng 1.51 the
``cmn`` voice (also picked by ``zh``) turns characters into pinyin with tone
digits and then reads that Latin text *as English* (您好 -> "nin two hao
three"); ``cmn-latn-pinyin`` reads the same pinyin as Mandarin.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from speech.errors import TtsError
from speech.resample import resample
from speech.tts_text import normalise_for_speech

__all__ = ["EspeakEngine", "PromptCache", "Tts", "TtsEngine", "parse_wav", "trim_leading_silence"]

OUT_RATE = 8000
# espeak-ng starts some sentences with up to ~40 ms of (near) digital silence; sending
# it only delays the first audible packet.  |sample| <= this is silence (-72 dBFS).
SILENCE_AMPLITUDE = 8


def trim_leading_silence(pcm: bytes, amplitude: int = SILENCE_AMPLITUDE) -> bytes:
    """Drop leading 16-bit samples whose magnitude is at most ``amplitude``."""
    samples = memoryview(pcm)[: len(pcm) // 2 * 2].cast("h")
    for i, x in enumerate(samples):
        if abs(x) > amplitude:
            return pcm[i * 2 :]
    return b""


class TtsEngine(Protocol):
    """Turns text into 16-bit mono PCM."""

    @property
    def cache_key(self) -> str:
        """Identity of the voice/settings (part of the cache key)."""
        ...

    async def synthesize(self, text: str) -> tuple[bytes, int]:
        """Return (16-bit mono PCM, sample rate) for ``text``."""
        ...


def parse_wav(data: bytes) -> tuple[bytes, int]:
    """Return (PCM, rate) from a 16-bit mono WAV, tolerating streamed headers.

    espeak-ng writes placeholder sizes when writing to a pipe, so the data
    chunk is taken to the end of the buffer.
    """
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("engine output is not a WAV file")
    pos = 12
    rate = 0
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if cid == b"fmt ":
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
            bits = int.from_bytes(data[body + 14 : body + 16], "little")
            if channels != 1 or bits != 16:
                raise TtsError(f"need 16-bit mono WAV, got {channels} ch {bits} bit")
        elif cid == b"data":
            pcm = data[body:]
            if size < len(pcm):
                pcm = pcm[:size]
            return pcm[: len(pcm) // 2 * 2], rate
        pos = body + size + (size & 1)
    raise TtsError("WAV has no data chunk")


class EspeakEngine:
    """espeak-ng run as an asyncio subprocess (one process per sentence, ~20 ms)."""

    def __init__(
        self, voice: str = "cmn-latn-pinyin", speed_wpm: int = 165, binary: str = "espeak-ng"
    ) -> None:
        self.voice = voice
        self.speed_wpm = speed_wpm
        self.binary = binary

    @property
    def cache_key(self) -> str:
        """Voice and speed."""
        return f"espeak-ng:{self.voice}:{self.speed_wpm}"

    async def synthesize(self, text: str) -> tuple[bytes, int]:
        """Run espeak-ng and return its PCM at its native rate (22050 Hz)."""
        exe = shutil.which(self.binary)
        if exe is None:
            raise TtsError(f"{self.binary} not found; install the espeak-ng package")
        proc = await asyncio.create_subprocess_exec(
            exe, "-v", self.voice, "-s", str(self.speed_wpm), "--stdout", "--", text,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise TtsError(f"espeak-ng exited {proc.returncode}: {err.decode(errors='replace')}")
        pcm, rate = parse_wav(out)
        if not pcm:
            raise TtsError(f"espeak-ng produced no audio for {text!r}")
        return pcm, rate


class PromptCache:
    """LRU of synthesised prompts in memory, backed by an optional directory.

    Disk reads and writes run in the default executor.
    """

    def __init__(self, max_items: int = 512, directory: Path | None = None) -> None:
        self.max_items = max_items
        self.directory = directory
        self._mem: OrderedDict[str, bytes] = OrderedDict()

    @staticmethod
    def key(engine_key: str, text: str) -> str:
        """Cache key for a text spoken by an engine configuration."""
        return hashlib.sha256(f"{engine_key}\n{text}".encode()).hexdigest()

    def get_memory(self, key: str) -> bytes | None:
        """Synchronous in-memory lookup (the fast path)."""
        pcm = self._mem.get(key)
        if pcm is not None:
            self._mem.move_to_end(key)
        return pcm

    def _put_memory(self, key: str, pcm: bytes) -> None:
        self._mem[key] = pcm
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_items:
            self._mem.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        """Look up memory, then disk."""
        pcm = self.get_memory(key)
        if pcm is not None or self.directory is None:
            return pcm
        path = self.directory / f"{key}.pcm"
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, _read_or_none, path)
        if data is not None:
            self._put_memory(key, data)
        return data

    async def put(self, key: str, pcm: bytes) -> None:
        """Store in memory and (atomically) on disk."""
        self._put_memory(key, pcm)
        if self.directory is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, _write_atomic, self.directory / f"{key}.pcm", pcm)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class Tts:
    """Normalise, cache and synthesise prompts as 8 kHz 16-bit PCM."""

    def __init__(self, engine: TtsEngine, cache: PromptCache | None = None) -> None:
        self.engine = engine
        self.cache = cache or PromptCache()
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    async def synthesize(self, text: str) -> bytes:
        """Return 8 kHz PCM for ``text`` (cached; concurrent misses share one run)."""
        spoken = normalise_for_speech(text)
        if not spoken:
            return b""
        key = PromptCache.key(self.engine.cache_key, spoken)
        hit = await self.cache.get(key)
        if hit is not None:
            return hit
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            pcm, rate = await self.engine.synthesize(spoken)
            out = trim_leading_silence(resample(pcm, rate, OUT_RATE))
            await self.cache.put(key, out)
            fut.set_result(out)
            return out
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[key]

    async def warm(self, texts: list[str]) -> None:
        """Synthesise fixed prompts ahead of the first call."""
        for text in texts:
            await self.synthesize(text)
