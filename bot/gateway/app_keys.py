"""Typed keys for objects shared through the gateway's aiohttp ``Application``.

Channels read what they need from here instead of importing globals, so
tests can build an app with fakes plugged into the same keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

from bot.gateway.rasa_client import RasaClient
from hotline.config import Config

if TYPE_CHECKING:
    from desk.api import DeskApi
    from desk.console import Console
    from desk.store import DeskStore
    from tickets.delivery import DeliveryWorker
    from tickets.outbox import Outbox

__all__ = [
    "CONFIG",
    "DELIVERY_WORKER",
    "DESK_API",
    "DESK_CONSOLE",
    "DESK_STORE",
    "HTTP_SESSION",
    "OUTBOX",
    "RASA_CLIENT",
]

CONFIG = web.AppKey("config", Config)
HTTP_SESSION = web.AppKey("http_session", ClientSession)
RASA_CLIENT = web.AppKey("rasa_client", RasaClient)
DESK_STORE: web.AppKey[DeskStore] = web.AppKey("desk_store")
OUTBOX: web.AppKey[Outbox] = web.AppKey("outbox")
DESK_API: web.AppKey[DeskApi] = web.AppKey("desk_api")
DESK_CONSOLE: web.AppKey[Console] = web.AppKey("desk_console")
DELIVERY_WORKER: web.AppKey[DeliveryWorker] = web.AppKey("delivery_worker")
