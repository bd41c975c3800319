"""Fixed phone prompts and the pure text rules of the voice channel."""

from __future__ import annotations

import re

from bot.rasa_client import BotButton, BotMessage

__all__ = [
    "GOODBYE_NO_INPUT",
    "GOODBYE_SILENT",
    "GREETING",
    "GREETING_QUESTION",
    "NOT_UNDERSTOOD",
    "NO_INPUT",
    "SYSTEM_BUSY",
    "TRANSFER",
    "TRANSFER_UNAVAILABLE",
    "button_options",
    "match_button",
    "phone_action",
    "spoken_reply",
    "wants_human",
]

GREETING = "您好，这里是12345市民服务热线智能助理。请说出您要反映的问题，需要人工服务请说转人工。"
GREETING_QUESTION = "请说出您要反映的问题。"
NO_INPUT = "抱歉，没有听到您的声音，请再说一遍。"
NOT_UNDERSTOOD = "抱歉，我没有听清，请再说一遍。"
GOODBYE_NO_INPUT = (
    "一直没有听到您的声音。您已经反映的内容我们会记录下来，工作人员会尽快回电。感谢来电，再见。"
)
GOODBYE_SILENT = "一直没有听到您的声音，请稍后再拨12345。再见。"
SYSTEM_BUSY = "抱歉，系统繁忙。您反映的内容我们会记录下来，工作人员会尽快回电。再见。"
TRANSFER = "正在为您转接人工服务，请稍候。"
TRANSFER_UNAVAILABLE = "抱歉，人工坐席暂时无法接通。您反映的问题我们已记录，工作人员会尽快回电。"

_HUMAN = ("转人工", "人工服务", "人工客服", "找人工")
_DIGIT_WORDS = {"一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                "七": 7, "八": 8, "九": 9}  # fmt: skip
_URL = re.compile(r"https?://\S+")
_NOT_SPOKEN = re.compile(r"[*_#`>|\[\]]|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


def button_options(buttons: list[BotButton]) -> str:
    """Read buttons as keypad options: 确认请按1，修改请按2。"""
    parts = [f"{b['title']}请按{i}" for i, b in enumerate(buttons, 1) if b.get("title")]
    return ("，".join(parts) + "。") if parts else ""


def spoken_reply(messages: list[BotMessage]) -> tuple[str, list[BotButton]]:
    """Join Rasa replies into one spoken text and return the buttons offered last."""
    texts: list[str] = []
    buttons: list[BotButton] = []
    for msg in messages:
        text = _NOT_SPOKEN.sub("", _URL.sub("", msg.get("text", ""))).strip()
        if text:
            texts.append(text if text[-1] in "。！？!?，,；;：:" else text + "。")
        if msg.get("buttons"):
            buttons = list(msg["buttons"])
    options = button_options(buttons)
    return "".join(texts) + options, buttons


def match_button(text: str, buttons: list[BotButton]) -> str | None:
    """Map a spoken answer or a key to a button payload.

    Accepts the exact title, a title contained in the answer (longest first, so
    不满意 wins over 满意), or the option number ("1", "一", "按一").
    """
    t = re.sub(r"[\s。，！？,.!?]", "", text)
    if not t or not buttons:
        return None
    for b in buttons:
        if t == b["title"]:
            return b["payload"]
    for b in sorted(buttons, key=lambda b: len(b["title"]), reverse=True):
        if b["title"] and b["title"] in t:
            return b["payload"]
    t = t.removeprefix("按").removeprefix("第")
    n = int(t) if t.isdigit() else _DIGIT_WORDS.get(t)
    if n is not None and 1 <= n <= len(buttons):
        return buttons[n - 1]["payload"]
    return None


def wants_human(text: str) -> bool:
    """True when the resident asks for a human agent (转人工)."""
    return any(k in text for k in _HUMAN)


def phone_action(messages: list[BotMessage]) -> str | None:
    """A call-control request in Rasa's ``custom`` payload.

    ``{"phone": "hangup"}`` / ``{"phone": "transfer"}`` (or ``{"handoff": true}``).
    """
    for msg in messages:
        custom = msg.get("custom") or {}
        action = custom.get("phone")
        if action in ("hangup", "transfer"):
            return str(action)
        if custom.get("handoff"):
            return "transfer"
    return None
