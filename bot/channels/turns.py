"""What every channel shares: one resident turn through Rasa, and the replies that do not
come from Rasa (empty input, a message over the length limit, Rasa unavailable).

Web, Telegram and the terminal chat call :func:`chat_reply`; the phone channel speaks its
own prompts (``bot.channels.phone.prompts``) but uses :data:`RASA_DOWN_REPLY`'s rule too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.gateway.app_keys import CONFIG, RASA_CLIENT
from bot.gateway.rasa_client import BotMessage

__all__ = ["EMPTY_INPUT_REPLY", "RASA_DOWN_REPLY", "chat_reply", "too_long_reply"]

EMPTY_INPUT_REPLY = "您好像没有输入内容。请直接说说您遇到的问题，比如“小区门口的路灯坏了”。"
RASA_DOWN_REPLY = "系统正在启动或繁忙，您的话没有丢失，请稍后再发一次，或直接拨打12345。"


def too_long_reply(length: int, max_chars: int) -> str:
    """The answer to a message over ``JIESU_MAX_MESSAGE_CHARS``."""
    return (
        f"您的消息有{length}字，超过了单条{max_chars}字的上限。"
        "请分几段发送，或先用一两句话说明主要问题。"
    )


async def chat_reply(
    app: web.Application, sender: str, text: str, metadata: dict[str, Any]
) -> list[BotMessage]:
    """One resident turn through Rasa, with the input rules every text channel applies.

    Raises:
        RasaUnavailable: Rasa did not answer; the caller replies :data:`RASA_DOWN_REPLY`.
    """
    if not text.strip():
        return [{"text": EMPTY_INPUT_REPLY}]
    max_chars = app[CONFIG].max_message_chars
    if len(text) > max_chars:
        return [{"text": too_long_reply(len(text), max_chars)}]
    return await app[RASA_CLIENT].send(sender, text, metadata)
