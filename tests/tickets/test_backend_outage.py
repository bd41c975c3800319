"""The ticket backend down for 10 minutes while 100 complaints are confirmed.

Real parts: the outbox on SQLite, the embedded desk's Open311 API over HTTP, two
delivery workers (two gateways) taking leases on the same outbox.  Simulated: the
clock of the outbox (``tickets.outbox.time``), advanced in 5 s steps through the ten
minutes, and the backend's failures — first refusing every POST with 503, then, for a
while, creating the ticket and losing the answer (the worst case for duplicates).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from desk.api import DeskApi
from desk.store import DeskStore
from tickets import outbox as outbox_module
from tickets.delivery import DeliveryWorker
from tickets.open311_client import Open311Client
from tickets.outbox import DELIVERED, Outbox

KEY = "k"
SERVICES = [{"service_code": "QT-00", "service_name": "其他"}]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


class Backend:
    """The real desk API behind a switch: ``down`` → 503; ``lossy`` → created, answer lost."""

    def __init__(self, store: DeskStore) -> None:
        self.api = DeskApi(store, KEY, SERVICES, {"urgent": 2, "normal": 24})
        self.down = True
        self.lossy = False
        self.posts = 0

    @web.middleware
    async def switch(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        if request.method == "POST":
            self.posts += 1
            if self.down:
                return web.json_response([{"code": 503, "description": "down"}], status=503)
            if self.lossy:
                await handler(request)  # the ticket exists now …
                return web.json_response([{"code": 502, "description": "lost"}], status=502)
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.switch])
        app.router.add_routes(self.api.routes())
        return app


@pytest.mark.slow
async def test_100_complaints_during_a_10_minute_outage_become_100_tickets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(outbox_module, "time", clock)
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    backend = Backend(store)
    server = TestServer(backend.app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = Open311Client(str(server.make_url("/open311/v2")), session, KEY)
            workers = [DeliveryWorker(outbox, client, poll_s=0.01, max_backoff_s=120) for _ in "ab"]
            refs = []
            outage_start = clock.now
            for i in range(100):  # confirmed one after another during the first minute
                form = {
                    "service_code": "QT-00",
                    "description": f"第{i}号楼门口的路灯坏了",
                    "address_string": f"望京西园{i}号楼",
                }
                refs.append(outbox.add(form, f"web:r{i}", "web").reference)
                clock.now += 0.6
                if i % 10 == 0:
                    await asyncio.gather(*(w.run_once() for w in workers))
            while clock.now - outage_start < 600:  # the rest of the ten minutes
                clock.now += 5
                await asyncio.gather(*(w.run_once() for w in workers))
            assert store.count() == 0 and backend.posts >= 100  # ten minutes, nothing in
            backend.down, backend.lossy = False, True  # back, but answers get lost a while
            for _ in range(3):
                clock.now += 121
                await asyncio.gather(*(w.run_once() for w in workers))
            backend.lossy = False
            for _ in range(40):
                clock.now += 121
                if sum(await asyncio.gather(*(w.run_once() for w in workers))) == 0 and all(
                    outbox.get(r).status == DELIVERED for r in refs
                ):
                    break
            entries = [outbox.get(r) for r in refs]
            assert all(e.status == DELIVERED for e in entries)
            assert store.count() == 100  # one ticket each: none lost, none twice
            assert len({e.service_request_id for e in entries}) == 100
    finally:
        await server.close()
        store.close()
        outbox.close()
