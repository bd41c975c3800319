"""The embedded desk's Open311 API on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from desk.api import DeskApi
from desk.store import DeskStore

KEY = "k-123"
SERVICES = [
    {"service_code": "HJ-ZY", "service_name": "噪音扰民", "agency": "生态环境局"},
    {"service_code": "QT-00", "service_name": "其他", "agency": "12345"},
]


@pytest.fixture
async def desk(tmp_path: Path):
    store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", "BJ")
    api = DeskApi(store, KEY, SERVICES, {"urgent": 2.0, "normal": 24.0})
    app = web.Application()
    app.router.add_routes(api.routes())
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, api
    await client.close()
    store.close()


def _form(**extra: str) -> dict[str, str]:
    form = {
        "api_key": KEY,
        "service_code": "HJ-ZY",
        "description": "楼下饭馆每天晚上十二点以后还很吵",
        "address_string": "朝阳区望京西园四区",
        "phone": "13800138000",
        "first_name": "小明",
        "last_name": "王",
        "attribute[request_type]": "投诉",
        "attribute[channel]": "web",
    }
    form.update(extra)
    return form


async def test_create_and_read_public_and_staff_views(desk) -> None:
    client, _ = desk
    resp = await client.post("/open311/v2/requests.json", data=_form())
    assert resp.status == 201
    srid = (await resp.json())[0]["service_request_id"]
    assert srid.startswith("BJ") and srid.endswith("-000001")

    public = (await (await client.get(f"/open311/v2/requests/{srid}.json")).json())[0]
    assert public["status"] == "open" and public["address"] == "朝阳区望京西园四区"
    assert "phone" not in public and "first_name" not in public and "attributes" not in public

    staff = (await (await client.get(f"/open311/v2/requests/{srid}.json?api_key={KEY}")).json())[0]
    assert staff["phone"] == "13800138000" and staff["last_name"] == "王"
    assert staff["attributes"]["request_type"] == "投诉"
    assert staff["expected_datetime"] is not None


async def test_post_needs_the_api_key(desk) -> None:
    client, _ = desk
    resp = await client.post("/open311/v2/requests.json", data=_form(api_key="wrong"))
    assert resp.status == 403
    assert (await resp.json())[0]["code"] == 403


@pytest.mark.parametrize(
    "extra, status",
    [
        ({"service_code": "NOPE"}, 400),
        ({"description": "  "}, 400),
        ({"address_string": "", "lat": "abc"}, 400),
    ],
)
async def test_bad_requests_are_rejected_with_open311_errors(desk, extra, status) -> None:
    client, _ = desk
    resp = await client.post("/open311/v2/requests.json", data=_form(**extra))
    assert resp.status == status
    assert isinstance(await resp.json(), list)


async def test_same_idempotency_key_gives_the_same_ticket(desk) -> None:
    client, api = desk
    first = await client.post(
        "/open311/v2/requests.json", data=_form(), headers={"Idempotency-Key": "abc"}
    )
    second = await client.post(
        "/open311/v2/requests.json", data=_form(), headers={"Idempotency-Key": "abc"}
    )
    assert first.status == 201 and second.status == 200
    a, b = (await first.json())[0], (await second.json())[0]
    assert a["service_request_id"] == b["service_request_id"]
    assert api.store.count() == 1


async def test_status_life_cycle_with_history_and_listener(desk) -> None:
    client, api = desk
    seen: list[str] = []

    async def listener(ticket) -> None:
        seen.append(ticket.status)

    api.listeners.append(listener)
    srid = (await (await client.post("/open311/v2/requests.json", data=_form())).json())[0][
        "service_request_id"
    ]
    url = f"/open311/v2/requests/{srid}/status.json"
    for status in ("in_progress", "resolved", "reopened"):
        resp = await client.post(url, data={"api_key": KEY, "status": status, "note": status})
        assert resp.status == 200, await resp.text()
    bad = await client.post(url, data={"api_key": KEY, "status": "open"})
    assert bad.status == 409
    unauth = await client.post(url, data={"status": "closed"})
    assert unauth.status == 403
    ticket = api.store.get(srid)
    assert [h["status"] for h in ticket.history] == ["open", "in_progress", "resolved", "reopened"]
    assert seen == ["in_progress", "resolved", "reopened"]


async def test_unknown_ticket_is_404(desk) -> None:
    client, _ = desk
    resp = await client.get("/open311/v2/requests/BJ20990101-999999.json")
    assert resp.status == 404
