"""Classification metrics without extra dependencies (accuracy, macro-F1, confusion)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

__all__ = ["ClassReport", "Report", "classification_report"]


class ClassReport(TypedDict):
    """Per-class figures."""

    precision: float
    recall: float
    f1: float
    support: int


class Report(TypedDict):
    """A classification report (JSON-serialisable)."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassReport]
    labels: list[str]
    confusion: list[list[int]]


def classification_report(gold: Sequence[str], pred: Sequence[str]) -> Report:
    """Compute accuracy, macro-F1 over gold classes, per-class P/R/F1 and confusion.

    Args:
        gold: Gold labels.
        pred: Predicted labels (may contain labels absent from ``gold``).

    Returns:
        The report; ``confusion[i][j]`` counts gold ``labels[i]`` predicted ``labels[j]``.
    """
    labels = sorted(set(gold)) + sorted(set(pred) - set(gold))
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        confusion[index[g]][index[p]] += 1
    per_class: dict[str, ClassReport] = {}
    for label in sorted(set(gold)):
        i = index[label]
        tp = confusion[i][i]
        predicted = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassReport(
            precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4), support=support
        )
    n = len(gold)
    correct = sum(1 for g, p in zip(gold, pred, strict=True) if g == p)
    macro = sum(c["f1"] for c in per_class.values()) / len(per_class) if per_class else 0.0
    return Report(
        n=n,
        accuracy=round(correct / n, 4) if n else 0.0,
        macro_f1=round(macro, 4),
        per_class=per_class,
        labels=labels,
        confusion=confusion,
    )
