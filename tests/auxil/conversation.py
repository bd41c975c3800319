"""Drive a complaint conversation to the read-back by answering what the bot asks."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

Say = Callable[[str], Awaitable[list[dict[str, Any]]]]

DEFAULT_ANSWERS = {
    "location": "朝阳区望京西园四区3号楼",
    "phone": "13800138000",
    "anonymous": "不需要保密",
    "description": "小区门口的路灯坏了一个星期了",
}
TICKET_RE = re.compile(r"(?:工单号|参考号)：([A-Z]{2}\d{8}-[0-9A-Z]{6})")


def question_kind(messages: list[dict[str, Any]]) -> str | None:
    """What the bot's last turn asks for (its last question; repair replies come before it)."""
    for message in reversed(messages):
        kind = _kind_of(message.get("text", ""))
        if kind is not None:
            return kind
    return None


def _kind_of(text: str) -> str | None:
    if "请核对" in text:
        return "readback"
    if "哪一类" in text:
        return "category"
    if "什么地方" in text or "补充一下具体地址" in text:
        return "location"
    if "联系电话" in text:
        return "phone"
    if "保密" in text:
        return "anonymous"
    if "描述一下" in text or "用文字描述" in text:
        return "description"
    return None


async def answer_until_readback(
    say: Say, first: list[dict[str, Any]], answers: dict[str, str] | None = None, max_turns: int = 8
) -> tuple[list[dict[str, Any]], list[str]]:
    """Answer questions until the read-back; returns it and the kinds asked, in order."""
    answers = {**DEFAULT_ANSWERS, **(answers or {})}
    messages, asked = first, []
    for _ in range(max_turns):
        kind = question_kind(messages)
        if kind == "readback":
            return messages, asked
        if kind is None:
            raise AssertionError(f"unexpected bot turn: {messages}")
        asked.append(kind)
        if kind == "category":
            buttons = [b for m in messages for b in m.get("buttons", [])]
            reply = answers.get("category") or buttons[0]["payload"]
        else:
            reply = answers[kind]
        messages = await say(reply)
    raise AssertionError(f"no read-back after {max_turns} turns; asked {asked}")


def ticket_id_in(messages: list[dict[str, Any]]) -> str:
    text = "\n".join(m.get("text", "") for m in messages)
    match = TICKET_RE.search(text)
    assert match, f"no ticket number in: {text}"
    return match.group(1)


async def wait_for(
    check: Callable[[], Awaitable[Any]], timeout_s: float = 20.0, what: str = "condition"
) -> Any:
    """Poll an async check until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = await check()
        except (aiohttp.ClientError, AssertionError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
