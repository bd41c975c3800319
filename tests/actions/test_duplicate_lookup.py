"""The action server's duplicate look-up against a real desk over HTTP (Open311 list)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from actions.complaint import Complaint
from actions.ticket_service import TicketService
from desk.api import DeskApi
from desk.services import open311_services
from desk.store import DeskStore
from hotline.config import Config
from tests.conftest import free_port

KEY = "k-lookup"


@pytest_asyncio.fixture(loop_scope="session")
async def desk_url(tmp_path: Path) -> AsyncIterator[str]:
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
    api = DeskApi(store, KEY, open311_services(), {"urgent": 2.0, "normal": 24.0})
    app = web.Application()
    app.router.add_routes(api.routes())
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("/open311/v2"))
    await server.close()
    store.close()


def _service(url: str, tmp_path: Path, **kw: object) -> TicketService:
    cfg = Config(
        open311_url=url,
        open311_api_key=KEY,
        outbox_db_url=f"sqlite:///{tmp_path / 'jiesu.db'}",
        delivery_timeout_s=2.0,
    )
    return TicketService(replace(cfg, **kw))  # type: ignore[arg-type]


COMPLAINT = Complaint(
    description="朝阳区劲松八区北门井盖不见了，晚上走路太危险了",
    category="排水与井盖",
    location="朝阳区劲松八区北门",
    phone="13900139002",
    sender_id="web:b",
    complaint_id="c2",
)


async def test_finds_the_open_ticket_and_shows_no_personal_data(
    desk_url: str, tmp_path: Path
) -> None:
    service = _service(desk_url, tmp_path)
    try:
        first = replace(
            COMPLAINT,
            description="朝阳区劲松八区北门的井盖丢了，晚上走路很危险，我是王小明，电话13800138001",
            name="王小明",
            sender_id="web:a",
            complaint_id="c1",
        )
        filed = await service.submit(first, "web:a")
        assert filed.delivered
        hit = await service.find_duplicate(COMPLAINT)
        assert hit is not None and hit.ticket_id == filed.ticket_id
        assert "13800138001" not in hit.summary and "王小明" not in hit.summary
        assert "井盖丢了" in hit.summary
        joined = await service.submit(COMPLAINT, "web:b", duplicate_of=hit.ticket_id)
        assert joined.ticket_id == filed.ticket_id  # the co-report went through the outbox
        again = await service.submit(COMPLAINT, "web:b", duplicate_of=hit.ticket_id)
        assert again.ticket_id == filed.ticket_id
        ticket = await service.client().get_request(filed.ticket_id, staff=True)
        assert ticket["reporters"] == 2  # the retried submit added nobody
        other = replace(COMPLAINT, description="劲松八区北门楼道里堆满了杂物", category="物业管理")
        assert await service.find_duplicate(other) is None
        off = _service(desk_url, tmp_path, duplicate_check=False)
        assert await off.find_duplicate(COMPLAINT) is None
        await off.close()
    finally:
        await service.close()


async def test_a_backend_that_is_down_means_no_duplicate(tmp_path: Path) -> None:
    service = _service(f"http://127.0.0.1:{free_port()}/open311/v2", tmp_path)
    try:
        assert await service.find_duplicate(COMPLAINT) is None
    finally:
        await service.close()


async def test_a_co_report_made_while_the_backend_is_down_joins_later_once(
    desk_url: str, tmp_path: Path
) -> None:
    import aiohttp

    from tickets.delivery import DeliveryWorker
    from tickets.open311_client import Open311Client
    from tickets.outbox import outbox_table

    live = _service(desk_url, tmp_path)
    down = _service(f"http://127.0.0.1:{free_port()}/open311/v2", tmp_path)
    try:
        filed = await live.submit(replace(COMPLAINT, sender_id="web:a", complaint_id="c1"), "web:a")
        saved = await down.submit(COMPLAINT, "web:b", duplicate_of=filed.ticket_id)
        assert not saved.delivered and saved.ticket_id.startswith("JS")  # persisted first
        async with aiohttp.ClientSession() as http:
            worker = DeliveryWorker(live.outbox, Open311Client(desk_url, http, KEY), poll_s=0.1)
            for _ in range(2):  # delivered by the first round; the second finds nothing to do
                with live.outbox.engine.begin() as conn:  # make the next retry due now
                    conn.execute(outbox_table.update().values(next_attempt_at=0.0))
                await worker.run_once()
        entry = live.outbox.get(saved.ticket_id)
        assert entry.service_request_id == filed.ticket_id
        ticket = await live.client().get_request(filed.ticket_id, staff=True)
        assert ticket["reporters"] == 2
    finally:
        await live.close()
        await down.close()
