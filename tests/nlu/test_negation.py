"""Negation scope shared by the answer parsers (pure)."""

from __future__ import annotations

import pytest

from nlu.negation import affirmed, negated, scope_text


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("不是很满意", "满意", True),
        ("不是特别满意", "满意", True),
        ("不是十分满意", "满意", True),
        ("不够满意", "满意", True),
        ("不算解决", "解决", True),
        ("没有联系我", "联系", True),
        ("别用这个号", "用这个", True),
        ("谈不上满意", "满意", True),
        ("不觉得他们让我满意", "满意", True),
        ("不是 很满意", "满意", True),
        # Not negated: no negator directly before, 特别 is a degree word, or a
        # clause break ends the scope.
        ("特别满意", "满意", False),
        ("没想到这么快就满意了", "满意", False),
        ("没想到，满意", "满意", False),
        ("谈不上好，但满意", "满意", False),
        ("还算满意", "满意", False),
    ],
)
def test_negation_scope(text: str, word: str, expected: bool) -> None:
    t = scope_text(text)
    assert negated(t, [word]) is expected
    assert affirmed(t, [word]) is not expected


def test_scope_text_keeps_clause_breaks_only() -> None:
    assert scope_text("联系过了。 “还行”吧！OK") == "联系过了，还行吧，ok"
