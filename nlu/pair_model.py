"""Same problem or not, for two descriptions of the same taxonomy leaf at the same place.

At run time :func:`default_matcher` is a :class:`KeyRuleMatcher`: the problem keys
(:mod:`nlu.problem_keys`: the reported object and fault) decide where both sides name a
fault or both name objects; where they say too little (a fault unread on one side, a leaf or
wording the lexicon lacks) the USE cosine of the two texts decides, at the threshold
``benchmarks/duplicate_tune.py`` chose on the development pair sets
(``nlu/data/duplicate_pair_model.json``, key ``rule``).

The logistic :class:`PairModel` over the same evidence (cosines by TF-IDF, USE and e5-small;
``object`` / ``fault`` agreement +1 / −1 / 0) is fitted on the tuning set by the same script
and kept for comparison (``benchmarks/duplicate_eval.py --ablation``): on wording written
after its fit it took "same object, fault unread" for a match (docs/duplicates.md).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlu.problem_keys import (
    ProblemKeys,
    agreement,
    key_agreement,
    object_is_problem,
    problem_keys,
    unrelated,
)
from nlu.similarity import (
    CharTfidfEmbedder,
    Embedder,
    cosine_matrix,
    encoder_embedder,
)

__all__ = [
    "EMBEDDER_OF_FEATURE",
    "FEATURES",
    "Evidence",
    "Judgement",
    "KeyRuleMatcher",
    "MODEL_FILE",
    "PairModel",
    "default_matcher",
    "key_rule_matcher",
    "rule_thresholds",
    "load_models",
    "pair_features",
]

MODEL_FILE = Path(__file__).resolve().parent / "data" / "duplicate_pair_model.json"
FEATURES = ("tfidf", "use", "e5", "object", "fault")
#: Which :mod:`nlu.similarity` embedder computes each cosine feature.
EMBEDDER_OF_FEATURE = {"tfidf": "char-tfidf", "use": "use-multilingual", "e5": "e5-small"}


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


class Evidence(enum.Enum):
    """What the problem keys of a pair say, in :class:`KeyRuleMatcher`."""

    SAME_KEYS = "same_keys"  #: the same fault, objects not two unrelated ones: one problem
    OTHER_KEYS = "other_keys"  #: unrelated faults, or unrelated objects and no shared fault
    WORDS = "words"  #: the keys say too little: the encoder's cosine decides


@dataclass(frozen=True)
class Judgement:
    """A new report against each open ticket: verdict, how similar, and why.

    Attributes:
        same: Whether each pair is judged the same problem.
        scores: The cosine of the two problem texts by the matcher's encoder (TF-IDF
            for pairs the keys decide alone, which need no encoder), for ranking and logs.
        evidence: What the keys said of each pair.
    """

    same: np.ndarray
    scores: np.ndarray
    evidence: tuple[Evidence, ...]

    def best(self) -> int | None:
        """Index of the likeliest same problem: key agreement first, then the score."""
        ranked = [
            (e is Evidence.SAME_KEYS, float(s), -i)
            for i, (ok, s, e) in enumerate(zip(self.same, self.scores, self.evidence, strict=True))
            if ok
        ]
        return -max(ranked)[2] if ranked else None


class KeyRuleMatcher:
    """Same problem or not by what the problem keys say, and the cosine where they are weak.

    For two problem texts of the same leaf (:mod:`nlu.problem_keys`; "unrelated" keys: none
    the same and none in a ``related:`` group of the lexicon):

    - :attr:`Evidence.SAME_KEYS` — the faults agree (:func:`nlu.problem_keys.agreement`, a
      related key counting, ≥ ``fault_overlap``, or any agreement with a shared object) and
      the objects are not unrelated; or, in a leaf whose fault goes without saying
      (:func:`nlu.problem_keys.object_is_problem`: noise, a car in the way), the same
      objects (all of them) and no unrelated fault → the same problem;
    - :attr:`Evidence.OTHER_KEYS` — unrelated faults, or unrelated objects and no agreeing
      fault → two problems, unless the texts read alike anyway (cosine ≥ ``other``);
    - :attr:`Evidence.WORDS` — anything else (a fault unread on one side: the object alone
      proves nothing, a lamp can be dark or too bright; the same fault of two unrelated
      objects; a leaf or wording without keys) → cosine ≥ ``words``.

    Both thresholds are the ones ``benchmarks/duplicate_tune.py`` chose (precision ≥ 0.95
    within each group) on the pair sets read so far.

    Args:
        embedder: The encoder of the cosines (USE at run time; TF-IDF without it).
        words: Cosine at or above which a :attr:`Evidence.WORDS` pair is the same problem.
        other: Cosine at or above which an :attr:`Evidence.OTHER_KEYS` pair still is.
        fault_overlap: Fault agreement that is enough on its own.
    """

    def __init__(
        self, embedder: Embedder, words: float, other: float, fault_overlap: float = 0.5
    ) -> None:
        self.embedder = embedder
        self.thresholds = {Evidence.WORDS: words, Evidence.OTHER_KEYS: other}
        self.fault_overlap = fault_overlap
        self.tfidf = CharTfidfEmbedder()
        self.name = f"key-rule ({embedder.name}: words ≥ {words:.2f}, other keys ≥ {other:.2f})"

    def evidence(
        self, mine: ProblemKeys, theirs: ProblemKeys, object_decides: bool = False
    ) -> Evidence:
        """What the keys of two problem texts say (``object_decides``: the leaf is
        :func:`nlu.problem_keys.object_is_problem`)."""
        other_object = unrelated("objects", mine.objects, theirs.objects)
        objects = agreement("objects", mine.objects, theirs.objects)
        # What is wrong, in the words that say it ("不亮", not "坏了") on a side that has some.
        ours, yours = mine.definite or mine.faults, theirs.definite or theirs.faults
        if unrelated("faults", ours, yours):
            return Evidence.OTHER_KEYS
        if object_decides:  # the fault goes without saying: the object is the problem
            if other_object:
                return Evidence.OTHER_KEYS
            return Evidence.SAME_KEYS if objects == 1.0 else Evidence.WORDS
        faults = agreement("faults", ours, yours)
        if faults >= self.fault_overlap or (faults > 0 and objects > 0):
            return Evidence.WORDS if other_object else Evidence.SAME_KEYS
        return Evidence.OTHER_KEYS if other_object else Evidence.WORDS

    def judge(self, leaf: str, query: str, others: Sequence[str]) -> Judgement:
        """``query`` against each of ``others`` (problem texts of leaf ``leaf``)."""
        mine, decides = problem_keys(leaf, query), object_is_problem(leaf)
        evidence = tuple(self.evidence(mine, problem_keys(leaf, text), decides) for text in others)
        same = np.array([e is Evidence.SAME_KEYS for e in evidence], dtype=bool)
        scores = np.zeros(len(others))
        if not others:
            return Judgement(same, scores, evidence)
        scores[:] = cosine_matrix(self.tfidf, [query], list(others))[0]
        weak = [i for i, e in enumerate(evidence) if e is not Evidence.SAME_KEYS]
        if weak:  # the encoder only for the pairs the keys do not settle
            cosine = cosine_matrix(self.embedder, [query], [others[i] for i in weak])[0]
            for i, value in zip(weak, cosine, strict=True):
                scores[i] = value
                same[i] = value >= self.thresholds[evidence[i]]
        return Judgement(same, scores, evidence)


def key_rule_matcher(encoder: str | None = None) -> KeyRuleMatcher:
    """The key rule with ``encoder`` (``"use"``/``"tfidf"``; USE when installed by default)
    and the threshold ``duplicate_tune.py`` chose for it."""
    if encoder is None:
        use = encoder_embedder(EMBEDDER_OF_FEATURE["use"])
        encoder = "use" if use is not None else "tfidf"
    if encoder == "tfidf":
        embedder: Embedder = CharTfidfEmbedder()
    else:
        found = encoder_embedder(EMBEDDER_OF_FEATURE[encoder])
        if found is None:
            raise LookupError(f"the {EMBEDDER_OF_FEATURE[encoder]} encoder is not installed")
        embedder = found
    words, other = rule_thresholds()[encoder]
    return KeyRuleMatcher(embedder, words, other)


def rule_thresholds(path: Path = MODEL_FILE) -> dict[str, tuple[float, float]]:
    """The (words, other keys) cosine thresholds of :class:`KeyRuleMatcher` per encoder."""
    raw = json.loads(path.read_text(encoding="utf-8"))["rule"]
    return {
        k: (float(v["words"]["threshold"]), float(v["other"]["threshold"])) for k, v in raw.items()
    }


@lru_cache(maxsize=1)
def default_matcher() -> KeyRuleMatcher:
    """The run-time matcher: the key rule, USE for the words when installed (else TF-IDF)."""
    return key_rule_matcher()
