"""Outbox persistence, claiming and delivery against a real HTTP backend."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from desk.api import DeskApi
from desk.store import DeskStore
from tickets.delivery import DeliveryWorker, backoff_s, deliver_entry
from tickets.open311_client import Open311Client
from tickets.outbox import DELIVERED, PENDING, REJECTED, Outbox

KEY = "k"
FORM = {"service_code": "QT-00", "description": "路灯坏了", "address_string": "望京西园四区"}


class FlakyDesk:
    """A real desk behind a switch: 503 while 'down'."""

    def __init__(self, store: DeskStore):
        self.api = DeskApi(
            store,
            KEY,
            [{"service_code": "QT-00", "service_name": "其他"}],
            {"urgent": 2, "normal": 24},
        )
        self.down = True
        self.posts = 0

    @web.middleware
    async def switch(self, request: web.Request, handler):
        if request.method == "POST":
            self.posts += 1
        if self.down:
            return web.json_response([{"code": 503, "description": "down"}], status=503)
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.switch])
        app.router.add_routes(self.api.routes())
        return app


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")


def test_add_is_idempotent_and_persists(outbox: Outbox, tmp_path: Path) -> None:
    a = outbox.add(FORM, "web:1", "web", "路灯", idempotency_key="k1")
    b = outbox.add(FORM, "web:1", "web", "路灯", idempotency_key="k1")
    assert a.reference == b.reference and a.status == PENDING
    reopened = Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    assert reopened.get(a.reference).form == FORM


def test_a_claimed_entry_cannot_be_claimed_twice(outbox: Outbox) -> None:
    entry = outbox.add(FORM, "web:1", "web")
    assert outbox.claim(entry.reference) is not None
    assert outbox.claim(entry.reference) is None
    assert outbox.claim_due() == []


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_s(n, 2, 20) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 16, 20]


async def test_backend_down_then_up_delivers_exactly_once(outbox: Outbox, tmp_path: Path) -> None:
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    flaky = FlakyDesk(store)
    server = TestServer(flaky.app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = Open311Client(str(server.make_url("/open311/v2")), session, KEY)
            entry = outbox.add(FORM, "web:1", "web")
            claimed = outbox.claim(entry.reference)
            assert claimed is not None
            after = await deliver_entry(outbox, client, claimed, max_backoff_s=0)
            assert (
                after.status == PENDING
                and after.attempts == 1
                and "503" in (after.last_error or "")
            )

            flaky.down = False
            worker = DeliveryWorker(outbox, client, poll_s=0.01, max_backoff_s=0)
            assert await worker.run_once() == 1
            assert await worker.run_once() == 0
            final = outbox.get(entry.reference)
            assert final.status == DELIVERED and final.service_request_id
            # A retry of an already delivered POST (lost answer) must not duplicate.
            await client.create_request(FORM, final.idempotency_key)
            assert store.count() == 1
            assert outbox.get(final.service_request_id).reference == entry.reference
    finally:
        await server.close()
        store.close()


async def test_rejected_complaints_are_parked_not_lost(outbox: Outbox, tmp_path: Path) -> None:
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    flaky = FlakyDesk(store)
    flaky.down = False
    server = TestServer(flaky.app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = Open311Client(str(server.make_url("/open311/v2")), session, KEY)
            entry = outbox.add({**FORM, "service_code": "UNKNOWN"}, "web:1", "web")
            claimed = outbox.claim(entry.reference)
            assert claimed is not None
            after = await deliver_entry(outbox, client, claimed)
            assert after.status == REJECTED and "400" in (after.last_error or "")
            assert outbox.counts() == {REJECTED: 1}
    finally:
        await server.close()
        store.close()


async def test_unreachable_backend_is_retried_later(outbox: Outbox) -> None:
    async with aiohttp.ClientSession() as session:
        client = Open311Client("http://127.0.0.1:9/open311/v2", session, KEY, timeout_s=1)
        entry = outbox.add(FORM, "web:1", "web")
        claimed = outbox.claim(entry.reference)
        assert claimed is not None
        after = await deliver_entry(outbox, client, claimed, max_backoff_s=60)
        assert after.status == PENDING and after.next_attempt_at > after.created_at


def test_workers_leave_a_new_entry_to_its_first_attempt(outbox: Outbox) -> None:
    entry = outbox.add(FORM, "web:1", "web", first_attempt_in_s=60)
    assert outbox.claim_due() == []  # the retry worker does not race the first attempt
    assert outbox.claim(entry.reference) is not None  # the submitter claims directly
