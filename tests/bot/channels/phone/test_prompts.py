"""Pure rules of the voice channel."""

from __future__ import annotations

import pytest

from bot.channels.phone.prompts import (
    button_options,
    is_done,
    match_button,
    opens_form,
    phone_action,
    speech_chunks,
    spoken_reply,
    wants_human,
    wrap_up_answer,
)
from bot.gateway.rasa_client import BotButton
from speech.tts_text import normalise_for_speech, speak_masked_numbers

BUTTONS: list[BotButton] = [
    {"title": "满意", "payload": "/satisfied"},
    {"title": "不满意", "payload": "/unsatisfied"},
]


def test_buttons_are_read_as_keypad_options() -> None:
    assert button_options(BUTTONS) == "满意请按1，不满意请按2。"
    text, buttons = spoken_reply([
        {"text": "请评价本次服务 **谢谢** https://x.cn/s 😀"}, {"text": "第二句", "buttons": BUTTONS},
    ])  # fmt: skip
    assert text == "请评价本次服务 谢谢。第二句。满意请按1，不满意请按2。" and buttons == BUTTONS


def test_spoken_answers_map_to_payloads() -> None:
    assert match_button("不满意", BUTTONS) == "/unsatisfied"  # longest title wins
    assert match_button("我觉得满意。", BUTTONS) == "/satisfied"
    assert match_button("按二", BUTTONS) == "/unsatisfied"
    assert match_button("2", BUTTONS) == "/unsatisfied"
    assert match_button("三", BUTTONS) is None and match_button("随便", []) is None


def test_call_control() -> None:
    assert wants_human("帮我转人工") and not wants_human("人行道坏了")
    assert phone_action([{"text": "再见", "custom": {"phone": "hangup"}}]) == "hangup"
    assert phone_action([{"custom": {"handoff": True}}]) == "transfer"
    assert phone_action([{"text": "hi"}]) is None


# The menus the phone flow reads out, as actions/form_complaint.py and
# actions/actions_survey.py send them.
ANONYMOUS: list[BotButton] = [
    {"title": "需要保密", "payload": "需要保密"},
    {"title": "不需要", "payload": "不需要保密"},
]
READ_BACK: list[BotButton] = [
    {"title": "确认提交", "payload": "确认"},
    {"title": "修改", "payload": "需要修改"},
    {"title": "取消", "payload": "取消"},
]
SATISFACTION: list[BotButton] = [
    {"title": "满意", "payload": "满意"},
    {"title": "基本满意", "payload": "基本满意"},
    {"title": "不满意", "payload": "不满意"},
]
OWN_NUMBER: list[BotButton] = [{"title": "用 138****1111", "payload": "+8613800001111"}]
CATEGORY: list[BotButton] = [
    {"title": "市容环境·噪音", "payload": "噪音"},
    {"title": "其他", "payload": "其他"},
]


@pytest.mark.parametrize(
    ("answer", "buttons", "payload"),
    [
        ("不需要保密", ANONYMOUS, "不需要保密"),  # not 需要保密, found inside it
        ("我不需要", ANONYMOUS, "不需要保密"),
        ("需要保密", ANONYMOUS, "需要保密"),
        ("不，需要保密", ANONYMOUS, "需要保密"),  # the comma ends the negation
        ("不用保密", ANONYMOUS, None),  # no title said plainly: Rasa reads it
        ("没必要需要保密", ANONYMOUS, None),
        ("别取消", READ_BACK, None),
        ("不用修改了确认提交", READ_BACK, "确认"),
        ("不是很满意", SATISFACTION, "不满意"),  # not 满意: the 不 button
        ("不满意", SATISFACTION, "不满意"),
        ("基本满意", SATISFACTION, "基本满意"),  # the longest title wins
        ("满意，不是不满意", SATISFACTION, "满意"),
        ("市容环境噪音", CATEGORY, "噪音"),
    ],
)
def test_a_negated_title_never_selects_its_button(
    answer: str, buttons: list[BotButton], payload: str | None
) -> None:
    assert match_button(answer, buttons) == payload


@pytest.mark.parametrize("answer", ["是", "是的", "对", "可以", "好", "嗯", "行", "好的。", "对对对",
                                    "就用这个号码"])  # fmt: skip
def test_a_bare_yes_selects_the_only_button(answer: str) -> None:
    # What the web and Telegram button sends: the number itself.
    assert match_button(answer, OWN_NUMBER) == "+8613800001111"


