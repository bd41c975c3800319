"""Same problem or not: a small logistic model over a few features of two descriptions.

Features of a (new report, open ticket) pair of the same taxonomy leaf:

- ``tfidf``, ``use``, ``e5`` — cosine similarity by character TF-IDF, USE multilingual and
  e5-small (:mod:`nlu.similarity`);
- ``object``, ``fault`` — agreement of the problem keys (:mod:`nlu.problem_keys`): +1 the
  same, −1 different, 0 unknown.

The weights, the standardisation and the threshold are fitted on the TUNING pair set only
(``benchmarks/duplicate_tune.py`` writes ``nlu/data/duplicate_pair_model.json``, one model
per feature set); the evaluation set only measures them (``benchmarks/duplicate_eval.py``).
At run time :func:`default_matcher` uses :data:`RUNTIME_MODEL`; where the keys say nothing
about a pair it falls back to a cosine threshold rule (USE when installed, else TF-IDF; the
threshold chosen on the two development sets, never on the evaluation set).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlu.problem_keys import key_agreement, problem_keys
from nlu.similarity import (
    CharTfidfEmbedder,
    Embedder,
    cosine_matrix,
    duplicate_threshold,
    encoder_embedder,
)

__all__ = [
    "EMBEDDER_OF_FEATURE",
    "FEATURES",
    "MODEL_FILE",
    "PairMatcher",
    "PairModel",
    "RUNTIME_MODEL",
    "default_matcher",
    "fallback_thresholds",
    "load_models",
    "matcher_for",
    "pair_features",
]

MODEL_FILE = Path(__file__).resolve().parent / "data" / "duplicate_pair_model.json"
FEATURES = ("tfidf", "use", "e5", "object", "fault")
#: Which :mod:`nlu.similarity` embedder computes each cosine feature.
EMBEDDER_OF_FEATURE = {"tfidf": "char-tfidf", "use": "use-multilingual", "e5": "e5-small"}
#: The model used at run time: the best cross-validated recall on the tuning set (0.992 at
#: precision 0.967; docs/duplicates.md), and it needs no encoder of its own.
RUNTIME_MODEL = "tfidf+keys"


def pair_features(
    leaf: str,
    query: str,
    others: Sequence[str],
    embedders: Mapping[str, Embedder],
    features: Sequence[str] = FEATURES,
) -> dict[str, np.ndarray]:
    """Each requested feature of (``query``, other) for every other text.

    Args:
        leaf: Taxonomy leaf of both (name or service code), for the problem keys.
        query: Problem text of the new report (address and contact taken out).
        others: Problem texts of the open tickets.
        embedders: Embedder per cosine feature name (``"use"`` → an embedder).
        features: The features wanted.
    """
    out: dict[str, np.ndarray] = {}
    for feature in features:
        if feature in EMBEDDER_OF_FEATURE:
            out[feature] = cosine_matrix(embedders[feature], [query], list(others))[0]
    if "object" in features or "fault" in features:
        mine = problem_keys(leaf, query)
        theirs = [problem_keys(leaf, text) for text in others]
        out["object"] = np.array([key_agreement(mine.objects, t.objects) for t in theirs])
        out["fault"] = np.array([key_agreement(mine.faults, t.faults) for t in theirs])
    return {f: out[f] for f in features}


@dataclass(frozen=True)
class PairModel:
    """Logistic regression on standardised features, with its decision threshold.

    Attributes:
        name: The feature set (``"use+e5+keys"``).
        features: Feature names, in weight order.
        weights: One weight per standardised feature.
        bias: Intercept.
        mean: Standardisation means.
        scale: Standardisation deviations.
        threshold: Probability at or above which a pair is the same problem (chosen on the
            tuning set's out-of-fold probabilities: the lowest with precision ≥ 0.95).
    """

    name: str
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(same problem) per pair from the feature columns."""
        x = np.column_stack([np.asarray(values[f], dtype=np.float64) for f in self.features])
        z = (x - np.array(self.mean)) / np.array(self.scale)
        logit = z @ np.array(self.weights) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-logit)))

    def as_dict(self) -> dict[str, object]:
        """The model as JSON-ready data."""
        return {
            "features": list(self.features),
            "weights": list(self.weights),
            "bias": self.bias,
            "mean": list(self.mean),
            "scale": list(self.scale),
            "threshold": self.threshold,
        }


