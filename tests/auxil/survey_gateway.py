"""The real gateway app in the test's loop, standing in for the stack's gateway child.

The stack's gateway process cannot take phone calls here (there is no Vosk
Chinese model), so the phone and cross-channel survey tests stop it and serve
``bot.gateway.app.build_app(config)`` — the same wiring, the same port, data dir, desk,
outbox and survey tables — with two test seams only: the phone channel's
recogniser is the scripted one (``PHONE_RECOGNIZERS``), and the Telegram
channel talks to the fake Bot API server (``TELEGRAM_BASE_URL``).  The Rasa
server and the action server are the stack's real ones; the action server
posts survey answers back to this gateway's desk on the stack's port.

:meth:`SurveyGateway.restart` tears the app down (every ``cleanup_ctx``: the
scheduler, channels, stores) and builds a new one, as a process restart does:
only what is in the databases survives.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from bot.channels.phone.channel import PHONE, PHONE_RECOGNIZERS
from bot.gateway.app import build_app
from hotline.config import load_config
from speech.asr import RecognizerFactory
from tests.conftest import RunningStack

__all__ = ["SurveyGateway", "patched_environ"]


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` while the channels read their settings."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class SurveyGateway:
    """``build_app`` on the stack's gateway port; start/stop/restart like the process."""

    stack: RunningStack
    overrides: dict[str, str]
    recognizers: RecognizerFactory | None = None
    restarts: int = 0
    _runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {**self.stack.env, **self.overrides}

    @property
    def app(self) -> web.Application:
        assert self._runner is not None, "gateway not running"
        return self._runner.app

    @property
    def url(self) -> str:
        return self.stack.gateway_url

    @property
    def sip_address(self) -> tuple[str, int]:
        service = self.app[PHONE].service
        assert service is not None, "phone channel did not start"
        return service.ua.local_address

    async def start(self) -> None:
        env = self.env
        with patched_environ(env):
            app = build_app(load_config(env))
        if self.recognizers is not None:
            app[PHONE_RECOGNIZERS] = self.recognizers
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()  # runs every cleanup_ctx up to its yield: channels are up
        site = web.TCPSite(runner, "127.0.0.1", self.stack.config.port, reuse_address=True)
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        self.restarts += 1
