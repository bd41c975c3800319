"""Address spans kept whole, and readings of the reply to the address question.

The cases live in ``address_cases.yml`` (hand-written, see its header).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import nlu
from nlu import AnswerKind, parse_address_answer

CASES_FILE = Path(__file__).resolve().parent / "address_cases.yml"
COMPONENTS = (
    "province",
    "district",
    "street",
    "road",
    "house_number",
    "community",
    "building",
    "unit",
    "room",
)


def _load() -> dict[str, Any]:
    with CASES_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


CASES = _load()


def _id(case: dict[str, Any] | str) -> str:
    return (case["text"] if isinstance(case, dict) else case)[:24] or "<empty>"


def test_case_counts() -> None:
    assert len(CASES["addresses"]) >= 150
    non_address = [a for a in CASES["answers"] if a["kind"] != "ADDRESS"]
    assert len(non_address) >= 60


@pytest.mark.parametrize("case", CASES["addresses"], ids=_id)
def test_address_kept_whole(case: dict[str, Any]) -> None:
    loc = nlu.extract_location(case["text"])
    assert loc is not None, case["text"]
    got = {"full": loc.full} | {k: getattr(loc, k) for k in COMPONENTS if k in case}
    want = {"full": case["full"]} | {k: case[k] for k in COMPONENTS if k in case}
    assert got == want


@pytest.mark.parametrize("case", CASES["addresses"], ids=_id)
def test_full_is_the_residents_words(case: dict[str, Any]) -> None:
    """``full`` is the normalised span, minus fillers: its characters appear in order."""
    norm = nlu.normalize_text(case["text"])
    loc = nlu.extract_location(case["text"])
    assert loc is not None
    rest = iter(norm)
    assert all(ch in rest for ch in loc.full), (loc.full, norm)
    assert norm.find(loc.full[:2]) >= 0


@pytest.mark.parametrize("text", CASES["no_address"], ids=_id)
def test_no_address(text: str) -> None:
    assert nlu.extract_location(text) is None


@pytest.mark.parametrize("case", CASES["answers"], ids=_id)
def test_address_answer(case: dict[str, Any]) -> None:
    answer = parse_address_answer(case["text"])
    assert answer.kind is AnswerKind[case["kind"]], answer
    assert answer.address == case.get("address")
    assert answer.field == case.get("field")
    if answer.kind is AnswerKind.ADDRESS and answer.location is not None:
        assert answer.location.full == answer.address


def test_answer_location_filled_for_full_addresses() -> None:
    answer = parse_address_answer("就在清华东路17号院那边")
    assert answer.location is not None
    assert (answer.location.road, answer.location.house_number) == ("清华东路", "17号院")
    assert parse_address_answer("学校门口").location is None


def test_location_keeps_field_order() -> None:
    loc = nlu.Location("海淀区", None, None, "海淀区")
    assert loc.full == "海淀区" and loc.district == "海淀区" and loc.road is None


def test_extract_location_is_fast() -> None:
    texts = [c["text"] for c in CASES["addresses"]]
    nlu.extract_location(texts[0])  # gazetteer and OpenCC load once
    start = time.perf_counter()
    for text in texts:
        nlu.extract_location(text)
    per_message_ms = (time.perf_counter() - start) * 1000 / len(texts)
    assert per_message_ms < 20, per_message_ms


BAD_INPUTS = ["", "   ", "😀😀😀", "hello, my flat is broken", "啊" * 10_000, "１２３４５"]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=_id)
def test_answer_bad_input_never_raises(text: str) -> None:
    assert parse_address_answer(text).kind in set(AnswerKind)
    assert parse_address_answer(None).kind is AnswerKind.UNCLEAR  # type: ignore[arg-type]
