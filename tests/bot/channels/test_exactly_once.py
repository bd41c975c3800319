"""A turn whose answer was lost (timeout) is replayed exactly once: the tracker decides.

Unit part: which failures may have been processed, and :func:`send_once` asking
before sending again.  Real part (``stack``): :meth:`RasaClient.processed_since` reads
the real Rasa server's tracker, and a gateway whose Rasa timeout is shorter than a
turn holds the turn as uncertain and does not send it a second time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.held_turns import HeldTurn, send_once
from bot.gateway.rasa_client import BotMessage, RasaClient, RasaUnavailable


def _unavailable(cause: BaseException | None) -> RasaUnavailable:
    try:
        try:
            if cause is not None:
                raise cause
            raise RasaUnavailable("Rasa answered HTTP 500")
        except RasaUnavailable:
            raise
        except BaseException as exc:
            raise RasaUnavailable(str(exc)) from exc
    except RasaUnavailable as out:
        return out


def test_which_failures_may_have_been_processed() -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 1, False, None, None, None, None),
        OSError(111, "refused"),
    )
    assert not _unavailable(refused).maybe_processed  # never reached Rasa
    assert not _unavailable(None).maybe_processed  # an HTTP error: Rasa kept nothing
    assert _unavailable(asyncio.TimeoutError()).maybe_processed
    assert _unavailable(aiohttp.ServerDisconnectedError()).maybe_processed


class _Rasa:
    def __init__(self, processed: list[BotMessage] | None) -> None:
        self.processed = processed
        self.sent: list[str] = []
        self.asked: list[float] = []

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        self.sent.append(text)
        return [{"text": "sent again"}]

    async def processed_since(
        self, sender: str, text: str, since: float
    ) -> list[BotMessage] | None:
        self.asked.append(since)
        return self.processed

    async def ready(self) -> bool:
        return True


async def test_send_once_asks_the_tracker_only_for_an_uncertain_turn() -> None:
    sure = HeldTurn(1, "web:a", "路灯坏了", {}, 100.0)
    maybe = HeldTurn(2, "web:a", "路灯坏了", {}, 100.0, uncertain=True)
    rasa = _Rasa(processed=[{"text": "请问在什么地方？"}])
    assert await send_once(rasa, "web:a", sure) == [{"text": "sent again"}]
    assert rasa.asked == []  # a refused turn was never processed: no look-up
    assert await send_once(rasa, "web:a", maybe) == [{"text": "请问在什么地方？"}]
    assert rasa.sent == ["路灯坏了"] and len(rasa.asked) == 1  # not sent a second time
    lost = _Rasa(processed=None)
    assert await send_once(lost, "web:a", maybe) == [{"text": "sent again"}]


@pytest.mark.stack
async def test_processed_since_reads_the_real_tracker(stack) -> None:
    sender = f"web:once-{time.monotonic_ns() % 10**9}"
    text = "小区门口的路灯坏了一个星期了"
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(stack.rasa_url, http, timeout_s=60, token=stack.rasa_token)
        t0 = time.time() - 1
        replies = await rasa.send(sender, text, {"channel": "web"})
        seen = await rasa.processed_since(sender, text, t0)
        assert seen is not None
        assert [m.get("text") for m in seen] == [m["text"] for m in replies if m.get("text")]
        assert await rasa.processed_since(sender, "别的话", t0) is None
        assert await rasa.processed_since(sender, text, time.time() + 60) is None


class _LosingProxy:
    """Forwards to the real Rasa server; the first chat turn's answer is lost on the way back.

    Rasa processes that turn (it is in the tracker), then the proxy cuts the connection:
    the gateway sees the failure a timeout or a crash after the request would give.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.turns = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        async with aiohttp.ClientSession() as http:
            async with http.request(
                request.method,
                f"{self.target}{request.rel_url}",
                data=body,
                headers={"Content-Type": request.headers.get("Content-Type", "")},
            ) as resp:
                payload = await resp.read()
                status = resp.status
        if request.path == "/webhooks/rest/webhook":
            self.turns += 1
            if self.turns == 1:
                assert request.transport is not None
                request.transport.close()  # processed, answer lost
                raise web.HTTPInternalServerError()
        return web.Response(body=payload, status=status, content_type="application/json")


@pytest.mark.stack
async def test_a_turn_whose_answer_was_lost_is_held_uncertain_and_processed_once(
    stack, tmp_path
) -> None:
    from bot.channels.held_turns import HELD_TURNS
    from bot.gateway.app import build_app
    from hotline.config import load_config
    from tests.auxil.survey_gateway import patched_environ

    proxy = _LosingProxy(stack.rasa_url)
    papp = web.Application()
    papp.router.add_route("*", "/{tail:.*}", proxy.handle)
    prunner = web.AppRunner(papp, access_log=None)
    await prunner.setup()
    psite = web.TCPSite(prunner, "127.0.0.1", 0)
    await psite.start()
    proxy_port = psite._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    env = {
        **stack.env,
        "JIESU_DATA_DIR": str(tmp_path),
        "JIESU_RASA_URL": proxy_url,
        "JIESU_RASA_TOKEN": stack.rasa_token,
        "TELEGRAM_BOT_TOKEN": "",
        "JIESU_SIP_PORT": "0",
    }
    with patched_environ(env):
        app = build_app(load_config(env))
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sender = f"once-{time.monotonic_ns() % 10**9}"
    text = "楼下烧烤店每天晚上噪音很大，影响休息"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"http://127.0.0.1:{port}/api/chat", json={"sender": sender, "text": text}
            ) as resp:
                assert resp.status in (202, 503), await resp.text()
            held = app[HELD_TURNS]
            (turn,) = await asyncio.to_thread(held.waiting, f"web:{sender}")
            assert turn.uncertain
            # the background replay finds the turn in the tracker and does not send it again
            await asyncio.wait_for(held.wait_background_replays(1), 30)
            assert proxy.turns == 1
            url = f"{stack.rasa_url}/conversations/web:{sender}/tracker"
            async with http.get(url, params={"token": stack.rasa_token}) as resp:
                events = (await resp.json())["events"]
            assert [e["text"] for e in events if e.get("event") == "user"] == [text]
            async with http.get(
                f"http://127.0.0.1:{port}/api/chat/pending", params={"sender": sender}
            ) as resp:
                pending = (await resp.json())["messages"]
            assert any("什么地方" in (m.get("text") or "") for m in pending), pending
    finally:
        await runner.cleanup()
        await prunner.cleanup()
