"""Web channel: ``POST /api/chat`` and the browser chat page at ``/``.

The JSON contract (used by the page, ``jiesu chat``, tests and benchmarks)::

    POST /api/chat {"sender": "...", "text": "...", "metadata": {...}}
    200 {"messages": [{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}]}

While Rasa is down the answer is ``202 {"messages": [busy reply], "held": true}``: the
words are kept and replayed (``bot.channels.held_turns``); their answers come with the
next reply or from ``GET /api/chat/pending``.  Bad requests get a 4xx with ``{"error": {"code": ..., "message": ...}}``;
input the resident typed (empty, very long, emoji, another script) always
gets a reply the resident can act on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from aiohttp import web

from bot.channels.turns import RASA_DOWN_REPLY, chat_reply
from bot.gateway.app_keys import CONFIG
from bot.gateway.errors import json_error
from bot.gateway.rasa_client import RasaUnavailable
from hotline.channels import prefixed_sender
from hotline.throttle import ChatThrottle, Verdict

__all__ = ["setup"]

log = logging.getLogger("jiesu.web")
STATIC_DIR = Path(__file__).parent / "static"
MAX_SENDER_LEN = 128
THROTTLED_REPLY = "您发送得太快了，请稍等片刻再发。"
WEB_THROTTLE = web.AppKey("web_throttle", ChatThrottle)


async def post_chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return json_error(400, "invalid_json", "request body must be JSON")
    if not isinstance(body, dict):
        return json_error(400, "invalid_body", "request body must be a JSON object")
    sender, text, metadata = body.get("sender"), body.get("text", ""), body.get("metadata", {})
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LEN:
        return json_error(
            400, "invalid_sender", f"sender must be a non-empty string ≤ {MAX_SENDER_LEN}"
        )
    if not isinstance(text, str):
        return json_error(400, "invalid_text", "text must be a string")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return json_error(400, "invalid_metadata", "metadata must be an object")
    metadata = {"channel": "web", **metadata}
    if request.app[WEB_THROTTLE].check(sender.strip()) is not Verdict.ALLOW:
        log.info("web sender throttled")
        return web.json_response(
            {
                "messages": [{"text": THROTTLED_REPLY}],
                "error": {"code": "too_many_messages", "message": "slow down: " + THROTTLED_REPLY},
            },
            status=429,
            headers={"Retry-After": "5"},
        )
    try:
        messages = await chat_reply(
            request.app, prefixed_sender("web", sender.strip()), text, metadata
        )
    except RasaUnavailable as exc:
        # Accepted, not lost: the words are held and replayed when Rasa is back; the page
        # then fetches the answers from /api/chat/pending.
        log.warning("rasa unavailable: %s", exc)
        return web.json_response(
            {"messages": [{"text": RASA_DOWN_REPLY}], "held": True},
            status=202,
            headers={"Retry-After": "3"},
        )
    return web.json_response({"messages": messages})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def setup(app: web.Application) -> None:
    """Register the web channel's routes and its per-sender throttle."""
    cfg = app[CONFIG]
    app[WEB_THROTTLE] = ChatThrottle(cfg.web_chat_burst, cfg.web_chat_rate_per_min)
    app.router.add_post("/api/chat", post_chat)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
