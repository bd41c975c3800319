"""Fit the duplicate pair models on the TUNING pair set (never on the evaluation set).

For each feature set (``VARIANTS``): a logistic regression on the gated tuning pairs (each
also seen with its object or its fault keys blanked: "key dropout"),
cross-validated by taxonomy leaf (all pairs of a leaf held out together, so no problem or
wording is seen in training and in test); the threshold is the lowest probability (0.01
grid) whose *out-of-fold* precision is ≥ 0.95; the model kept is fitted on all tuning pairs.
Also the max / mean of the separately calibrated USE and e5 probabilities (all these are
compared in ``duplicate_eval.py --ablation``), and the cosine threshold per encoder of the
run-time :class:`nlu.pair_model.KeyRuleMatcher` (``rule_thresholds``: on the pairs its keys
leave to the words, in the development sets). Writes ``nlu/data/duplicate_pair_model.json``
and prints the figures.

    python benchmarks/duplicate_tune.py
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from duplicate_eval import load_pairs  # noqa: E402
from duplicate_features import DATA, TUNE_PAIRS, FeatureTable, embedders, feature_table  # noqa: E402

from nlu.pair_model import MODEL_FILE, Evidence, KeyRuleMatcher, PairModel  # noqa: E402
from nlu.problem_keys import object_is_problem, problem_keys  # noqa: E402
from nlu.similarity import CharTfidfEmbedder  # noqa: E402

MIN_PRECISION = 0.95
#: The key-rule threshold of a group no cosine proved: only the same words are the same problem.
NEVER = 0.99
#: The development sets (earlier hold-outs, measured once each before becoming these).
DEV_PAIRS = (DATA / "duplicate_pairs_dev.jsonl", DATA / "duplicate_pairs_dev2.jsonl")
#: Where the key rule's thresholds are chosen: every pair set read so far except the
#: evaluation set (each hold-out was measured once, then read, like the others).
RULE_PAIRS = (
    TUNE_PAIRS,
    *DEV_PAIRS,
    DATA / "duplicate_pairs_holdout.jsonl",
    DATA / "duplicate_pairs_blind4.jsonl",
    DATA / "duplicate_pairs_blind5.jsonl",
    *(DATA / f"duplicate_pairs_blind{n}.jsonl" for n in range(6, 12)),
)
FOLDS = 5
KEYS = ("object", "fault")
VARIANTS: dict[str, tuple[str, ...]] = {
    "tfidf": ("tfidf",),
    "use": ("use",),
    "e5": ("e5",),
    "use+e5": ("use", "e5"),
    "use+e5+tfidf": ("use", "e5", "tfidf"),
    "tfidf+keys": ("tfidf", *KEYS),
    "use+keys": ("use", *KEYS),
    "e5+keys": ("e5", *KEYS),
    "use+e5+keys": ("use", "e5", *KEYS),
    "use+e5+tfidf+keys": ("use", "e5", "tfidf", *KEYS),
}
#: Combinations of separately calibrated single-encoder probabilities.
COMBINATIONS = {"max(use,e5)": ("max", ("use", "e5")), "mean(use,e5)": ("mean", ("use", "e5"))}


def fit(name: str, table: FeatureTable, rows: np.ndarray, features: tuple[str, ...]) -> PairModel:
    """Logistic regression on standardised features of ``rows`` (threshold left at 0.5)."""
    x = np.column_stack([table.values[f][rows] for f in features])
    y = table.labels[rows]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    # Key dropout: the lexicon will miss words of new wording, so every pair is also seen
    # with one kind of key unknown (0), with the same label; the model then learns how far
    # to trust the object alone, or the fault alone, and leans on the cosines there.
    for key in KEYS:
        if key in features:
            column = features.index(key)
            known = x[:, column] != 0
            copy = x[known].copy()
            copy[:, column] = 0.0
            x, y = np.vstack([x, copy]), np.concatenate([y, y[known]])
    clf = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    return PairModel(
        name,
        features,
        tuple(float(w) for w in clf.coef_[0]),
        float(clf.intercept_[0]),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        0.5,
    )


def probabilities(model: PairModel, table: FeatureTable) -> np.ndarray:
    """P(same) per pair; −1 for pairs that category or place already reject."""
    out = np.full(len(table.labels), -1.0)
    g = table.gate
    out[g] = model.probability({f: table.values[f][g] for f in model.features})
    return out


def figures(
    scores: np.ndarray, labels: np.ndarray, threshold: float
) -> tuple[float, float, int, int, int]:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / (tp + fn) if tp + fn else 1.0, tp, fp, fn


def lowest_threshold(
    scores: np.ndarray, labels: np.ndarray, min_precision: float = MIN_PRECISION
) -> float:
    """The lowest threshold on a 0.01 grid with precision ≥ ``min_precision``."""
    for step in range(1, 100):
        if figures(scores, labels, step / 100)[0] >= min_precision:
            return step / 100
    return 1.0


def folds(table: FeatureTable) -> list[np.ndarray]:
    """Leaves dealt round-robin into ``FOLDS`` groups; boolean row masks (gated rows only)."""
    leaves = sorted(set(table.leaves))
    fold_of = {leaf: i % FOLDS for i, leaf in enumerate(leaves)}
    fold = np.array([fold_of[leaf] for leaf in table.leaves])
    return [(fold == k) for k in range(FOLDS)]


def out_of_fold(table: FeatureTable, features: tuple[str, ...], name: str) -> np.ndarray:
    oof = np.full(len(table.labels), -1.0)
    for held in folds(table):
        model = fit(name, table, table.gate & ~held, features)
        scores = probabilities(model, table)
        oof[held & table.gate] = scores[held & table.gate]
    return oof


def combine(how: str, parts: list[np.ndarray]) -> np.ndarray:
    stacked = np.vstack(parts)
    return stacked.max(axis=0) if how == "max" else stacked.mean(axis=0)


def rule_thresholds(by_feature: dict) -> dict[str, dict[str, dict[str, float]]]:  # type: ignore[type-arg]
    """Per encoder, the key rule's two thresholds: the lowest cosine with precision ≥ 0.95
    among the pairs its keys leave to the words (:attr:`Evidence.WORDS`), and among those
    its keys call two problems (:attr:`Evidence.OTHER_KEYS`), in :data:`RULE_PAIRS` pooled;
    :data:`NEVER` where no cosine proves any pair of the group the same."""
    rule = KeyRuleMatcher(CharTfidfEmbedder(), words=1.0, other=1.0)
    tables = [feature_table(load_pairs(path), by_feature) for path in RULE_PAIRS]
    evidence = np.array(
        [
            rule.evidence(
                problem_keys(leaf, ta), problem_keys(leaf, tb), object_is_problem(leaf)
            ).value
            if ok
            else ""
            for t in tables
            for ok, leaf, (ta, tb) in zip(t.gate, t.leaves, t.texts, strict=True)
        ]
    )
    labels = np.concatenate([t.labels for t in tables])
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in ("tfidf", "use", "e5"):
        if name not in by_feature:
            continue
        cosine = np.concatenate([t.values[name] for t in tables])
        out[name] = {}
        for group, kind in (("words", Evidence.WORDS), ("other", Evidence.OTHER_KEYS)):
            mask = evidence == kind.value
            scores = np.where(mask, cosine, -1.0)
            threshold = lowest_threshold(scores, labels & mask)
            p, r, tp, *_ = figures(scores, labels & mask, threshold)
            if tp == 0:  # no pair of the group proven the same by its cosine: a veto
                threshold, p = NEVER, 1.0
            out[name][group] = {
                "threshold": threshold,
                "precision": round(p, 4),
                "recall": round(r, 4),
                "pairs": int(mask.sum()),
                "same": int((labels & mask).sum()),
            }
    return out


def main() -> int:
    started = time.perf_counter()
    pairs = load_pairs(TUNE_PAIRS)
    by_feature = embedders()
    table = feature_table(pairs, by_feature)
    raw = feature_table(pairs, by_feature, strip=False)
    print(
        f"tuning set: {len(pairs)} pairs ({int(table.labels.sum())} same), {int(table.gate.sum())} gated"
    )
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; encoders: {sorted(by_feature)}"
    )
    models: dict[str, dict[str, object]] = {}
    oof_of: dict[str, np.ndarray] = {}
    print(f"{'variant':24s} {'thr':>5s} {'CV precision':>12s} {'CV recall':>9s}  tp/fp/fn")
    variants = {n: f for n, f in VARIANTS.items() if all(x in table.values for x in f)}
    jobs = [(n, f, table) for n, f in variants.items()]
    if "use+e5+keys" in variants:
        jobs.append(("use+e5+keys@raw", variants["use+e5+keys"], raw))
    for name, features, tab in jobs:
        oof = out_of_fold(tab, features, name)
        oof_of[name] = oof
        threshold = lowest_threshold(oof, tab.labels)
        p, r, tp, fp, fn = figures(oof, tab.labels, threshold)
        print(f"{name:24s} {threshold:5.2f} {p:12.3f} {r:9.3f}  {tp}/{fp}/{fn}")
        final = fit(name, tab, tab.gate, features)
        models[name] = {
            **final.as_dict(),
            "threshold": threshold,
            "strip_address": tab is table,
            "cv_precision": round(p, 4),
            "cv_recall": round(r, 4),
        }
    combos: dict[str, dict[str, object]] = {}
    for name, (how, parts) in COMBINATIONS.items():
        if not all(p in oof_of for p in parts):
            continue
        oof = combine(how, [oof_of[p] for p in parts])
        threshold = lowest_threshold(oof, table.labels)
        p, r, tp, fp, fn = figures(oof, table.labels, threshold)
        print(f"{name:24s} {threshold:5.2f} {p:12.3f} {r:9.3f}  {tp}/{fp}/{fn}")
        combos[name] = {
            "how": how,
            "of": list(parts),
            "threshold": threshold,
            "cv_precision": round(p, 4),
            "cv_recall": round(r, 4),
        }
    rule = rule_thresholds(by_feature)
    for name, groups in rule.items():
        for group, spec in groups.items():
            print(
                f"key rule, {name:5s} {group:5s}: cosine >= {spec['threshold']:.2f} on "
                f"{spec['pairs']} pairs ({spec['same']} same): "
                f"precision {spec['precision']:.3f} recall {spec['recall']:.3f}"
            )
    header = (
        "Written by benchmarks/duplicate_tune.py: the pair models from the TUNING pair set "
        "(benchmarks/data/duplicate_pairs_tune.jsonl); the key rule's thresholds from the "
        "tuning, development, round-3 and blind 4-11 sets; the evaluation set and the blind "
        "sets 12-13 never enter here."
    )
    MODEL_FILE.write_text(
        json.dumps(
            {
                "about": header,
                "models": models,
                "combinations": combos,
                "rule": rule,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"→ {MODEL_FILE} ({time.perf_counter() - started:.0f} s on this machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
