"""A small per-process memo of recent vectors, so a text is embedded once.

The classifying turn asks for the same text's vector twice (category and request type);
duplicate matching may ask a third time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ._protocol import EncoderInfo, SentenceEncoder

__all__ = ["MemoEncoder"]


class MemoEncoder:
    """Wraps an encoder; remembers the vectors of the last ``size`` distinct texts.

    Args:
        inner: The encoder doing the work.
        size: How many texts to remember.
    """

    def __init__(self, inner: SentenceEncoder, size: int = 256) -> None:
        self._inner = inner
        self._size = size
        self._memo: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def info(self) -> EncoderInfo:
        """The wrapped encoder's identity."""
        return self._inner.info

    def load(self) -> None:
        """Load the wrapped encoder's weights now, if it supports that."""
        load = getattr(self._inner, "load", None)
        if callable(load):
            load()

    def encode(self, texts: list[str]) -> Any:
        """Vectors of ``texts``; only those not seen recently go to the encoder.

        Args:
            texts: Raw texts.

        Returns:
            A ``(len(texts), dim)`` float32 array of unit rows.
        """
        import numpy as np

        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
            for t in known:
                self._memo.move_to_end(t)
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = self._inner.encode(todo)
            with self._lock:
                for text, vector in zip(todo, fresh, strict=True):
                    known[text] = vector
                    self._memo[text] = vector
                    while len(self._memo) > self._size:
                        self._memo.popitem(last=False)
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        return np.vstack([known[t] for t in texts]).astype(np.float32, copy=False)