def load_models(path: Path = MODEL_FILE) -> dict[str, PairModel]:
    """The fitted models by name (the file ``benchmarks/duplicate_tune.py`` writes)."""
    raw = json.loads(path.read_text(encoding="utf-8"))["models"]
    return {
        name: PairModel(
            name,
            tuple(m["features"]),
            tuple(float(w) for w in m["weights"]),
            float(m["bias"]),
            tuple(float(v) for v in m["mean"]),
            tuple(float(v) for v in m["scale"]),
            float(m["threshold"]),
        )
        for name, m in raw.items()
    }


class PairMatcher:
    """Judges open tickets against a new report with one :class:`PairModel`.

    Where the problem keys say nothing (no key of either kind on one side or the other —
    a leaf or wording the lexicon does not cover), the model's weights were not fitted for
    that case, so the pair falls back to the plain cosine rule of ``fallback``
    (:data:`nlu.similarity.DUPLICATE_THRESHOLDS`).

    Args:
        model: The fitted model.
        embedders: An embedder for each cosine feature the model uses (and the fallback).
        fallback: The cosine feature used where the keys say nothing.
    """

    def __init__(
        self,
        model: PairModel,
        embedders: Mapping[str, Embedder],
        fallback: str = "tfidf",
        fallback_threshold: float | None = None,
    ) -> None:
        needed = {f for f in model.features if f in EMBEDDER_OF_FEATURE} | {fallback}
        missing = sorted(needed - set(embedders))
        if missing:
            raise ValueError(f"model {model.name} needs embedders for {missing}")
        self.model = model
        self.embedders = dict(embedders)
        self.fallback = fallback
        self.fallback_threshold = (
            duplicate_threshold(EMBEDDER_OF_FEATURE[fallback])
            if fallback_threshold is None
            else fallback_threshold
        )
        self.name = f"pair-model:{model.name} (fallback {fallback} ≥ {self.fallback_threshold:.2f})"

    def judge(self, leaf: str, query: str, others: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Score and verdict of ``query`` against each of ``others`` (problem texts, same leaf).

        Returns:
            ``(scores, same)``: P(same problem) from the model, or the fallback cosine where
            the keys say nothing; and whether each pair is judged the same problem.
        """
        if not others:
            return np.zeros(0), np.zeros(0, dtype=bool)
        features = tuple(dict.fromkeys((*self.model.features, "object", "fault")))
        values = pair_features(leaf, query, others, self.embedders, features)
        scores = np.asarray(self.model.probability(values), dtype=np.float64)
        same = scores >= self.model.threshold
        no_keys = np.flatnonzero((values["object"] == 0) & (values["fault"] == 0))
        if no_keys.size:  # the fallback encoder only for the pairs that need it
            cosine = cosine_matrix(
                self.embedders[self.fallback], [query], [others[i] for i in no_keys]
            )[0]
            scores[no_keys] = cosine
            same[no_keys] = cosine >= self.fallback_threshold
        return scores, np.asarray(same, dtype=bool)


def matcher_for(name: str, fallback: str = "tfidf") -> PairMatcher:
    """A matcher for the fitted model ``name`` with the embedders it needs.

    The fallback threshold is the one ``duplicate_tune.py`` chose for that encoder on the
    development sets (else :data:`nlu.similarity.DUPLICATE_THRESHOLDS`).

    Raises:
        LookupError: No such model, or an encoder it needs is not installed.
    """
    model = load_models().get(name)
    if model is None:
        raise LookupError(f"no duplicate pair model {name!r} in {MODEL_FILE}")
    available: dict[str, Embedder] = {}
    for feature in {f for f in model.features if f in EMBEDDER_OF_FEATURE} | {fallback}:
        if feature == "tfidf":
            available[feature] = CharTfidfEmbedder()
            continue
        embedder = encoder_embedder(EMBEDDER_OF_FEATURE[feature])
        if embedder is None:
            raise LookupError(f"{name} needs the {EMBEDDER_OF_FEATURE[feature]} encoder")
        available[feature] = embedder
    return PairMatcher(model, available, fallback, fallback_thresholds().get(fallback))


def fallback_thresholds(path: Path = MODEL_FILE) -> dict[str, float]:
    """Cosine threshold per encoder feature for pairs the keys say nothing about."""
    raw = json.loads(path.read_text(encoding="utf-8")).get("fallback", {})
    return {k: float(v["threshold"]) for k, v in raw.items()}


@lru_cache(maxsize=1)
def default_matcher() -> PairMatcher:
    """The run-time matcher: :data:`RUNTIME_MODEL`, USE as the fallback when installed."""
    fallback = "use" if encoder_embedder(EMBEDDER_OF_FEATURE["use"]) is not None else "tfidf"
    return matcher_for(RUNTIME_MODEL, fallback)
