"""While Rasa is down, web turns are held in SQL and replayed, in order, exactly once.

The gateway is the real ``build_app`` on a loopback port; Rasa is the fake REST-channel
server (``tests/auxil/telegram_fake_rasa.py``), which answers 503 while ``down``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.channels.held_turns import GAVE_UP_REPLY, HELD_TURNS, MAX_REPLAY_ATTEMPTS
from bot.channels.turns import RASA_DOWN_REPLY
from bot.channels.web.routes import THROTTLED_REPLY
from bot.gateway.app import build_app
from hotline.config import load_config
from tests.auxil.survey_gateway import patched_environ
from tests.auxil.telegram_fake_rasa import FakeRasa


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gateway:
    env: dict[str, str]
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['JIESU_PORT']}"

    @property
    def app(self) -> web.Application:
        assert self.runner is not None
        return self.runner.app

    async def start(self) -> None:
        with patched_environ(self.env):
            app = build_app(load_config(self.env))
        self.runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self.runner.setup()
        port = int(self.env["JIESU_PORT"])
        await web.TCPSite(self.runner, "127.0.0.1", port, reuse_address=True).start()

    async def stop(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    rasa = FakeRasa()
    await rasa.start()
    yield rasa
    await rasa.close()


@pytest.fixture
async def gateway(fake_rasa: FakeRasa, tmp_path: Path) -> AsyncIterator[Gateway]:
    env = {
        "JIESU_DATA_DIR": str(tmp_path),
        "JIESU_PORT": str(_free_port()),
        "JIESU_RASA_URL": fake_rasa.url,
        "JIESU_ACTION_PORT": str(_free_port()),
        "JIESU_SIP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "JIESU_SURVEY_TICK": "3600",
        "JIESU_DESK_API_KEY": "test-desk-key",
    }
    gw = Gateway(env)
    await gw.start()
    yield gw
    await gw.stop()


async def _say(
    http: aiohttp.ClientSession, gw: Gateway, sender: str, text: str
) -> tuple[int, dict]:
    async with http.post(f"{gw.url}/api/chat", json={"sender": sender, "text": text}) as resp:
        return resp.status, await resp.json()


def _texts(body: dict) -> list[str]:
    return [m.get("text", "") for m in body["messages"]]


async def test_held_turn_is_replayed_before_the_next_one(
    gateway: Gateway, fake_rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    fake_rasa.down = True
    status, body = await _say(http, gateway, "r1", "小区门口的路灯坏了")
    assert status == 202 and body["held"] is True
    assert _texts(body) == [RASA_DOWN_REPLY]
    held = gateway.app[HELD_TURNS]
    assert (await asyncio.to_thread(held.counts))["waiting"] == 1
    assert fake_rasa.received == []

    fake_rasa.down = False
    status, body = await _say(http, gateway, "r1", "在望京西园四区")
    assert status == 200
    # Whether the background replay or this request replayed it, both answers come, in order.
    assert _texts(body) == ["收到：小区门口的路灯坏了", "收到：在望京西园四区"]
    assert [r.text for r in fake_rasa.received] == ["小区门口的路灯坏了", "在望京西园四区"]
    assert await asyncio.to_thread(held.counts) == {"waiting": 0, "undelivered": 0}


async def test_the_same_words_sent_again_are_processed_once(
    gateway: Gateway, fake_rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    fake_rasa.down = True
    for _ in range(2):
        status, _body = await _say(http, gateway, "r2", "路灯坏了")
        assert status == 202
    assert (await asyncio.to_thread(gateway.app[HELD_TURNS].counts))["waiting"] == 1
    fake_rasa.down = False
    status, body = await _say(http, gateway, "r2", "路灯坏了")
    assert status == 200 and _texts(body) == ["收到：路灯坏了"]
    assert [r.text for r in fake_rasa.received] == ["路灯坏了"]


async def test_held_turn_survives_a_gateway_restart_and_is_replayed_in_the_background(
    gateway: Gateway, fake_rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    fake_rasa.down = True
    status, _body = await _say(http, gateway, "r3", "楼下烧烤店油烟太大")
    assert status == 202
    await gateway.stop()  # only what is in the database survives
    await gateway.start()
    fake_rasa.down = False
    # Nobody asks again: the background task replays it.
    await asyncio.wait_for(gateway.app[HELD_TURNS].wait_background_replays(1), 10)
    assert [r.text for r in fake_rasa.received] == ["楼下烧烤店油烟太大"]
    async with http.get(f"{gateway.url}/api/chat/pending", params={"sender": "r3"}) as resp:
        assert resp.status == 200
        assert _texts(await resp.json()) == ["收到：楼下烧烤店油烟太大"]
    async with http.get(f"{gateway.url}/api/chat/pending", params={"sender": "r3"}) as resp:
        assert _texts(await resp.json()) == []  # delivered once
    assert len(fake_rasa.received) == 1


async def test_a_flooding_sender_is_slowed_down_politely_and_others_are_not(
    fake_rasa: FakeRasa, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    env = {
        "JIESU_DATA_DIR": str(tmp_path),
        "JIESU_PORT": str(_free_port()),
        "JIESU_RASA_URL": fake_rasa.url,
        "JIESU_SIP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "JIESU_SURVEY_TICK": "3600",
        "JIESU_WEB_CHAT_BURST": "3",
        "JIESU_WEB_CHAT_RATE_PER_MIN": "1",
    }
    gw = Gateway(env)
    await gw.start()
    try:
        statuses = [(await _say(http, gw, "flood", f"第{i}条"))[0] for i in range(3)]
        assert statuses == [200, 200, 200]
        status, body = await _say(http, gw, "flood", "第4条")
        assert status == 429 and body["error"]["code"] == "too_many_messages"
        assert _texts(body) == [THROTTLED_REPLY]
        assert (await _say(http, gw, "calm", "路灯坏了"))[0] == 200
        assert [r.text for r in fake_rasa.received].count("第4条") == 0
    finally:
        await gw.stop()


async def test_a_turn_rasa_keeps_failing_on_does_not_block_others_and_is_answered(
    gateway: Gateway, fake_rasa: FakeRasa, http: aiohttp.ClientSession
) -> None:
    def script(sender: str, text: str, metadata: dict) -> list[dict]:
        if text == "毒":
            raise RuntimeError("this turn breaks Rasa")  # the fake answers 500
        return [{"text": f"收到：{text}"}]

    fake_rasa.script = script
    fake_rasa.down = True
    assert (await _say(http, gateway, "p1", "毒"))[0] == 202
    assert (await _say(http, gateway, "p2", "路灯坏了"))[0] == 202
    fake_rasa.down = False
    # p2 is replayed although p1's turn fails every time; p1 is told after the last try.
    await asyncio.wait_for(gateway.app[HELD_TURNS].wait_background_replays(2), 30)
    async with http.get(f"{gateway.url}/api/chat/pending", params={"sender": "p2"}) as resp:
        assert _texts(await resp.json()) == ["收到：路灯坏了"]
    async with http.get(f"{gateway.url}/api/chat/pending", params={"sender": "p1"}) as resp:
        assert _texts(await resp.json()) == [GAVE_UP_REPLY]
    assert [r.text for r in fake_rasa.received].count("毒") == MAX_REPLAY_ATTEMPTS
