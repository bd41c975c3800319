"""Co-reporters, merge and split in the desk store, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from desk.api import DeskApi
from desk.coreporters import ReporterNotFound, co_report, merge, split
from desk.store import DeskStore, InvalidTransition, NewTicket
from tests.auxil.postgres import fresh_database

KEY = "k-dup"
SERVICES = [{"service_code": "CX04", "service_name": "排水与井盖", "agency": "排水集团"}]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeskStore]:
    if request.param == "sqlite":
        s = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", "BJ")
        yield s
        s.close()
        return
    with fresh_database() as url:
        s = DeskStore(url, "BJ")
        yield s
        s.close()


def _new(text: str, phone: str, key: str | None = None, channel: str = "web") -> NewTicket:
    return NewTicket(
        service_code="CX04",
        description=text,
        address_string="朝阳区望京西园四区",
        phone=phone,
        first_name="明",
        last_name="王",
        attributes={"channel": channel, "conversation_id": f"{channel}:{phone}"},
        idempotency_key=key,
        expected_in_hours=24,
    )


def test_co_report_joins_once_per_key(store: DeskStore) -> None:
    first, _ = store.create(_new("井盖丢了", "13800000001", "k1"))
    srid = first.service_request_id
    joined, added = co_report(store, srid, _new("井盖不见了", "13800000002", "k2", "telegram"))
    assert added and joined.service_request_id == srid and joined.reporters == 2
    again, added_again = co_report(store, srid, _new("井盖不见了", "13800000002", "k2"))
    assert not added_again and again.reporters == 2  # a retried delivery adds nobody
    rep = again.co_reporters[0]
    assert rep.phone == "13800000002" and rep.description == "井盖不见了"
    assert rep.attributes["channel"] == "telegram"
    staff = again.to_open311(staff=True, tz=store.tz)
    assert staff["reporters"] == 2 and staff["co_reporters"][0]["phone"] == "13800000002"
    public = again.to_open311(staff=False, tz=store.tz)
    assert public["reporters"] == 2 and "co_reporters" not in public
    assert any("井盖不见了" in (h["note"] or "") for h in staff["history"])
    assert store.count() == 1


def test_co_report_to_a_resolved_ticket_files_a_new_one(store: DeskStore) -> None:
    first, _ = store.create(_new("井盖丢了", "13800000001", "k1"))
    store.set_status(first.service_request_id, "resolved", "已修复")
    other, created = co_report(
        store, first.service_request_id, _new("井盖不见了", "13800000002", "k2")
    )
    assert created and other.service_request_id != first.service_request_id
    assert other.attributes["similar_to"] == first.service_request_id
    assert store.get(first.service_request_id).reporters == 1


def test_merge_then_split_gives_everyone_their_ticket_back(store: DeskStore) -> None:
    a, _ = store.create(_new("井盖丢了", "13800000001", "ka"))
    b, _ = store.create(_new("下水井没盖子", "13800000002", "kb"))
    co_report(store, b.service_request_id, _new("井盖没了", "13800000003", "kc"))
    merged = merge(store, a.service_request_id, b.service_request_id)
    assert merged.reporters == 3
    assert {r.phone for r in merged.co_reporters} == {"13800000002", "13800000003"}
    closed_b = store.get(b.service_request_id)
    assert (
        closed_b.status == "closed" and closed_b.attributes["merged_into"] == a.service_request_id
    )
    with pytest.raises(InvalidTransition):
        merge(store, a.service_request_id, b.service_request_id)
    filer_b = next(r for r in merged.co_reporters if r.phone == "13800000002")
    back = split(store, a.service_request_id, filer_b.reporter_id)
    assert back.service_request_id == b.service_request_id and back.status == "reopened"
    assert "merged_into" not in back.attributes
    rest = store.get(a.service_request_id)
    assert rest.reporters == 2
    c_rep = rest.co_reporters[0]
    own = split(store, a.service_request_id, c_rep.reporter_id)
    assert own.service_request_id not in (a.service_request_id, b.service_request_id)
    assert own.phone == "13800000003" and own.attributes["split_from"] == a.service_request_id
    assert store.get(a.service_request_id).reporters == 1
    with pytest.raises(ReporterNotFound):
        split(store, a.service_request_id, c_rep.reporter_id)


@pytest.fixture
async def client(tmp_path: Path):
    s = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", "BJ")
    api = DeskApi(s, KEY, SERVICES, {"urgent": 2.0, "normal": 24.0})
    app = web.Application()
    app.router.add_routes(api.routes())
    c = TestClient(TestServer(app))
    await c.start_server()
    yield c
    await c.close()
    s.close()


def _form(text: str, phone: str, **extra: str) -> dict[str, str]:
    return {
        "api_key": KEY,
        "service_code": "CX04",
        "description": text,
        "address_string": "朝阳区望京西园四区",
        "phone": phone,
        **extra,
    }


async def test_api_co_report_merge_split_need_the_key(client: TestClient) -> None:
    a = (await (await client.post("/open311/v2/requests.json", data=_form("井盖丢了", "13800000001"))).json())[0]["service_request_id"]  # fmt: skip
    form = _form("井盖不见了", "13800000002", **{"attribute[duplicate_of]": a})
    resp = await client.post(
        "/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "co-1"}
    )
    assert resp.status == 201
    body = (await resp.json())[0]
    assert body["service_request_id"] == a and body["service_notice"] == "已并入同一问题的工单"
    again = await client.post(
        "/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "co-1"}
    )
    assert again.status == 200 and (await again.json())[0]["service_request_id"] == a
    public = (await (await client.get(f"/open311/v2/requests/{a}.json")).json())[0]
    assert public["reporters"] == 2 and "co_reporters" not in public
    b = (await (await client.post("/open311/v2/requests.json", data=_form("下水井没盖", "13800000003"))).json())[0]["service_request_id"]  # fmt: skip
    url = f"/open311/v2/requests/{a}/merge.json"
    assert (await client.post(url, data={"other": b})).status == 403
    merged = await client.post(url, data={"other": b, "api_key": KEY})
    assert merged.status == 200
    ticket = (await merged.json())[0]
    assert ticket["reporters"] == 3
    assert (await client.post(url, data={"other": "BJ1-9", "api_key": KEY})).status == 404
    rid = ticket["co_reporters"][0]["reporter_id"]
    split_url = f"/open311/v2/requests/{a}/split.json"
    assert (await client.post(split_url, data={"reporter_id": str(rid)})).status == 403
    assert (await client.post(split_url, data={"reporter_id": "x", "api_key": KEY})).status == 400
    done = await client.post(split_url, data={"reporter_id": str(rid), "api_key": KEY})
    assert done.status == 200
    assert (await done.json())[0]["service_request_id"] != a
    staff = (await (await client.get(f"/open311/v2/requests/{a}.json?api_key={KEY}")).json())[0]
    assert staff["reporters"] == 2
    page = await client.get("/open311/v2/requests.json", params={"status": "open", "limit": "1"})
    assert len(await page.json()) == 1
    bad = await client.get("/open311/v2/requests.json", params={"limit": "many"})
    assert bad.status == 400
