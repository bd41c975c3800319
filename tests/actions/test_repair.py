"""Conversation repair: a reply is read in the context of the question that was asked.

Each class of reply has several wordings; the rule must hold for all of them (reviewers
try others).  Pure functions, no Rasa.
"""

from __future__ import annotations

import pytest

from actions.repair import Move, after_miss, cancel_check_answer, read_reply
from actions.slot_values import UNKNOWN_LOCATION

OPTIONAL = ("anonymous", "contact_phone", "complaint_location")
DECLINES = (
    "不用",
    "不用保密",
    "不需要",
    "没有",
    "无所谓",
    "不用了",
    "不需要了",
    "不用了谢谢",
    "不必了",
)
CANCELS = (
    "算了",
    "算了吧",
    "取消",
    "取消吧",
    "不登记了",
    "我不想反映了",
    "不报了",
    "不投诉了",
    "那就取消登记",
)
QUESTIONS = {
    "你们多久能处理？": "deadline",
    "大概几天能有人来": "deadline",
    "这归谁管": "department",
    "这事你们管不管": "department",
    "会不会泄露我的信息": "privacy",
    "我先想想": "wait",
    "等一下": "wait",
}
FILLED = {"complaint_description": "楼下烧烤店每天晚上吵到两点", "complaint_category": "噪音扰民"}


@pytest.mark.parametrize("slot", ["anonymous", "complaint_location"])
@pytest.mark.parametrize("text", DECLINES)
def test_declining_an_optional_question_declines_only_it(slot: str, text: str) -> None:
    reading = read_reply(slot, text, FILLED)
    assert reading.move in (Move.DECLINE, Move.ANSWER), reading
    assert reading.move is not Move.CANCEL
    if slot == "anonymous":
        assert reading.slots == {"anonymous": "false"}
    else:
        assert reading.slots == {"complaint_location": UNKNOWN_LOCATION}


@pytest.mark.parametrize("text", ["不用", "不留", "不想留", "不方便", "不用了"])
def test_declining_the_phone_without_an_offered_number(text: str) -> None:
    reading = read_reply("contact_phone", text, FILLED)
    assert reading.move is not Move.CANCEL
    assert reading.slots.get("contact_phone") == "未留"


@pytest.mark.parametrize("text", ["不", "不对", "不是", "不行", "不用这个号"])
def test_no_to_the_offered_number_asks_for_another(text: str) -> None:
    reading = read_reply("contact_phone", text, FILLED, channel_phone="13800138000")
    assert reading.move is Move.UNCLEAR and reading.problem == "utter_problem_phone_other"


@pytest.mark.parametrize("text", ["不用", "不用了", "不需要", "不留了"])
def test_declining_the_offered_number_declines_the_phone(text: str) -> None:
    reading = read_reply("contact_phone", text, FILLED, channel_phone="13800138000")
    assert reading.slots == {"contact_phone": "未留"}


@pytest.mark.parametrize(
    "slot", ["complaint_description", "complaint_category", *OPTIONAL, "confirmation"]
)
@pytest.mark.parametrize("text", CANCELS)
def test_a_cancel_is_a_cancel_request_at_every_question(slot: str, text: str) -> None:
    assert read_reply(slot, text, FILLED).move is Move.CANCEL


@pytest.mark.parametrize("slot", ["complaint_category", *OPTIONAL])
@pytest.mark.parametrize(("text", "topic"), QUESTIONS.items())
def test_a_question_back_is_answered_never_stored(slot: str, text: str, topic: str) -> None:
    reading = read_reply(slot, text, FILLED)
    assert reading.move is Move.QUESTION, reading
    assert reading.topic == topic
    assert slot not in reading.slots


@pytest.mark.parametrize(
    ("text", "topic"),
    [("为什么要地址", "why_complaint_location"), ("为啥要留电话", "why_contact_phone")],
)
def test_why_questions_name_their_field(text: str, topic: str) -> None:
    slot = "complaint_location" if "地址" in text else "contact_phone"
    assert read_reply(slot, text, FILLED).topic == topic


@pytest.mark.parametrize(
    "address",
    [
        "海淀区学院路街道清华东路17号院",
        "东城区东四十条甲22号",
        "丰台区方庄街道芳城园一区12号楼2单元",
        "朝阳区劲松街道劲松八区",
    ],
)
def test_an_address_at_the_phone_question_fills_the_address(address: str) -> None:
    reading = read_reply("contact_phone", address, FILLED)
    assert reading.move is Move.OTHER_FIELD
    assert reading.slots.get("complaint_location") == address
    assert "contact_phone" not in reading.slots


@pytest.mark.parametrize(
    "address",
    [
        "海淀区学院路街道清华东路17号院",
        "东城区东四十条甲22号",
        "丰台区方庄街道芳城园一区12号楼2单元",
        "就在朝阳区望京西园四区3号楼那边",
    ],
)
def test_an_address_answer_is_kept_whole(address: str) -> None:
    reading = read_reply("complaint_location", address, FILLED)
    assert reading.move is Move.ANSWER
    assert reading.slots["complaint_location"] in address
    assert reading.slots["complaint_location"].endswith(("号院", "22号", "单元", "3号楼"))


def test_a_phone_number_at_the_address_question_is_the_phone() -> None:
    reading = read_reply("complaint_location", "13812345678", FILLED)
    assert reading.move is Move.OTHER_FIELD
    assert reading.slots == {"contact_phone": "13812345678"}


def test_address_and_phone_at_the_category_question() -> None:
    reading = read_reply("complaint_category", "朝阳区劲松街道劲松八区，电话13812345678", FILLED)
    assert reading.move is Move.OTHER_FIELD
    assert reading.slots["complaint_location"] == "朝阳区劲松街道劲松八区"
    assert reading.slots["contact_phone"] == "13812345678"
    assert "complaint_category" not in reading.slots


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("不，还是继续登记吧", False),
        ("继续", False),
        ("继续登记", False),
        ("不不，要登记的", False),
        ("别取消", False),
        ("确定", True),
        ("确定不登记了", True),
        ("对，不登记了", True),
        ("是的", True),
        ("嗯", True),
        ("啊？", None),
    ],
)
def test_the_cancel_check(text: str, answer: bool | None) -> None:
    assert cancel_check_answer(text) is answer


def test_two_misses_keep_words_but_never_a_question() -> None:
    asked = read_reply("complaint_location", "你们多久能处理？", FILLED)
    assert after_miss("complaint_location", "你们多久能处理？", asked) == {
        "complaint_location": UNKNOWN_LOCATION
    }
    unclear = read_reply("complaint_category", "嗯嗯", FILLED)
    assert after_miss("complaint_category", "嗯嗯", unclear) == {"complaint_category": "其他"}
