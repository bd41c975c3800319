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

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_EMBEDDER",
    "DUPLICATE_THRESHOLDS",
    "CharTfidfEmbedder",
    "Embedder",
    "cosine_matrix",
    "duplicate_threshold",
]

#: Cosine similarity at or above which two problem descriptions are "the same problem",
#: per embedder name: the lowest threshold with precision >= 0.95 on the labelled pair set
#: (``benchmarks/data/duplicate_pairs.jsonl``; ``benchmarks/duplicate_eval.py`` prints it).
DUPLICATE_THRESHOLDS: dict[str, float] = {
    "char-tfidf": 0.12,
    "use-multilingual": 0.58,
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
