"""``jiesu chat``: talk to a running stack from the terminal via ``/api/chat``."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp

__all__ = ["run_terminal_chat", "render"]


def render(messages: list[dict[str, Any]]) -> str:
    """Bot messages as terminal text; buttons as numbered choices."""
    lines: list[str] = []
    for msg in messages:
        if msg.get("text"):
            lines.append(f"🤖 {msg['text']}")
        buttons: list[dict[str, str]] = msg.get("buttons") or []
        for i, b in enumerate(buttons, 1):
            lines.append(f"   [{i}] {b['title']}")
    return "\n".join(lines)


async def run_terminal_chat(base_url: str, sender: str = "") -> int:
    sender = sender or f"cli:{uuid.uuid4().hex[:8]}"
    buttons: list[dict[str, str]] = []
    print("已连接 Jiesu。输入内容回车发送，按钮可输入编号，Ctrl-D 退出。")
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                text = await asyncio.to_thread(input, "您：")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.strip().isdigit() and buttons and 0 < int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            try:
                async with session.post(
                    f"{base_url}/api/chat", json={"sender": sender, "text": text}
                ) as resp:
                    body = await resp.json(content_type=None)
            except aiohttp.ClientError as exc:
                print(f"连接失败：{exc}。请确认 `make run` 正在运行。")
                continue
            messages = body.get("messages") or []
            buttons = [b for m in messages for b in (m.get("buttons") or [])]
            print(render(messages) or f"（{body.get('error', {}).get('message', '没有回复')}）")
