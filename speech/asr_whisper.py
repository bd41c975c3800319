"""Offline Whisper (faster-whisper / CTranslate2) implementation of :mod:`speech.asr`.

Whisper is not a streaming recogniser: :meth:`WhisperRecognizer.accept` only
buffers 16 kHz PCM (partials are ``""``) and :meth:`WhisperRecognizer.finish`
decodes the whole utterance in the executor.  :meth:`WhisperRecognizer.speculate`
starts that decode as soon as the endpointer hears silence begin; ``finish``
reuses it when no audio arrived since.

One :class:`WhisperEngine` (one CTranslate2 model, int8) per process, loaded
off the event loop by :func:`load_whisper_model` from a local directory only.

Whisper's encoder is trained on 30 s windows and faster-whisper pads every
utterance to one, so a 3 s answer costs as much as a 30 s one.  CTranslate2's
encoder accepts shorter inputs, so the window is cut to the speech plus
:attr:`WhisperConfig.window_pad_s` of padding (:func:`trim_window`): on the
shared real clips this is 2-3x faster at the same CER (docs/voice.md).
Output is converted to simplified script (OpenCC t2s), loops such as
``好的好的好的`` are collapsed, and empty or garbage results become ``""`` so
the call flow re-asks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from speech.asr import UNKNOWN, AsrResult
from speech.errors import ModelBroken
from speech.whisper_model import check_model_dir

__all__ = [
    "DEFAULT_PROMPT",
    "HOTLINE_PROMPT",
    "WhisperConfig",
    "WhisperEngine",
    "WhisperRecognizer",
    "WhisperRecognizerFactory",
    "clean_text",
    "collapse_repeats",
    "default_cpu_threads",
    "is_garbage",
    "load_whisper_engine",
    "load_whisper_model",
    "pcm_to_float",
    "to_simplified",
    "trim_window",
]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_S = SAMPLE_RATE * 2
# Whisper's encoder sees 30 s windows; a phone utterance is cut at 30 s anyway.
MAX_SECONDS = 30.0
# Shorter than this, or quieter than this RMS (of 32768), is not decoded at all:
# Whisper tends to invent text ("谢谢观看") for near-silence and very short clips.
MIN_SECONDS = 0.3
MIN_RMS = 60.0
# Tokens a decode may generate: fast Mandarin is ~6 characters a second and a character
# is 1-2 tokens, so this bounds a decoder loop (seen: 28 s on a short fragment with the
# trimmed window) without cutting real speech.
TOKENS_PER_S = 15
MIN_TOKENS = 20
MAX_TOKENS = 400  # Whisper's 448-token context, less the prompt

# Hotline words and Beijing's 16 districts, for JIESU_WHISPER_PROMPT=hotline.  Not the
# default: on the shared real clips any prompt tried raised CER (13 % -> 19 %, see
# docs/voice.md), and it makes the decoder emit stray full-width digits and U+FFFD.
HOTLINE_PROMPT = (
    "以下是12345市民服务热线的普通话来电。"
    "噪音、投诉、举报、小区、物业、垃圾、停车、占道、施工、供暖、漏水、拖欠工资、"
    "东城区、西城区、朝阳区、海淀区、丰台区、石景山区、门头沟区、房山区、通州区、"
    "顺义区、昌平区、大兴区、怀柔区、平谷区、密云区、延庆区。"
)

DEFAULT_PROMPT = ""

# Sentences Whisper produces from silence/noise (subtitle credits seen in its training data).
_HALLUCINATIONS = (
    "字幕",
    "请不吝点赞",
    "订阅",
    "谢谢观看",
    "谢谢收看",
    "明镜与点点",
    "amara",
    "中文字幕",
    "感谢观看",
)
_CJK_OR_ALNUM = re.compile(r"[\u3400-\u9fff0-9A-Za-z]")
_SPACES = re.compile(r"[\s\ufffd]+")  # U+FFFD: a token cut inside a UTF-8 character
# Longest phrase (characters) the loop cutter looks for.
_MAX_UNIT = 12
_DIGITS = frozenset("0123456789零〇一二三四五六七八九十幺两")


def default_cpu_threads() -> int:
    """Intra-op threads for one decode: every core (measured best on 2 cores, see docs)."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WhisperConfig:
    """Decoding options (see ``benchmarks/asr_eval.py`` for their cost).

    Attributes:
        beam_size: Beam width; 1 is greedy.
        language: Whisper language code.
        initial_prompt: Text the decoder sees as prior context (vocabulary bias).
        cpu_threads: CTranslate2 intra-op threads per decode (0 = all cores).
        num_workers: Decodes the model runs in parallel.
        temperatures: Fallback temperatures when a decode looks bad (compression/logprob).
        no_speech_threshold: Segments above this no-speech probability are dropped.
        timestamps: Decode in Whisper's timestamp mode (its main training mode; without
            it the decoder more often stops after the first sentence).
        window_pad_s: Seconds of the zero padding kept after the speech in the encoder's
            window (see :func:`trim_window`); 0 keeps Whisper's full 30 s window.
    """

    beam_size: int = 5
    language: str = "zh"
    initial_prompt: str = DEFAULT_PROMPT
    cpu_threads: int = 0
    num_workers: int = 1
    temperatures: tuple[float, ...] = (0.0,)
    no_speech_threshold: float = 0.6
    timestamps: bool = True
    window_pad_s: float = 1.5


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # opencc-python-reimplemented, already a project dependency

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (Whisper often answers in traditional script)."""
    return str(_t2s().convert(text)) if text else ""


def collapse_repeats(text: str, min_repeats: int = 3) -> str:
    """Cut decoder loops: a phrase repeated ``min_repeats`` or more times in a row -> one copy.

    A single character repeated collapses to two, not one, because doubled
    characters are words (``谢谢谢谢谢谢`` -> ``谢谢``, ``哈哈哈`` -> ``哈哈``).
    Runs of digits are left alone (``13888888888`` is a phone number, not a loop).
    """
    if min_repeats < 2:
        raise ValueError("min_repeats must be at least 2")
    pattern = re.compile(rf"(.{{1,{_MAX_UNIT}}}?)\1{{{min_repeats - 1},}}", re.S)

    def one(m: re.Match[str]) -> str:
        unit = m.group(1)
        if set(unit) <= _DIGITS:
            return m.group(0)
        return unit * 2 if len(unit) == 1 else unit

    prev = None
    while prev != text:  # a cut can expose an outer loop ("AB AB AB" of "A A A B")
        prev, text = text, pattern.sub(one, text)
    return text


def is_garbage(text: str) -> bool:
    """True for text with no Chinese/alphanumeric content or a known hallucination."""
    if not _CJK_OR_ALNUM.search(text):
        return True
    low = text.lower()
    return any(h in low for h in _HALLUCINATIONS)


def clean_text(raw: str) -> str:
    """Whisper output -> transcript: simplified, no spaces or U+FFFD, loops cut, garbage -> ""."""
    text = _SPACES.sub("", to_simplified(raw))
    text = collapse_repeats(text)
    return "" if is_garbage(text) else text


def pcm_to_float(pcm16k: bytes) -> Any:
    """16-bit little-endian PCM -> float32 numpy samples in [-1, 1) (odd last byte dropped)."""
    import numpy as np

    if len(pcm16k) % 2:
        pcm16k = pcm16k[:-1]
    return np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0


def _rms(samples: Any) -> float:
    if not len(samples):
        return 0.0
    return float(math.sqrt(float((samples.astype("float64") ** 2).mean())) * 32768.0)


# faster-whisper pads a segment's log-mel features with exact zeros up to 3000 frames
# (30 s); a frame of real audio is never all zeros after its log-mel normalisation.
_FRAMES_PER_S = 100


def trim_window(features: Any, pad_frames: int) -> Any:
    """Cut the zero padding of a ``(…, 80, frames)`` log-mel window to ``pad_frames``.

    The kept length is even (the encoder's stride-2 convolution halves it) and never
    longer than the input; ``pad_frames <= 0`` returns the input unchanged.
    """
    import numpy as np

    if pad_frames <= 0:
        return features
    frames = features.shape[-1]
    energy = np.abs(features.reshape(-1, frames)).sum(axis=0)
    nonzero = np.flatnonzero(energy > 0)
    content = int(nonzero[-1]) + 1 if len(nonzero) else 0
    keep = min(frames, content + pad_frames)
    keep += keep % 2
    return features[..., : min(keep, frames)]


def _trimming_model(path: Path, config: WhisperConfig) -> Any:
    """A faster-whisper model whose encoder sees the speech plus padding, not 30 s."""
    from faster_whisper import WhisperModel  # heavy: imported on first load only

    pad_frames = int(round(config.window_pad_s * _FRAMES_PER_S))

    class TrimmedWindowModel(WhisperModel):  # type: ignore[misc]
        def encode(self, features: Any) -> Any:
            return super().encode(trim_window(features, pad_frames))

    return TrimmedWindowModel(
        str(path),
        device="cpu",
        compute_type="int8",
        cpu_threads=config.cpu_threads or default_cpu_threads(),
        num_workers=config.num_workers,
        local_files_only=True,
    )


class WhisperEngine:
    """One loaded faster-whisper model shared by every call of the process."""

    def __init__(self, model: Any, path: Path, config: WhisperConfig) -> None:
        self.model = model
        self.path = path
        self.config = config

    def decode(self, pcm16k: bytes, prompt: str | None = None) -> str:
        """Blocking: decode one utterance of 16 kHz 16-bit mono PCM to a clean transcript.

        Audio that is too short or silent is not decoded; any engine failure is
        logged and gives ``""`` (the flow re-asks rather than dropping the call).
        """
        samples = pcm_to_float(pcm16k[: int(MAX_SECONDS * BYTES_PER_S)])
        if len(samples) < MIN_SECONDS * SAMPLE_RATE or _rms(samples) < MIN_RMS:
            return ""
        cfg = self.config
        budget = min(MAX_TOKENS, MIN_TOKENS + int(TOKENS_PER_S * len(samples) / SAMPLE_RATE))
        try:
            segments, _info = self.model.transcribe(
                samples,
                language=cfg.language,
                beam_size=cfg.beam_size,
                temperature=list(cfg.temperatures),
                initial_prompt=prompt if prompt is not None else cfg.initial_prompt or None,
                condition_on_previous_text=False,
                without_timestamps=not cfg.timestamps,
                no_speech_threshold=cfg.no_speech_threshold,
                vad_filter=False,
                max_new_tokens=budget,
            )
            texts = [s.text for s in segments if s.no_speech_prob <= cfg.no_speech_threshold]
        except Exception:  # CTranslate2/tokenizer errors must not end the call
            log.exception("whisper decode failed (%d bytes of audio)", len(pcm16k))
            return ""
        return clean_text("".join(texts))


def load_whisper_engine(path: Path, config: WhisperConfig) -> WhisperEngine:
    """Blocking load of a checked model directory (use :func:`load_whisper_model` on a loop)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach a model hub, whatever the caller set
    try:
        model = _trimming_model(path, config)
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
        raise ModelBroken(f"faster-whisper could not load the model: {exc}", str(path)) from exc
    return WhisperEngine(model, path, config)


async def load_whisper_model(
    path: str | Path, config: WhisperConfig | None = None, executor: Executor | None = None
) -> WhisperEngine:
    """Check and load a local model directory without blocking the event loop.

    Raises:
        ModelNotFound: The directory lacks model files.
        ModelBroken: CTranslate2 cannot load them.
    """
    p = check_model_dir(path)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, load_whisper_engine, p, config or WhisperConfig())


