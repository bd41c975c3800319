"""Pure rules of the voice channel."""

from __future__ import annotations

from bot.phone_prompts import button_options, match_button, phone_action, spoken_reply, wants_human
from bot.rasa_client import BotButton

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
