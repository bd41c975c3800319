"""Hooks into the life of the rasa_sdk action server process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["on_action_server_start", "on_action_server_stop"]


def _server_app() -> object | None:
    try:
        from sanic import Sanic
        from sanic.exceptions import SanicException
    except ImportError:  # pragma: no cover - rasa_sdk always brings Sanic
        return None
    try:
        return Sanic.get_app("rasa_sdk")
    except SanicException:
        return None


def on_action_server_start(warm: Callable[[], None]) -> bool:
    """Run the blocking ``warm`` (in a thread) before the action server takes requests.

    Loads what the first resident would otherwise wait for (the category model,
    the tokenizer, the gazetteer: ~5 s cold on 2 cores, measured in docs/voice.md).
    Returns False outside an action server (tests, the gateway): nothing to hook.
    """
    app = _server_app()
    if app is None:
        return False

    async def _listener(*_: object) -> None:
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, warm)

    app.register_listener(_listener, "before_server_start")  # type: ignore[attr-defined]
    return True


def on_action_server_stop(close: Callable[[], Awaitable[None]]) -> bool:
    """Run ``close`` when the rasa_sdk action server stops (Sanic ``after_server_stop``).

    The action server is a Sanic app named ``rasa_sdk``, created before the actions
    package is imported, so a module can register its cleanup at import time.
    Returns False outside an action server (tests, the gateway): nothing to hook.
    """
    app = _server_app()
    if app is None:
        return False

    async def _listener(*_: object) -> None:
        await close()

    app.register_listener(_listener, "after_server_stop")  # type: ignore[attr-defined]
    return True
