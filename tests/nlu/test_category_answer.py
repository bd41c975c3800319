"""A category typed in words at the disambiguation question."""

from __future__ import annotations

import pytest

from nlu import match_category_answer

CANDIDATES = ["物业管理", "噪音扰民", "施工管理"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("是噪音的问题", "噪音扰民"),
        ("噪音扰民", "噪音扰民"),
        ("物业管理", "物业管理"),
        ("主要是物业不管", "物业管理"),
        ("环境保护·噪音扰民", "噪音扰民"),  # a button title typed
        ("工地施工的事", "施工管理"),
        ("其实是停水了", "供水"),  # none of the buttons: the words still decide
    ],
)
def test_reply_names_a_category(reply: str, expected: str) -> None:
    assert match_category_answer(reply, CANDIDATES) == expected


@pytest.mark.parametrize("reply", ["嗯", "", "你好"])
def test_reply_without_a_category(reply: str) -> None:
    assert match_category_answer(reply, CANDIDATES) is None