@pytest.mark.parametrize("answer", ["不是", "不用", "换一个", "不对", "是13900001111"])
def test_a_no_at_a_single_button_goes_to_rasa_as_text(answer: str) -> None:
    assert match_button(answer, OWN_NUMBER) is None


def test_a_bare_yes_with_several_buttons_is_left_to_rasa() -> None:
    assert match_button("是", ANONYMOUS) is None


def test_masked_numbers_are_read_as_their_tail() -> None:
    text, _ = spoken_reply([
        {"text": "请问联系电话用您现在的号码 138****1111 吗？", "buttons": OWN_NUMBER},
    ])  # fmt: skip
    assert "1381111" not in text
    assert text == "请问联系电话用您现在的号码 尾号1111 吗？用 尾号1111请按1。"
    assert normalise_for_speech("号码 +86*******1111") == "号码 尾号幺幺幺幺"
    assert normalise_for_speech("****2345") == "尾号二三四五"
    assert speak_masked_numbers("**12345** 和 **谢谢**") == "**12345** 和 **谢谢**"  # Markdown


READ_BACK_TEXT = (
    "请核对您的诉求：\n类型：投诉\n类别：市容环境·噪音\n地点：望京西园三区\n"
    "联系电话：13800001111\n个人信息保密：否\n"
    "信息无误请回复“确认”；不需要了请说“取消”。"
)


def test_replies_are_cut_at_colons_semicolons_and_line_breaks() -> None:
    chunks = speech_chunks(READ_BACK_TEXT)
    assert "".join(chunks) == READ_BACK_TEXT  # nothing lost
    assert chunks == [
        "请核对您的诉求：", "\n类型：投诉\n", "类别：市容环境·噪音\n", "地点：望京西园三区\n",
        "联系电话：", "13800001111\n", "个人信息保密：否\n", "信息无误请回复“确认”；",
        "不需要了请说“取消”。",
    ]  # fmt: skip
    assert speech_chunks("好的。请问地址在哪里？") == ["好的。请问地址在哪里？"]
    assert speech_chunks("") == [] and speech_chunks("好。") == ["好。"]


@pytest.mark.parametrize(
    ("answer", "done"),
    [("没有", True), ("没了", True), ("再见", True), ("没有了，谢谢，再见。", True),
     ("好的谢谢", True), ("嗯", False), ("有", False), ("还有一个问题", False),
     ("没有路灯", False)],
)  # fmt: skip
def test_nothing_more_to_say(answer: str, done: bool) -> None:
    assert is_done(answer) is done


@pytest.mark.parametrize(
    "answer",
    ["不是非常满意", "不是十分满意", "谈不上满意", "算不上满意", "不觉得满意", "不太满意",
     "不是特别满意"],
)  # fmt: skip
def test_a_qualified_no_selects_the_negative_button(answer: str) -> None:
    assert match_button(answer, SATISFACTION) == "不满意"
    # Without a 不满意 button the answer is Rasa's to read, never 满意.
    assert match_button(answer, SATISFACTION[:2]) is None


@pytest.mark.parametrize(
    "answer",
    ["没有其他问题了", "没问题了", "暂时没有", "没什么了", "没其他事了", "不需要了", "就这样吧",
     "没了谢谢", "不用了，谢谢", "没有别的事情了"],
)  # fmt: skip
def test_common_ways_of_saying_nothing_more(answer: str) -> None:
    assert is_done(answer)
    assert wrap_up_answer(answer) == "done"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [("有", "more"), ("还有", "more"), ("有，还有一个问题", "more"), ("还有一件事", "more"),
     ("嗯", "again"), ("好", "again"), ("对", "again"), ("是的", "again"),
     ("没什么问题", "done"), ("不了", "done"),
     ("还有，楼下路灯也坏了", "talk"), ("没有路灯", "talk"), ("谢谢，我还想问一下", "talk")],
)  # fmt: skip
def test_wrap_up_answers_without_a_problem_stay_local(answer: str, kind: str) -> None:
    assert wrap_up_answer(answer) == kind


def test_a_form_prompt_is_told_from_a_closing_reply() -> None:
    assert opens_form([{"text": "在哪里？", "custom": {"ask": "location"}}])
    assert opens_form([{"text": "哪一类？", "buttons": [{"title": "其他", "payload": "其他"}]}])
    assert not opens_form([{"text": "感谢您的来电来信，再见！"}])


def test_wrap_up_is_a_call_control_request() -> None:
    assert phone_action([{"text": "工单号：BJ1", "custom": {"phone": "wrap_up"}}]) == "wrap_up"
