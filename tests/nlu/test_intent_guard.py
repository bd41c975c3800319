"""The intent classifier's guess never overrides what the words say (nlu._guard)."""

from __future__ import annotations

import pytest

from nlu._guard import CHANNEL_ONLY_INTENTS, guard_intent

ADDRESSES = (
    "丰台区方庄街道芳城园一区12号楼2单元",
    "海淀区学院路街道清华东路17号院",
    "望京西园四区",
)


@pytest.mark.parametrize("intent", sorted(CHANNEL_ONLY_INTENTS))
@pytest.mark.parametrize("text", ADDRESSES)
def test_channel_only_intents_are_never_taken_from_text(intent: str, text: str) -> None:
    verdict = guard_intent(intent, text)
    assert verdict is not None and verdict[0] == "report_problem"


@pytest.mark.parametrize(
    "text",
    [
        "楼道里的灯坏了好几天了",
        "燃气表读数不对",
        "去年我父亲脑梗住院，医保报销有问题",
        "电梯广告太吵",
    ],
)
def test_emergency_needs_present_danger(text: str) -> None:
    verdict = guard_intent("emergency", text)
    assert verdict is not None and verdict[0] == "report_problem"


@pytest.mark.parametrize(
    "text", ["楼里着火了，有人被困在里面", "有人在小区门口打架，快来", "闻到很大的煤气味"]
)
@pytest.mark.parametrize("intent", ["report_problem", "nlu_fallback", "emergency"])
def test_present_danger_is_an_emergency_whatever_was_predicted(intent: str, text: str) -> None:
    verdict = guard_intent(intent, text)
    assert (verdict is None and intent == "emergency") or (verdict and verdict[0] == "emergency")


@pytest.mark.parametrize("intent", ["thank", "greet", "goodbye", "affirm", "deny", "cancel"])
def test_small_talk_or_cancel_is_not_taken_for_a_long_complaint(intent: str) -> None:
    text = "谢谢，我想反映一下小区门口的垃圾站好几天没人清理了味道很大"
    verdict = guard_intent(intent, text)
    assert verdict is not None and verdict[0] == "report_problem"


@pytest.mark.parametrize(
    ("intent", "text"), [("cancel", "算了"), ("thank", "谢谢"), ("greet", "你好")]
)
def test_short_small_talk_is_kept(intent: str, text: str) -> None:
    assert guard_intent(intent, text) is None


def test_handoff_and_status_need_their_words() -> None:
    assert guard_intent("request_human", "转人工") is None
    assert guard_intent("inquire_status", "查一下我的工单") is None
    assert guard_intent("request_human", "望京西园四区") == (
        "report_problem",
        "handoff without a word asking for a person",
    )
    assert guard_intent("inquire_status", "朝阳区劲松八区")[0] == "report_problem"  # type: ignore[index]
