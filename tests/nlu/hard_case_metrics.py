"""Scoring of the hard cases (shared by the tests and benchmarks/nlu_latency.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import nlu


def _f1(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(cases: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Entity F1 (location full string, time kind, phones), category and type accuracy.

    Args:
        cases: Hard cases.
        now: Reference time.

    Returns:
        Figures plus the failing case texts per field.
    """
    counts = {k: [0, 0, 0] for k in ("location", "time", "phone")}
    failures: dict[str, list[str]] = {
        k: [] for k in ("location", "time", "phone", "leaf", "gov_class", "type")
    }
    leaf_ok = gov_ok = type_ok = 0
    taxonomy = nlu.load_taxonomy()
    for case in cases:
        text = case["text"]
        loc = nlu.extract_location(text)
        got_loc = loc.full if loc else None
        _count(counts["location"], {got_loc} - {None}, {case["location"]} - {None})
        if got_loc != case["location"]:
            failures["location"].append(f"{text} -> {got_loc}")
        tm = nlu.extract_time(text, now)
        got_time = tm.kind if tm else None
        _count(counts["time"], {got_time} - {None}, {case["time"]} - {None})
        if got_time != case["time"]:
            failures["time"].append(f"{text} -> {got_time}")
        phones = set(nlu.extract_phones(text))
        _count(counts["phone"], phones, set(case["phones"]))
        if phones != set(case["phones"]):
            failures["phone"].append(f"{text} -> {sorted(phones)}")
        pred = nlu.classify_category(text)
        gold_leaf = taxonomy.get(case["leaf"])
        assert gold_leaf is not None, case["leaf"]
        leaf_ok += pred.leaf == gold_leaf.name
        gov_ok += pred.gov_class == gold_leaf.gov_class
        if pred.leaf != gold_leaf.name:
            failures["leaf"].append(f"{text} -> {pred.leaf} (gold {gold_leaf.name})")
        rtype = nlu.detect_request_type(text)
        type_ok += rtype == case["type"]
        if rtype != case["type"]:
            failures["type"].append(f"{text} -> {rtype} (gold {case['type']})")
    n = len(cases)
    return {
        "n": n,
        "location_f1": round(_f1(*counts["location"]), 4),
        "time_f1": round(_f1(*counts["time"]), 4),
        "phone_f1": round(_f1(*counts["phone"]), 4),
        "leaf_accuracy": round(leaf_ok / n, 4),
        "gov_class_accuracy": round(gov_ok / n, 4),
        "request_type_accuracy": round(type_ok / n, 4),
        "failures": failures,
    }


def _count(slot: list[int], got: set[Any], gold: set[Any]) -> None:
    slot[0] += len(got & gold)
    slot[1] += len(got - gold)
    slot[2] += len(gold - got)
