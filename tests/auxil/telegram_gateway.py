"""Run a gateway app with the Telegram channel on a loopback socket (tests and benchmarks).

The app is the minimum the channel needs — ``CONFIG``, an HTTP session and a
``RasaClient`` for the given Rasa URL — plus the web channel's ``/api/chat``,
so a test or benchmark can compare both channels against the same Rasa.  The
socket is bound before the app is built, so a webhook URL can name its port.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.channels import turns
from bot.channels.telegram import channel as channel_telegram
from bot.channels.telegram.channel import TELEGRAM_CHANNEL, TelegramChannel
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.voice import Transcriber
from bot.channels.web import routes as channel_web
from bot.gateway.app_keys import CONFIG, HTTP_SESSION, RASA_CLIENT
from bot.gateway.rasa_client import RasaClient
from hotline.config import Config
from tests.auxil.fake_telegram import FakeBotApi
from tests.conftest import RASA_TOKEN

__all__ = ["GatewayFactory", "RunningGateway", "VoiceNote", "start_gateway", "tg_settings"]


@dataclass(frozen=True)
class VoiceNote:
    """An OGG/Opus voice note and the length of the speech in it."""

    ogg: bytes
    seconds: float


def tg_settings(fake: FakeBotApi, **overrides: object) -> TelegramSettings:
    """Channel settings pointing at ``fake``: no outgoing rate limit, generous chat limits."""
    values: dict[str, object] = {
        "bot_token": fake.token,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "poll_timeout_s": 5,
        "typing_delay_s": 0.0,
        "overall_rate_per_s": 0.0,
        "chat_burst": 50,
        "chat_rate_per_min": 600,
    }
    values.update(overrides)
    return TelegramSettings(**values)  # type: ignore[arg-type]


@dataclass
class RunningGateway:
    """A started gateway: its app, base URL and Telegram channel."""

    app: web.Application
    url: str
    channel: TelegramChannel
    runner: web.AppRunner

    async def close(self) -> None:
        """Stop the channel and the server."""
        await self.runner.cleanup()


GatewayFactory = Callable[..., Awaitable[RunningGateway]]


async def start_gateway(
    make_settings: Callable[[str], TelegramSettings],
    rasa_url: str,
    data_dir: Path,
    transcriber: Transcriber | None = None,
    ready_timeout: float = 15.0,
    client_cls: type[RasaClient] = RasaClient,
) -> RunningGateway:
    """Start a gateway whose Telegram channel uses ``make_settings(gateway_url)``.

    Args:
        make_settings: Builds the channel settings from the gateway's base URL.
        rasa_url: Rasa server base URL (fake or real).
        data_dir: ``JIESU_DATA_DIR`` (attachments go to ``<data_dir>/telegram``).
        transcriber: Voice recogniser, or ``None`` for "voice unavailable".
        ready_timeout: Safety net for the bot's start (getMe, setMyCommands, polling).
        client_cls: ``RasaClient`` or a subclass (benchmarks count replies with one).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    app = web.Application()
    app[CONFIG] = Config(data_dir=data_dir, rasa_url=rasa_url, rasa_token=RASA_TOKEN)

    async def http_ctx(a: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        a[HTTP_SESSION] = session
        a[RASA_CLIENT] = client_cls(rasa_url, session, 30.0, RASA_TOKEN)
        yield
        await session.close()

    app.cleanup_ctx.append(http_ctx)
    turns.setup(app)  # turns held while Rasa is down, as in the real gateway
    channel_web.setup(app)
    channel_telegram.setup(app, make_settings(url), transcriber)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    channel = app[TELEGRAM_CHANNEL]
    await asyncio.wait_for(channel.ready.wait(), ready_timeout)
    return RunningGateway(app, url, channel, runner)
