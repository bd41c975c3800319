"""Free-text survey answers → slot values (pure)."""

from __future__ import annotations

import pytest

from actions.survey_parsing import (
    LATER,
    OPT_OUT,
    parse_answers,
    parse_control,
    parse_satisfaction,
    parse_yes_no,
)


@pytest.mark.parametrize(
    "text, level",
    [
        ("满意", "满意"),
        ("非常满意，谢谢", "满意"),
        ("还行吧", "基本满意"),
        ("基本满意", "基本满意"),
        ("一般般", "基本满意"),
        ("不满意", "不满意"),
        ("不太满意", "不满意"),
        ("太差了", "不满意"),
        ("根本没人管", "不满意"),
        ("嗯？", None),
        # Hedged negation is 不满意, not 满意 (the ticket must reopen).
        ("不是很满意", "不满意"),
        ("不是特别满意", "不满意"),
        ("不够满意", "不满意"),
        ("谈不上满意", "不满意"),
        ("算不上满意", "不满意"),
        ("不是非常满意", "不满意"),
        ("不觉得满意", "不满意"),
        ("说不上很满意吧", "不满意"),
        ("不是 很满意", "不满意"),
        ("挺满意", "满意"),
        ("特别满意", "满意"),
        ("还算满意", "基本满意"),
        # A clause break ends the negation scope.
        ("没想到，挺满意的", "满意"),
        ("谈不上快，但挺满意", "满意"),
    ],
)
def test_satisfaction(text: str, level: str | None) -> None:
    assert parse_satisfaction(text) == level


def test_nobody_came_settles_everything() -> None:
    assert parse_answers("根本没人管！") == {
        "survey_contacted": "no",
        "survey_resolved": "no",
        "survey_satisfaction": "不满意",
        "survey_reason": "根本没人管！",
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("已联系", {"survey_contacted": "yes"}),
        ("未联系", {"survey_contacted": "no"}),
        ("没有人联系我", {"survey_contacted": "no"}),
        ("联系过了，路灯修好了，还行吧", {
            "survey_contacted": "yes", "survey_resolved": "yes", "survey_satisfaction": "基本满意",
        }),
        ("已解决", {"survey_resolved": "yes"}),
        ("还是老样子，没修好", {"survey_resolved": "no"}),
        ("未解决", {"survey_resolved": "no"}),
        ("没解决", {"survey_resolved": "no"}),
        ("还没解决", {"survey_resolved": "no"}),
        ("不算解决", {"survey_resolved": "no"}),
        ("谈不上解决了", {"survey_resolved": "no"}),
        ("没清理", {"survey_resolved": "no"}),
        ("没人联系", {"survey_contacted": "no"}),
        ("没有联系我", {"survey_contacted": "no"}),
        ("不算联系过", {"survey_contacted": "no"}),
        ("没来人", {"survey_contacted": "no"}),
        ("联系过了，不是很满意", {"survey_contacted": "yes", "survey_satisfaction": "不满意"}),
        ("没想到，联系过了", {"survey_contacted": "yes"}),
    ],
)  # fmt: skip
def test_answers(text: str, expected: dict[str, str]) -> None:
    assert parse_answers(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("现在不方便", LATER), ("在开车，晚点再说", LATER), ("别再打了", OPT_OUT),
     ("以后不要回访了", OPT_OUT), ("满意", None)],
)  # fmt: skip
def test_control(text: str, expected: str | None) -> None:
    assert parse_control(text) == expected


@pytest.mark.parametrize(
    "text, expected", [("是的", "yes"), ("有", "yes"), ("没有", "no"), ("否", "no"), ("路灯", None)]
)
def test_yes_no(text: str, expected: str | None) -> None:
    assert parse_yes_no(text) == expected
