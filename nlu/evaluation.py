"""``jiesu eval-nlu``: evaluate the category classifier on a labelled file.

Example::

    jiesu eval-nlu --data ../shared/eval/tipdm2020_dev.jsonl --text-field full_text

prints JSON with accuracy, macro-F1, per-class precision/recall/F1 and the confusion
matrix at government-class level, plus the same at leaf level when the labels are leaves.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._classifier import CategoryModel, ModelError, builtin_model, get_model
from ._datasets import DatasetError, read_labelled
from ._metrics import classification_report

__all__ = ["evaluate", "main"]


def _gov_label(model: CategoryModel, label: str) -> str | None:
    leaf = model.taxonomy.get(label)
    if leaf is not None:
        return leaf.gov_class
    if label in model.taxonomy.gov_classes:
        return label
    return None


def evaluate(model: CategoryModel, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Evaluate a model on labelled texts.

    Args:
        model: The category model.
        texts: Complaint texts.
        labels: Gold labels: government classes, leaf names or ``class›leaf`` paths.

    Returns:
        A JSON-serialisable dict with ``gov_class`` (and ``leaf`` when the gold labels
        are leaves) reports, the number of skipped rows and the timing.
    """
    started = time.perf_counter()
    preds = model.predict_many(list(texts))
    elapsed = time.perf_counter() - started
    gold_gov, pred_gov = [], []
    gold_leaf, pred_leaf = [], []
    skipped = 0
    for label, pred in zip(labels, preds, strict=True):
        gov = _gov_label(model, label)
        if gov is None:
            skipped += 1
            continue
        gold_gov.append(gov)
        pred_gov.append(pred.gov_class)
        leaf = model.taxonomy.get(label)
        if leaf is not None and label not in model.taxonomy.gov_classes:
            gold_leaf.append(leaf.name)
            pred_leaf.append(pred.leaf)
    result: dict[str, Any] = {
        "model": model.meta,
        "n": len(texts),
        "skipped_unknown_labels": skipped,
        "seconds": round(elapsed, 2),
        "gov_class": classification_report(gold_gov, pred_gov),
    }
    if gold_leaf:
        result["leaf"] = classification_report(gold_leaf, pred_leaf)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiesu eval-nlu", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="labelled .jsonl/.csv/.xlsx")
    parser.add_argument("--text-field", default="full_text")
    parser.add_argument("--label-field", default="label")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model file (default: the configured model; 'builtin' for the built-in one)",
    )
    return parser


def main(argv: list[str]) -> int:
    """Run the evaluation CLI.

    Args:
        argv: Arguments after ``eval-nlu``.

    Returns:
        0 on success, 2 on bad input.
    """
    args = _parser().parse_args(argv)
    try:
        texts, labels = read_labelled(args.data, args.text_field, args.label_field)
        if args.model is not None and str(args.model) == "builtin":
            model = builtin_model()
        else:
            model = get_model(args.model)
    except (DatasetError, ModelError) as exc:
        print(f"jiesu eval-nlu: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(model, texts, labels), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
