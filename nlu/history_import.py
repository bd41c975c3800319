"""``jiesu import-history``: train the category classifier on a city's labelled tickets.

Example::

    jiesu import-history tickets.csv --text-field content --label-field category

Labels may be leaf names, ``class›leaf`` paths or government classes. Labels missing
from the taxonomy are added as leaves (under the named class when a ``class›leaf``
path names a known class, else under 其他) and saved with the model. The bot picks the
model up from ``JIESU_CATEGORY_MODEL`` or, by default, ``models/category/history.joblib``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._classifier import CategoryModel, ModelError, train_model
from ._datasets import DatasetError, read_labelled
from ._metrics import classification_report
from ._settings import DEFAULT_HISTORY_MODEL
from ._taxonomy import GOV_CLASSES, OTHER, Taxonomy, load_taxonomy
from ._types import CategoryLeaf

__all__ = ["cross_validate", "main", "map_labels", "split_evaluate", "train_history_model"]

_SEPARATORS = ("›", ">", "/")


def _new_leaf(label: str) -> CategoryLeaf:
    head, tail = label, label
    for sep in _SEPARATORS:
        if sep in label:
            head, _, tail = (part.strip() for part in label.partition(sep))
            break
    if label in GOV_CLASSES:
        gov_class, parent, name = label, label, label
    elif head in GOV_CLASSES and head != tail:
        gov_class, parent, name = head, head, tail
    else:
        gov_class, parent, name = OTHER, head if head != tail else "历史导入", tail
    code = "H" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:6].upper()
    return CategoryLeaf(
        name=name,
        parent=parent,
        gov_class=gov_class,
        service_code=code,
        department="",
        urgency="normal",
    )


def map_labels(labels: Sequence[str], taxonomy: Taxonomy) -> tuple[Taxonomy, list[str]]:
    """Map raw labels to leaf paths, extending the taxonomy with unknown labels.

    Args:
        labels: Labels from the history file.
        taxonomy: Base taxonomy.

    Returns:
        The (possibly extended) taxonomy and one ``class›leaf`` path per label.
    """
    added: dict[str, CategoryLeaf] = {}
    paths: list[str] = []
    for label in labels:
        leaf = None if label in GOV_CLASSES else taxonomy.get(label)
        if leaf is None:
            leaf = added.get(label) or _new_leaf(label)
            added[label] = leaf
        paths.append(leaf.path)
    return taxonomy.extended(added.values()), paths


def train_history_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    source: str = "",
    progress: Callable[[str], None] | None = None,
) -> CategoryModel:
    """Train a model on historical tickets.

    Args:
        texts: Ticket texts.
        labels: Raw labels (see ``map_labels``).
        source: Provenance stored in the model metadata.
        progress: Progress callback.

    Returns:
        The trained model, whose taxonomy includes any added leaves.
    """
    taxonomy, paths = map_labels(labels, load_taxonomy())
    return train_model(
        texts, paths, taxonomy, kind="history", meta={"source": source}, progress=progress
    )


def _gov(model: CategoryModel, path: str) -> str:
    leaf = model.taxonomy.get(path)
    return leaf.gov_class if leaf else OTHER


def split_evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    train_fraction: float = 0.7,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train on a seeded random split and evaluate on the rest.

    Args:
        texts: Texts.
        labels: Raw labels.
        train_fraction: Share used for training.
        seed: Random seed of the split.
        progress: Progress callback.

    Returns:
        Classification report (labels as given) for the held-out part.
    """
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * train_fraction)
    train, test = order[:cut], order[cut:]
    model = train_history_model(
        [texts[i] for i in train], [labels[i] for i in train], progress=progress
    )
    preds = model.predict_many([texts[i] for i in test])
    _, gold_paths = map_labels([labels[i] for i in test], model.taxonomy)
    gold = [model.taxonomy.get(p).name for p in gold_paths]  # type: ignore[union-attr]
    report = dict(classification_report(gold, [p.leaf for p in preds]))
    report["train_size"] = len(train)
    report["test_size"] = len(test)
    return report


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the history model.

    Args:
        texts: Texts.
        labels: Raw labels.
        folds: Number of folds.
        seed: Shuffle seed.
        progress: Progress callback.

    Returns:
        Mean and per-fold accuracy and macro-F1.
    """
    from sklearn.model_selection import StratifiedKFold

    accs, f1s = [], []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(list(texts), list(labels)), start=1):
        if progress:
            progress(f"fold {fold}/{folds}")
        model = train_history_model([texts[i] for i in train], [labels[i] for i in train])
        preds = model.predict_many([texts[i] for i in test])
        _, gold_paths = map_labels([labels[i] for i in test], model.taxonomy)
        gold = [model.taxonomy.get(p).name for p in gold_paths]  # type: ignore[union-attr]
        rep = classification_report(gold, [p.leaf for p in preds])
        accs.append(rep["accuracy"])
        f1s.append(rep["macro_f1"])
    return {
        "folds": folds,
        "accuracy": round(sum(accs) / folds, 4),
        "macro_f1": round(sum(f1s) / folds, 4),
        "fold_accuracy": accs,
        "fold_macro_f1": f1s,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiesu import-history", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file", type=Path, help="labelled tickets: .csv, .xlsx or .jsonl")
    parser.add_argument("--text-field", default="full_text")
    parser.add_argument("--label-field", default="label")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_HISTORY_MODEL,
        help=f"model file to write (default {DEFAULT_HISTORY_MODEL})",
    )
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="also report a seeded 70/30 split and 5-fold CV (slower)",
    )
    return parser


def main(argv: list[str]) -> int:
    """Run the import CLI.

    Args:
        argv: Arguments after ``import-history``.

    Returns:
        0 on success, 2 on bad input or when the model cannot be trained/written.
    """
    args = _parser().parse_args(argv)

    def say(msg: str) -> None:
        print(f"[import-history] {msg}", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        texts, labels = read_labelled(args.file, args.text_field, args.label_field)
        say(f"read {len(texts)} labelled tickets from {args.file}")
        counts = Counter(labels)
        say("labels: " + ", ".join(f"{k} ({v})" for k, v in counts.most_common(12)))
        model = train_history_model(texts, labels, source=str(args.file), progress=say)
        model.save(args.out)
    except (DatasetError, ModelError) as exc:
        print(f"jiesu import-history: {exc}", file=sys.stderr)
        return 2
    summary: dict[str, Any] = {
        "model": str(args.out),
        "examples": len(texts),
        "labels": len(counts),
        "meta": model.meta,
    }
    if args.evaluate:
        say("evaluating on a seeded 70/30 split")
        summary["holdout_30"] = split_evaluate(texts, labels, progress=say)
        say("5-fold cross-validation")
        summary["cv5"] = cross_validate(texts, labels, progress=say)
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    say(f"done; set JIESU_CATEGORY_MODEL={args.out} (default location is picked up as is)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
