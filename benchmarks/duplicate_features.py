"""Pair features of a labelled pair set (shared by ``duplicate_tune.py`` and ``duplicate_eval.py``).

A pair is *gated* when both sides have the same category and the same place (the matcher's
first two rules); only gated pairs get features, the others are "not the same" whatever
the text says.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from duplicate_eval import report_of  # noqa: E402

from nlu.pair_model import EMBEDDER_OF_FEATURE, FEATURES, pair_features  # noqa: E402
from nlu.similarity import CharTfidfEmbedder, Embedder, encoder_embedder  # noqa: E402
from tickets.duplicates import problem_text, same_place  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
EVAL_PAIRS = DATA / "duplicate_pairs.jsonl"
TUNE_PAIRS = DATA / "duplicate_pairs_tune.jsonl"


@dataclass
class FeatureTable:
    """Per pair: label, gate, leaf, the two compared texts, each feature (NaN where not gated)."""

    labels: np.ndarray
    gate: np.ndarray
    leaves: list[str]
    values: dict[str, np.ndarray]
    texts: list[tuple[str, str]]


def embedders(names: Sequence[str] = ("tfidf", "use", "e5")) -> dict[str, Embedder]:
    """The embedders of the cosine features that can run here (missing packages left out)."""
    out: dict[str, Embedder] = {}
    for feature in names:
        if feature == "tfidf":
            out[feature] = CharTfidfEmbedder()
        else:
            embedder = encoder_embedder(EMBEDDER_OF_FEATURE[feature])
            if embedder is not None:
                out[feature] = embedder
    return out


def feature_table(
    pairs: Sequence[dict[str, Any]], by_feature: dict[str, Embedder], strip: bool = True
) -> FeatureTable:
    """Features of every gated pair; ``strip=False`` compares the raw descriptions."""
    features = [f for f in FEATURES if f not in EMBEDDER_OF_FEATURE or f in by_feature]
    texts: list[tuple[str, str]] = []
    gate, leaves = [], []
    for pair in pairs:
        a, b = report_of(pair["a"]), report_of(pair["b"])
        gate.append(a.service_code == b.service_code and same_place(a.place, b.place))
        leaves.append(pair["a"]["category"])
        if strip:
            texts.append(
                (problem_text(a.description, a.address), problem_text(b.description, b.address))
            )
        else:
            texts.append((a.description, b.description))
    unique = sorted({t for pair_texts in texts for t in pair_texts})
    for name, embedder in by_feature.items():
        if name != "tfidf":
            embedder.embed(unique)  # fills the per-process memo in one batch
    values = {f: np.full(len(pairs), np.nan) for f in features}
    for i, ((ta, tb), ok) in enumerate(zip(texts, gate, strict=True)):
        if ok:
            row = pair_features(leaves[i], ta, [tb], by_feature, features)
            for f in features:
                values[f][i] = float(row[f][0])
    labels = np.array([bool(p["same"]) for p in pairs])
    return FeatureTable(labels, np.array(gate), leaves, values, texts)
