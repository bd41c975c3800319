"""``GET /healthz``: 200 once Rasa, the action server and the desk answer.

Process supervisors and tests poll this instead of sleeping; the body says
which part is not ready yet and, under ``jiesu up``, what the supervisor did:
``"children": {"rasa": {"state": "up", "restarts": 1, "last_exit": "killed by
SIGKILL", ...}}`` (read from its status file, :mod:`hotline.supervision`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.held_turns import HELD_TURNS
from bot.gateway.app_keys import CONFIG, DESK_STORE, HTTP_SESSION, OUTBOX, RASA_CLIENT
from hotline.supervision import read_status, status_path

__all__ = ["action_server_ready", "check", "setup"]


async def action_server_ready(session: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with session.get(
            f"http://127.0.0.1:{port}/health", timeout=aiohttp.ClientTimeout(total=2)
        ) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def check(app: web.Application) -> dict[str, bool]:
    """Readiness of each part, by name."""
    cfg = app[CONFIG]
    rasa_ok, actions_ok = await asyncio.gather(
        app[RASA_CLIENT].ready(), action_server_ready(app[HTTP_SESSION], cfg.action_port)
    )
    parts = {"rasa": rasa_ok, "actions": actions_ok}
    try:
        await asyncio.to_thread(app[OUTBOX].counts)
        if DESK_STORE in app:
            await asyncio.to_thread(app[DESK_STORE].count)
        parts["desk"] = True
    except Exception:
        parts["desk"] = False
    return parts


async def healthz(request: web.Request) -> web.Response:
    parts = await check(request.app)
    ok = all(parts.values())
    body: dict[str, Any] = {"ok": ok, "parts": parts}
    children = await asyncio.to_thread(read_status, status_path(request.app[CONFIG].data_dir))
    if children is not None:
        body["children"] = children
    held = request.app.get(HELD_TURNS)
    if held is not None:  # resident messages waiting for Rasa, answers waiting for a page
        body["held_turns"] = await asyncio.to_thread(held.counts)
    return web.json_response(body, status=200 if ok else 503)


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
