"""Turn Rasa replies into Telegram messages (pure: no I/O).

* Text longer than Telegram's 4,096-character limit is split, preferring line
  breaks, then sentence ends; buttons go on the last part.
* Rasa buttons become an inline keyboard.  ``callback_data`` may hold at most
  64 bytes, so longer payloads are replaced by a short ``#hash`` kept in
  :class:`~bot.channels.telegram.payloads.CallbackPayloads` (durable).
* A message whose ``custom`` is ``{"ask": "phone"}`` gets a reply keyboard with
  a "share my number" (``request_contact``) button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import MessageLimit

from bot.channels.telegram.payloads import CallbackPayloads
from bot.gateway.rasa_client import BotButton, BotMessage

__all__ = [
    "CONTACT_BUTTON",
    "CONTACT_PROMPT",
    "MAX_TEXT",
    "USED_MARK",
    "CallbackPayloads",
    "Outgoing",
    "asks_phone",
    "render",
    "split_text",
    "used_keyboard",
]

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
USED_MARK = "#used"
CONTACT_BUTTON = "📱 发送我的手机号"
CONTACT_PROMPT = "请点击下方“发送我的手机号”按钮，或直接输入您的手机号码。"
CHOOSE_PROMPT = "请选择："
_SHORT_TITLE = 6
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "；", "，", " ")


@dataclass(frozen=True)
class Outgoing:
    """One ``sendMessage``: text plus an optional keyboard."""

    text: str
    inline: InlineKeyboardMarkup | None = None
    contact: ReplyKeyboardMarkup | None = None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters.

    Cuts at the last paragraph break, line break, sentence end or space in
    the second half of the window, and hard-cuts only when there is none.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for mark in _BREAKS:
            pos = window.rfind(mark)
            if pos >= limit // 2:
                cut = pos + len(mark)
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def asks_phone(message: BotMessage) -> bool:
    """True when Rasa marked the message as asking for the resident's phone."""
    custom = message.get("custom") or {}
    return custom.get("ask") == "phone"


def _inline(buttons: Sequence[BotButton], payloads: CallbackPayloads) -> InlineKeyboardMarkup:
    keys = [
        InlineKeyboardButton(
            b["title"] or b["payload"], callback_data=payloads.encode(b["payload"])
        )
        for b in buttons
    ]
    if len(keys) <= 3 and all(len(b["title"]) <= _SHORT_TITLE for b in buttons):
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[k] for k in keys])


def contact_keyboard() -> ReplyKeyboardMarkup:
    """A one-time reply keyboard whose only button shares the resident's number."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(CONTACT_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder="手机号码",
    )


def used_keyboard(title: str) -> InlineKeyboardMarkup:
    """The keyboard that replaces a used one: a single inert "✓ title" button."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"✓ {title}", callback_data=USED_MARK)]])


def render(messages: Sequence[BotMessage], payloads: CallbackPayloads) -> list[Outgoing]:
    """Telegram messages for Rasa's ``messages``, in order.

    Args:
        messages: Normalised Rasa replies.
        payloads: Table for payloads too long for ``callback_data``.

    Returns:
        One :class:`Outgoing` per ``sendMessage`` call.
    """
    out: list[Outgoing] = []
    for msg in messages:
        buttons = msg.get("buttons") or []
        ask = asks_phone(msg)
        text = msg.get("text", "")
        if msg.get("image"):
            text = f"{text}\n{msg['image']}" if text else msg["image"]
        if not text:
            if buttons:
                text = CHOOSE_PROMPT
            elif ask:
                text = CONTACT_PROMPT
            else:
                continue
        parts = split_text(text)
        out.extend(Outgoing(p) for p in parts[:-1])
        last = parts[-1]
        if buttons:
            out.append(Outgoing(last, inline=_inline(buttons, payloads)))
            if ask:
                out.append(Outgoing(CONTACT_PROMPT, contact=contact_keyboard()))
        elif ask:
            out.append(Outgoing(last, contact=contact_keyboard()))
        else:
            out.append(Outgoing(last))
    return out
