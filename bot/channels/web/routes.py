"""Web channel: ``POST /api/chat`` and the browser chat page at ``/``.

The JSON contract (used by the page, ``jiesu chat``, tests and benchmarks)::

    POST /api/chat {"sender": "...", "text": "...", "metadata": {...}}
    200 {"messages": [{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}]}

Bad requests get a 4xx with ``{"error": {"code": ..., "message": ...}}``;
input the resident typed (empty, very long, emoji, another script) always
gets a reply the resident can act on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.gateway.app_keys import CONFIG, RASA_CLIENT
from bot.gateway.rasa_client import BotMessage, RasaUnavailable, prefixed_sender

__all__ = ["setup", "chat_reply", "EMPTY_INPUT_REPLY", "RASA_DOWN_REPLY"]

log = logging.getLogger("jiesu.web")
STATIC_DIR = Path(__file__).parent / "static"
MAX_SENDER_LEN = 128
EMPTY_INPUT_REPLY = "您好像没有输入内容。请直接说说您遇到的问题，比如“小区门口的路灯坏了”。"
RASA_DOWN_REPLY = "系统正在启动或繁忙，您的话没有丢失，请稍后再发一次，或直接拨打12345。"


def _json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def chat_reply(
    app: web.Application, sender: str, text: str, metadata: dict[str, Any]
) -> list[BotMessage]:
    """One resident turn through Rasa, with the web channel's input rules."""
    if not text.strip():
        return [{"text": EMPTY_INPUT_REPLY}]
    max_chars = app[CONFIG].max_message_chars
    if len(text) > max_chars:
        return [
            {
                "text": f"您的消息有{len(text)}字，超过了单条{max_chars}字的上限。"
                "请分几段发送，或先用一两句话说明主要问题。"
            }
        ]
    return await app[RASA_CLIENT].send(sender, text, metadata)


async def post_chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json_error(400, "invalid_json", "request body must be JSON")
    if not isinstance(body, dict):
        return _json_error(400, "invalid_body", "request body must be a JSON object")
    sender, text, metadata = body.get("sender"), body.get("text", ""), body.get("metadata", {})
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LEN:
        return _json_error(
            400, "invalid_sender", f"sender must be a non-empty string ≤ {MAX_SENDER_LEN}"
        )
    if not isinstance(text, str):
        return _json_error(400, "invalid_text", "text must be a string")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return _json_error(400, "invalid_metadata", "metadata must be an object")
    metadata = {"channel": "web", **metadata}
    try:
        messages = await chat_reply(
            request.app, prefixed_sender("web", sender.strip()), text, metadata
        )
    except RasaUnavailable as exc:
        log.warning("rasa unavailable: %s", exc)
        return web.json_response({"messages": [{"text": RASA_DOWN_REPLY}]}, status=503)
    return web.json_response({"messages": messages})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def setup(app: web.Application) -> None:
    """Register the web channel's routes."""
    app.router.add_post("/api/chat", post_chat)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
