"""Hooks into the life of the rasa_sdk action server process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["on_action_server_start", "on_action_server_stop"]


def on_action_server_stop(close: Callable[[], Awaitable[None]]) -> bool:
    """Run ``close`` when the rasa_sdk action server stops (Sanic ``after_server_stop``).

    The action server is a Sanic app named ``rasa_sdk``, created before the actions
    package is imported, so a module can register its cleanup at import time.
    Returns False outside an action server (tests, the gateway): nothing to hook.
    """
    try:
        from sanic import Sanic
        from sanic.exceptions import SanicException
    except ImportError:  # pragma: no cover - rasa_sdk always brings Sanic
        return False
    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return False

    async def _listener(*_: object) -> None:
        await close()

    app.register_listener(_listener, "after_server_stop")
    return True


def on_action_server_start(work: Callable[[], None]) -> bool:
    """Run blocking ``work`` in a worker thread once the action server has started.

    Used to load models (category, request type, sentence encoder) before the first
    resident's complaint, without delaying start-up or blocking the event loop.
    Returns False outside an action server.
    """
    try:
        from sanic import Sanic
        from sanic.exceptions import SanicException
    except ImportError:  # pragma: no cover - rasa_sdk always brings Sanic
        return False
    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return False

    async def _listener(*_: object) -> None:
        asyncio.get_running_loop().run_in_executor(None, work)

    app.register_listener(_listener, "after_server_start")
    return True
