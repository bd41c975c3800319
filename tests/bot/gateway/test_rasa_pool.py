"""Several Rasa servers: each conversation sticks to one; failover only when nothing was sent.

The servers are the fake Rasa REST server (tests/auxil/sip_fake_rasa.py) on real
sockets; the routing is what is under test, not the dialogue.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.gateway.rasa_client import RasaClient, RasaUnavailable
from bot.gateway.rasa_pool import RasaPool, rank_servers
from tests.auxil.sip_fake_rasa import FakeRasa

URLS = [f"http://127.0.0.1:{5005 + i}" for i in range(3)]


def test_every_gateway_ranks_the_same_way_and_the_load_spreads() -> None:
    senders = [f"web:{i}" for i in range(3000)]
    first = Counter(rank_servers(s, URLS)[0] for s in senders)
    assert rank_servers("tg:42", URLS) == rank_servers("tg:42", list(URLS))
    assert all(800 <= first[i] <= 1200 for i in range(3)), first


def test_taking_a_server_out_moves_only_its_conversations() -> None:
    senders = [f"web:{i}" for i in range(2000)]
    before = {s: URLS[rank_servers(s, URLS)[0]] for s in senders}
    rest = URLS[:1] + URLS[2:]
    after = {s: rest[rank_servers(s, rest)[0]] for s in senders}
    moved = [s for s in senders if before[s] != after[s]]
    assert moved and all(before[s] == URLS[1] for s in moved)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(loop_scope="session")
async def servers() -> AsyncIterator[list[tuple[FakeRasa, TestServer]]]:
    made = []
    for _ in range(3):
        fake = FakeRasa()
        server = TestServer(fake.app(), host="127.0.0.1")
        await server.start_server()
        made.append((fake, server))
    yield made
    for _, server in made:
        await server.close()


async def test_a_conversation_always_reaches_the_same_server(servers) -> None:
    async with aiohttp.ClientSession() as http:
        pool = RasaPool([RasaClient(str(s.make_url("")), http) for _, s in servers])
        senders = [f"web:c{i}" for i in range(30)]
        for turn in ("楼下噪音", "望京西园三区", "/affirm"):
            await asyncio.gather(*(pool.send(s, turn) for s in senders))
    holders = {s: {i for i, (f, _) in enumerate(servers) if f.messages(s)} for s in senders}
    assert all(len(h) == 1 for h in holders.values()), holders
    assert len({next(iter(h)) for h in holders.values()}) == 3  # the load is spread
    for s in senders:
        (i,) = holders[s]
        assert servers[i][0].messages(s) == ["楼下噪音", "望京西园三区", "/affirm"]
        assert pool.base_url_for(s) == str(servers[i][1].make_url("")).rstrip("/")


async def test_a_server_that_refuses_connections_is_skipped_then_retried(servers) -> None:
    clock = _Clock()
    async with aiohttp.ClientSession() as http:
        live = [RasaClient(str(s.make_url("")), http) for _, s in servers[:2]]
        dead = RasaClient(f"http://127.0.0.1:{_closed_port()}", http)
        pool = RasaPool([*live, dead], retry_after_s=5, clock=clock)
        sender = next(f"web:d{i}" for i in range(999) if pool.server_for(f"web:d{i}") is dead)
        replies = await pool.send(sender, "楼下噪音")  # refused -> the next in its ranking
        assert replies and pool.server_for(sender) is not dead
        assert sum(len(f.messages(sender)) for f, _ in servers[:2]) == 1
        clock.now = 6.0  # after retry_after_s the dead server is asked first again
        assert pool.server_for(sender) is dead


async def test_a_timeout_is_not_sent_to_a_second_server(servers) -> None:
    hung = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        hung.set()
        await asyncio.sleep(5)
        return web.json_response([])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", slow)
    slow_server = TestServer(app, host="127.0.0.1")
    await slow_server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            first = RasaClient(str(slow_server.make_url("")), http, timeout_s=0.3)
            others = [RasaClient(str(s.make_url("")), http) for _, s in servers]
            pool = RasaPool([first, *others])
            sender = next(f"web:t{i}" for i in range(999) if pool.server_for(f"web:t{i}") is first)
            with pytest.raises(RasaUnavailable):
                await pool.send(sender, "楼下噪音")
            assert hung.is_set()
            assert all(not f.messages(sender) for f, _ in servers)  # processed at most once
    finally:
        await slow_server.close()
