"""A fake Rasa server speaking the REST channel (``POST /webhooks/rest/webhook``).

Replies come from a small scripted hotline dialogue so call-flow tests can run
without Rasa; every received message is queued for assertions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["FakeRasa", "Received", "hotline_reply"]

CONFIRM_BUTTONS = [{"title": "确认", "payload": "/affirm"}, {"title": "修改", "payload": "/deny"}]


@dataclass(frozen=True)
class Received:
    """One message the gateway sent to Rasa."""

    sender: str
    message: str
    metadata: dict[str, Any]


def hotline_reply(message: str, history: list[str]) -> list[dict[str, Any]]:
    """A tiny 12345 intake dialogue: complaint -> address -> confirm -> ticket."""
    if message == "/call_ended":
        return [{"text": "您反映的内容已记录，工作人员会尽快回电。"}]
    if message == "/affirm":
        return [{"text": "已为您登记，工单号BJ20240001。感谢来电，再见。",
                 "custom": {"phone": "hangup"}}]  # fmt: skip
    if message in ("/deny", "不对"):
        return [{"text": "好的，请说出正确的地址。"}]
    if len(history) == 1:
        return [{"text": "请问具体地址在哪里？"}]
    return [{"text": f"您反映的问题地址是{message}，请确认。", "buttons": CONFIRM_BUTTONS}]


@dataclass
class FakeRasa:
    """The server's state: what was received, per sender history."""

    received: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    log: list[Received] = field(default_factory=list)
    history: dict[str, list[str]] = field(default_factory=dict)
    fail: bool = False

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        return app

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        rec = Received(body["sender"], body["message"], body.get("metadata") or {})
        self.log.append(rec)
        self.received.put_nowait(rec)
        if self.fail:
            return web.Response(status=503)
        hist = self.history.setdefault(rec.sender, [])
        if not rec.message.startswith("/"):
            hist.append(rec.message)
        return web.json_response(
            [{"recipient_id": rec.sender, **m} for m in hotline_reply(rec.message, hist)]
        )

    def messages(self, sender: str | None = None) -> list[str]:
        """Messages received (optionally for one sender), in order."""
        return [r.message for r in self.log if sender is None or r.sender == sender]

    async def wait_for(self, message: str, timeout: float = 60.0) -> Received:
        """Await the next occurrence of ``message`` (safety-net timeout)."""

        async def _get() -> Received:
            while True:
                rec = await self.received.get()
                if rec.message == message:
                    return rec

        return await asyncio.wait_for(_get(), timeout)
