"""The real gateway app (``build_app``) with its console, on temporary SQLite files."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.gateway.app import build_app
from bot.gateway.app_keys import CONFIG, DESK_API, DESK_STORE, OUTBOX
from desk.store import DeskStore, NewTicket, Ticket
from hotline.config import load_config
from tests.auxil.postgres import fresh_database
from tests.auxil.survey_gateway import patched_environ
from tickets.outbox import Outbox

KEY = "console-test-key"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "JIESU_DATA_DIR": str(data_dir),
        "JIESU_DESK_API_KEY": KEY,
        "JIESU_SIP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "JIESU_SURVEY_DELAY": "3600",
        "JIESU_SURVEY_TICK": "3600",
        "JIESU_OUTBOX_POLL": "3600",
        "JIESU_PORT": "22100",
    }
    for name in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
        env.pop(name, None)
    return env


@dataclass
class Gateway:
    client: TestClient
    app: web.Application
    data_dir: Path

    @property
    def desk(self) -> DeskStore:
        return self.app[DESK_STORE]

    @property
    def outbox(self) -> Outbox:
        return self.app[OUTBOX]

    @property
    def outbox_url(self) -> str:
        return self.app[CONFIG].effective_outbox_db_url

    async def login(self) -> str:
        """Sign in; returns the session's CSRF token."""
        resp = await self.client.post("/desk/login", data={"api_key": KEY})
        assert resp.status == 200, await resp.text()  # followed the redirect to the list
        return await self.csrf()

    async def csrf(self, path: str = "/desk/tickets") -> str:
        text = await (await self.client.get(path)).text()
        found = CSRF.search(text)
        assert found, text[:500]
        return found.group(1)


@contextlib.asynccontextmanager
async def _gateway(tmp_path: Path, db_url: str = "") -> AsyncIterator[Gateway]:
    env = console_env(tmp_path)
    if db_url:  # desk, outbox and survey tables on PostgreSQL
        env.update(JIESU_DESK_DB_URL=db_url, JIESU_DB_URL=db_url)
    with patched_environ(env):
        app = build_app(load_config(env))
    client = TestClient(TestServer(app))
    await client.start_server()
    assert app[DESK_API].store is app[DESK_STORE]
    try:
        yield Gateway(client, app, tmp_path)
    finally:
        await client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway on SQLite files, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        async with _gateway(tmp_path) as gw:
            yield gw
        return
    with fresh_database() as url:
        async with _gateway(tmp_path, url) as gw:
            yield gw


@pytest.fixture
async def sqlite_gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with _gateway(tmp_path) as gw:
        yield gw


def add_ticket(gw: Gateway, key: str | None = None, **attrs: str) -> Ticket:
    """A desk ticket with a contact; ``attrs`` become its attributes (``text``, ``category`` aside).

    ``key``: the idempotency key it was delivered with (an outbox entry's, for a complaint
    Jiesu filed).
    """
    category = attrs.pop("category", "噪音扰民")
    ticket, _ = gw.desk.create(
        NewTicket(
            service_code="HJ01",
            service_name=category,
            agency_responsible="生态环境局",
            description=attrs.pop("text", "楼下饭馆每天晚上十二点以后还很吵"),
            address_string="朝阳区望京西园四区",
            phone="13800138000",
            first_name="小明",
            last_name="王",
            attributes={"category": category, **attrs},
            expected_in_hours=24,
            idempotency_key=key,
        )
    )
    return ticket
