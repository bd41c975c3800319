"""Build the gateway's aiohttp application: channels, embedded desk, outbox worker.

Everything long-lived (HTTP session, stores, worker) is created in
``cleanup_ctx`` generators and published through typed ``AppKey``s, so a
test can build the same app against temporary databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.channels import turns
from bot.channels.phone import channel as channel_phone
from bot.channels.telegram import channel as channel_telegram
from bot.channels.web import routes as channel_web
from bot.gateway import health
from bot.gateway.app_keys import (
    CONFIG,
    DELIVERY_WORKER,
    DESK_API,
    DESK_CONSOLE,
    DESK_STORE,
    HTTP_SESSION,
    OUTBOX,
    RASA_CLIENT,
)
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.survey import routes as survey_app
from desk.api import DeskApi
from desk.console import Console
from desk.services import open311_services
from desk.store import DeskStore
from hotline.config import Config
from tickets.delivery import DeliveryWorker
from tickets.open311_client import configured_client
from tickets.outbox import Outbox

__all__ = ["build_app"]

log = logging.getLogger("jiesu.gateway")


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    connector = aiohttp.TCPConnector(limit=200, limit_per_host=100)
    session = aiohttp.ClientSession(connector=connector)
    app[HTTP_SESSION] = session
    clients = [
        RasaClient(url, session, cfg.rasa_timeout_s, cfg.rasa_token) for url in cfg.rasa_urls
    ]
    app[RASA_CLIENT] = clients[0] if len(clients) == 1 else RasaPool(clients)
    yield
    await session.close()


async def _stores_ctx(app: web.Application) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    outbox = await asyncio.to_thread(Outbox, cfg.effective_outbox_db_url, "JS", cfg.tz)
    app[OUTBOX] = outbox
    desk: DeskStore | None = None
    if cfg.embedded_desk:
        desk = await asyncio.to_thread(
            DeskStore, cfg.effective_desk_db_url, cfg.ticket_prefix, cfg.tz
        )
        app[DESK_STORE] = desk
        app[DESK_API].store = desk
    yield
    outbox.close()
    if desk is not None:
        desk.close()


async def _delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    client = configured_client(cfg, app[HTTP_SESSION])
    worker = DeliveryWorker(app[OUTBOX], client, cfg.outbox_poll_s, cfg.outbox_max_backoff_s)
    app[DELIVERY_WORKER] = worker
    task = asyncio.create_task(worker.run(), name="outbox-delivery")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(config: Config) -> web.Application:
    """The whole gateway for ``config``; channels enable themselves from config."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[CONFIG] = config
    app.cleanup_ctx.append(_http_ctx)
    if config.embedded_desk:
        desk_api = DeskApi(
            store=None,  # type: ignore[arg-type]  # set in _stores_ctx
            api_key=config.desk_api_key,
            services=open311_services(),
            deadlines_h={
                "urgent": float(config.deadline_urgent_h),
                "normal": float(config.deadline_normal_h),
            },
        )
        app[DESK_API] = desk_api
        app.router.add_routes(desk_api.routes())
    app.cleanup_ctx.append(_stores_ctx)
    if config.embedded_desk:
        # The staff console at /desk/ (desk/console/); its ctx needs the desk store open.
        console = Console(
            desk_api,
            survey_url=config.effective_outbox_db_url,
            tracker_url=config.effective_tracker_url,
            data_dir=config.data_dir,
        )
        app[DESK_CONSOLE] = console
        app.router.add_routes(console.routes())
        app.cleanup_ctx.append(console.ctx)
    app.cleanup_ctx.append(_delivery_ctx)
    turns.setup(app)
    health.setup(app)
    channel_web.setup(app)
    channel_telegram.setup(app)
    channel_phone.setup(app)
    survey_app.setup(app)
    return app
