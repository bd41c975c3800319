"""Models on the TipDM 2020 dev file (read at run time only, never stored).

The built-in model is never trained on that file; both models fuse the USE probe
(``nlu/_fusion.py``) with their TF-IDF part, as shipped. The history model is trained by the
same code as ``jiesu import-history`` on a seeded 70 % of it and scored on the other 30 %;
the thresholds are the figures it reaches (see docs/nlu.md), so a regression fails. The
issue-3 target for that split (0.92 / 0.90) is not reached; ``test_history_issue_target``
records that as a strict xfail, so reaching it turns the suite red until the figures and
this file are updated.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TIPDM

from nlu._classifier import builtin_model
from nlu._datasets import read_labelled
from nlu.evaluation import evaluate
from nlu.history_import import split_evaluate

TARGET = 0.80  # issue 3 target (measured 0.817 with the encoder probe, see docs/nlu.md)
#: Issue 13's target for the built-in model (not reached: 0.817, see docs/nlu.md).
ISSUE13_TARGET = 0.82
#: Reached by the history model on the seeded 30 % (measured 0.898 / 0.890).
HISTORY_ACCURACY = 0.89
HISTORY_MACRO_F1 = 0.885
#: Issue 3's target for the history model (not reached, see docs/nlu.md).
ISSUE_ACCURACY = 0.92
ISSUE_MACRO_F1 = 0.90

needs_tipdm = pytest.mark.skipif(
    not TIPDM.is_file(), reason="../shared/eval/tipdm2020_dev.jsonl absent"
)


@pytest.fixture(scope="module")
def tipdm() -> tuple[list[str], list[str]]:
    """Texts and gov-class labels of the TipDM file."""
    return read_labelled(TIPDM, "full_text", "label")


@pytest.fixture(scope="module")
def accuracy(tipdm: tuple[list[str], list[str]]) -> float:
    texts, labels = tipdm
    return float(evaluate(builtin_model(), texts, labels)["gov_class"]["accuracy"])


@pytest.fixture(scope="module")
def holdout(tipdm: tuple[list[str], list[str]]) -> dict[str, Any]:
    """Report of the history model trained on the seeded 70 %, scored on the 30 %."""
    texts, labels = tipdm
    return split_evaluate(texts, labels)


@pytest.mark.slow
@needs_tipdm
def test_builtin_gov_class_target(accuracy: float) -> None:
    assert accuracy >= TARGET


@pytest.mark.slow
@needs_tipdm
@pytest.mark.xfail(strict=True, reason="issue 13 built-in target not reached (docs/nlu.md)")
def test_builtin_gov_class_issue13_target(accuracy: float) -> None:
    assert accuracy >= ISSUE13_TARGET


@pytest.mark.slow
@needs_tipdm
def test_history_holdout_figures(holdout: dict[str, Any]) -> None:
    assert holdout["train_size"] == 1527 and holdout["test_size"] == 655
    assert holdout["accuracy"] >= HISTORY_ACCURACY
    assert holdout["macro_f1"] >= HISTORY_MACRO_F1


@pytest.mark.slow
@needs_tipdm
@pytest.mark.xfail(strict=True, reason="issue 3 history target not reached (docs/nlu.md)")
def test_history_issue_target(holdout: dict[str, Any]) -> None:
    assert holdout["accuracy"] >= ISSUE_ACCURACY and holdout["macro_f1"] >= ISSUE_MACRO_F1
