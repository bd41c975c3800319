"""The shared encoder instances (one per process, created on first use)."""

from __future__ import annotations

import threading

from ._cache import MemoEncoder
from ._protocol import EncoderError, SentenceEncoder
from ._use import UseEncoder

__all__ = ["default_encoder", "encoder_by_name"]

_FACTORIES = {UseEncoder.NAME: UseEncoder}
_INSTANCES: dict[str, SentenceEncoder] = {}
_LOCK = threading.Lock()


def encoder_by_name(name: str) -> SentenceEncoder:
    """The shared instance of a named encoder.

    Args:
        name: An encoder name (``"use-m3"``).

    Returns:
        The encoder (weights not yet read), remembering its last 256 texts' vectors.

    Raises:
        EncoderError: If no encoder has that name.
    """
    with _LOCK:
        encoder = _INSTANCES.get(name)
        if encoder is None:
            factory = _FACTORIES.get(name)
            if factory is None:
                raise EncoderError(f"unknown sentence encoder {name!r}", name)
            encoder = MemoEncoder(factory())
            _INSTANCES[name] = encoder
        return encoder


def default_encoder() -> SentenceEncoder:
    """The encoder the category model is trained with (USE multilingual v3).

    Returns:
        The shared instance; its weights load on the first ``encode``.
    """
    return encoder_by_name(UseEncoder.NAME)