def _grammar_prompt(base: str, grammar: Sequence[str] | None) -> str | None:
    """The prompt for a turn: short-answer phrases (if any) are appended as vocabulary."""
    phrases = [g for g in grammar or () if g and g != UNKNOWN]
    if not phrases:
        return None
    return base + "回答：" + "、".join(phrases) + "。"


@dataclass
class _Speculation:
    size: int
    future: asyncio.Future[str]
    started: float = field(default_factory=time.perf_counter)


class WhisperRecognizer:
    """One call's recogniser: buffers an utterance, decodes it at the end (or on silence)."""

    def __init__(self, engine: WhisperEngine, executor: Executor | None = None) -> None:
        self._engine = engine
        self._executor = executor
        self._buf = bytearray()
        self._prompt: str | None = None
        self._spec: _Speculation | None = None
        self._limit = int(MAX_SECONDS * BYTES_PER_S)

    async def start(self, grammar: list[str] | None = None) -> None:
        """Begin an utterance; grammar phrases only bias the prompt (Whisper has no grammar)."""
        self._buf.clear()
        self._spec = None
        self._prompt = _grammar_prompt(self._engine.config.initial_prompt, grammar)

    async def accept(self, pcm16k: bytes) -> str:
        """Buffer a chunk (up to 30 s); Whisper has no partial results, so return ``""``."""
        room = self._limit - len(self._buf)
        if room > 0:
            self._buf += pcm16k[:room]
        return ""

    def speculate(self) -> None:
        """Start decoding what is buffered now (call when silence begins).

        :meth:`finish` reuses the result if no audio arrived since; otherwise it is
        discarded.  Needs a running event loop.
        """
        if self._spec is not None and self._spec.size == len(self._buf):
            return
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(
            self._executor, self._engine.decode, bytes(self._buf), self._prompt
        )
        self._spec = _Speculation(len(self._buf), fut)

    @property
    def buffered_s(self) -> float:
        """Seconds of audio in the current utterance."""
        return len(self._buf) / BYTES_PER_S

    async def finish(self) -> AsrResult:
        """Decode the utterance in the executor; ``""`` for silence, noise or errors."""
        spec, self._spec = self._spec, None
        t0 = time.perf_counter()
        if spec is not None and spec.size == len(self._buf):
            text = await spec.future
            return AsrResult(text, (), time.perf_counter() - spec.started)
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(
            self._executor, self._engine.decode, bytes(self._buf), self._prompt
        )
        return AsrResult(text, (), time.perf_counter() - t0)

    async def close(self) -> None:
        """Drop the buffer (the model stays loaded for other calls)."""
        self._buf.clear()
        self._spec = None


class WhisperRecognizerFactory:
    """Shares one :class:`WhisperEngine`; creates one :class:`WhisperRecognizer` per call."""

    def __init__(self, engine: WhisperEngine, executor: Executor | None = None) -> None:
        self.engine = engine
        self._executor = executor

    @property
    def conversation_capacity(self) -> int:
        """Calls this model can serve at once: two per core (measured in docs/voice.md)."""
        return 2 * default_cpu_threads()

    def with_config(self, **changes: Any) -> WhisperRecognizerFactory:
        """A factory on the same model with other decoding options (beam size, prompt).

        The encoder window and the threads are the loaded model's and do not change.
        """
        engine = WhisperEngine(
            self.engine.model, self.engine.path, replace(self.engine.config, **changes)
        )
        return WhisperRecognizerFactory(engine, self._executor)

    def create(self) -> WhisperRecognizer:
        """Return a recogniser for a new call."""
        return WhisperRecognizer(self.engine, self._executor)
