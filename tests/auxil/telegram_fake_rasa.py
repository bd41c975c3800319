"""A scripted stand-in for Rasa's REST channel (``POST /webhooks/rest/webhook``).

Used by the Telegram tests until they run against the real stack: each test
gives a ``script`` (sender, text, metadata) -> replies, and awaits what Rasa
received with :meth:`FakeRasa.next_received`.  ``down = True`` makes it answer
503 like a Rasa server that is still loading its model.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["FakeRasa", "Received", "Script"]

Reply = list[dict[str, Any]]
Script = Callable[[str, str, dict[str, Any]], Reply | Awaitable[Reply]]


@dataclass(frozen=True)
class Received:
    """One message Rasa received."""

    sender: str
    text: str
    metadata: dict[str, Any]


def echo(sender: str, text: str, metadata: dict[str, Any]) -> Reply:
    """Default script: ``收到：<text>``."""
    return [{"recipient_id": sender, "text": f"收到：{text}"}]


class FakeRasa:
    """In-process fake Rasa server on a loopback dynamic port."""

    def __init__(self, script: Script = echo) -> None:
        """Answer every message with ``script``'s replies."""
        self.script = script
        self.down = False
        self.port = 0
        self.received: list[Received] = []
        self._by_sender: dict[str, asyncio.Queue[Received]] = defaultdict(asyncio.Queue)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL for ``RasaClient``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def next_received(self, sender: str, timeout: float = 10.0) -> Received:
        """The next message Rasa received from ``sender``."""
        return await asyncio.wait_for(self._by_sender[sender].get(), timeout)

    def pending(self, sender: str) -> int:
        """Received messages of ``sender`` not yet taken by :meth:`next_received`."""
        return self._by_sender[sender].qsize()

    async def _status(self, _: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz"})

    async def _webhook(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="model not loaded")
        body = await request.json()
        got = Received(body["sender"], body["message"], body.get("metadata") or {})
        self.received.append(got)
        await self._by_sender[got.sender].put(got)
        replies = self.script(got.sender, got.text, got.metadata)
        if inspect.isawaitable(replies):
            replies = await replies
        return web.json_response(replies)
