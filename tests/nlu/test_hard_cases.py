"""Thresholds on the hand-written hard cases (tests/nlu/hard_cases.yml)."""

from __future__ import annotations

from typing import Any

from hard_case_metrics import score

# Entity thresholds from the issue. Category thresholds: the hard cases were written by
# the same team as the training examples, so they overestimate real accuracy; we require
# what the model reaches with margin (see docs/nlu.md for the honest real-data figure).
ENTITY_F1 = 0.90
LEAF_ACCURACY = 0.85
GOV_ACCURACY = 0.90
REQUEST_TYPE_ACCURACY = 0.75


def test_hard_case_count(hard_cases: dict[str, Any]) -> None:
    assert len(hard_cases["cases"]) >= 300


def test_hard_case_thresholds(hard_cases: dict[str, Any]) -> None:
    result = score(hard_cases["cases"], hard_cases["now"])
    failures = result.pop("failures")
    assert result["location_f1"] >= ENTITY_F1, failures["location"]
    assert result["time_f1"] >= ENTITY_F1, failures["time"]
    assert result["phone_f1"] >= ENTITY_F1, failures["phone"]
    assert result["leaf_accuracy"] >= LEAF_ACCURACY, failures["leaf"]
    assert result["gov_class_accuracy"] >= GOV_ACCURACY, failures["gov_class"]
    assert result["request_type_accuracy"] >= REQUEST_TYPE_ACCURACY, failures["type"]
