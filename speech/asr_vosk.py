"""Vosk (Kaldi) implementation of :mod:`speech.asr`.

One :class:`vosk.Model` per process, loaded off the event loop by
:func:`load_vosk_model`; one :class:`vosk.KaldiRecognizer` per call.  Every
decoder call runs in an executor through the pure step :func:`decode_chunk`.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from speech.asr import AsrResult, Word
from speech.errors import ModelBroken, ModelNotFound, RecognizerError

__all__ = [
    "VoskModel",
    "VoskRecognizer",
    "VoskRecognizerFactory",
    "check_model_dir",
    "decode_chunk",
    "load_vosk_model",
    "parse_result",
]

SAMPLE_RATE = 16000
# Files every Vosk model has; the graph is either static (HCLG) or dynamic (HCLr+Gr).
_REQUIRED = ("am/final.mdl", "conf/model.conf")
_GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))


def check_model_dir(path: str | Path | None) -> Path:
    """Check that ``path`` looks like a Vosk model directory.

    Returns:
        The directory as a :class:`Path`.

    Raises:
        ModelNotFound: When the path is unset, missing, or lacks model files.
    """
    if not path:
        raise ModelNotFound("JIESU_VOSK_MODEL is not set", "<unset>")
    p = Path(path)
    if not p.is_dir():
        raise ModelNotFound("Vosk model directory does not exist", str(p))
    missing = [f for f in _REQUIRED if not (p / f).is_file()]
    if not any(all((p / g).is_file() for g in graph) for graph in _GRAPHS):
        missing.append("graph/HCLG.fst or graph/HCLr.fst+Gr.fst")
    if missing:
        raise ModelNotFound(f"not a Vosk model, missing {', '.join(missing)}", str(p))
    return p


class VoskModel:
    """A loaded model plus whether it accepts runtime grammars."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model = model
        self.path = path
        # Only models with a dynamic graph (small models: HCLr+Gr) honour grammars.
        self.supports_grammar = (path / "graph" / "Gr.fst").is_file()


def _load_blocking(path: Path) -> VoskModel:
    import vosk  # heavy native library: imported on first use, not at module import

    vosk.SetLogLevel(-1)
    try:
        return VoskModel(vosk.Model(str(path)), path)
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelBroken(f"Vosk could not load the model: {exc}", str(path)) from exc


async def load_vosk_model(path: str | Path | None, executor: Executor | None = None) -> VoskModel:
    """Check and load a model without blocking the event loop.

    Raises:
        ModelNotFound: The directory is unset/missing/incomplete.
        ModelBroken: Vosk failed to load the files.
    """
    p = check_model_dir(path)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, _load_blocking, p)


def parse_result(raw: str) -> tuple[str, tuple[Word, ...]]:
    """Parse a Vosk ``Result()``/``FinalResult()`` JSON string into text and words."""
    data = json.loads(raw or "{}")
    words = tuple(
        Word(
            str(w.get("word", "")),
            float(w.get("start", 0)),
            float(w.get("end", 0)),
            float(w.get("conf", 1.0)),
        )
        for w in data.get("result", [])
    )
    text = str(data.get("text", "")).replace(" ", "")
    return text, words


def decode_chunk(rec: Any, pcm16k: bytes) -> tuple[str, str | None]:
    """Feed one chunk; return (partial text, finished-segment JSON or None).

    The pure blocking step run in the executor.  Vosk may close a segment on
    its own endpointing; the caller keeps such segments.
    """
    if rec.AcceptWaveform(pcm16k):
        return "", rec.Result()
    partial = json.loads(rec.PartialResult() or "{}").get("partial", "")
    return str(partial).replace(" ", ""), None


class VoskRecognizer:
    """One call's recogniser: a single :class:`vosk.KaldiRecognizer`, reset per utterance."""

    def __init__(self, model: VoskModel, executor: Executor | None = None) -> None:
        self._model = model
        self._executor = executor
        self._rec: Any = None
        self._grammar: list[str] | None = None
        self._segments: list[str] = []
        self._decode_s = 0.0
        self._lock = asyncio.Lock()

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except Exception as exc:
            raise RecognizerError(f"Vosk decode failed: {exc}") from exc
        finally:
            self._decode_s += time.perf_counter() - t0

    def _prepare(self, grammar: list[str] | None) -> None:
        import vosk

        if not self._model.supports_grammar:
            grammar = None
        if self._rec is None or grammar != self._grammar:
            # A new grammar means a new decoding graph: replace the call's recogniser.
            args: list[Any] = [self._model.model, SAMPLE_RATE]
            if grammar:
                args.append(json.dumps(grammar, ensure_ascii=False))
            self._rec = vosk.KaldiRecognizer(*args)
            self._rec.SetWords(True)
            self._grammar = grammar
        else:
            self._rec.Reset()

    async def start(self, grammar: list[str] | None = None) -> None:
        """Begin an utterance (grammar applies only to dynamic-graph models)."""
        async with self._lock:
            self._segments = []
            self._decode_s = 0.0
            await self._run(self._prepare, grammar)

    async def accept(self, pcm16k: bytes) -> str:
        """Decode a chunk in the executor; return the partial transcript."""
        async with self._lock:
            partial, segment = await self._run(decode_chunk, self._rec, pcm16k)
            if segment is not None:
                text, _ = parse_result(segment)
                if text:
                    self._segments.append(segment)
            return "".join(parse_result(s)[0] for s in self._segments) + partial

    async def finish(self) -> AsrResult:
        """Flush the decoder and return the whole utterance."""
        async with self._lock:
            final = await self._run(self._rec.FinalResult)
            texts: list[str] = []
            words: list[Word] = []
            for raw in (*self._segments, final):
                text, ws = parse_result(raw)
                texts.append(text)
                words.extend(ws)
            text = "".join(texts).replace("[unk]", "")
            return AsrResult(text, tuple(words), self._decode_s)

    async def close(self) -> None:
        """Drop the native recogniser."""
        self._rec = None


class VoskRecognizerFactory:
    """Shares one :class:`VoskModel`; creates one :class:`VoskRecognizer` per call."""

    def __init__(self, model: VoskModel, executor: Executor | None = None) -> None:
        self.model = model
        self._executor = executor

    def create(self) -> VoskRecognizer:
        """Return a recogniser for a new call."""
        return VoskRecognizer(self.model, self._executor)
