"""The answer to "是同一个问题吗？" in free text (buttons send 是同一个问题 / 不是同一个问题)."""

from __future__ import annotations

import pytest

from actions.parsing import parse_same_problem

SAME = ("是", "是的", "对", "对，就是这个", "是同一个问题", "没错", "一样", "就是这个问题", "嗯")
OTHER = (
    "不是",
    "不是同一个问题",
    "不对",
    "不一样",
    "不是，我说的是另一个",
    "两回事",
    "不是一个问题",
)
UNCLEAR = ("不清楚", "我也不知道", "我也说不好", "")


@pytest.mark.parametrize("text", SAME)
def test_same(text: str) -> None:
    assert parse_same_problem(text) is True


@pytest.mark.parametrize("text", OTHER)
def test_other(text: str) -> None:
    assert parse_same_problem(text) is False


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear(text: str) -> None:
    assert parse_same_problem(text) is None
