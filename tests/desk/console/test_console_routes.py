"""The staff console on the real gateway app: sign-in, filters, paging, ticket page, status."""

from __future__ import annotations

import time

import sqlalchemy as sa

from desk.console import COOKIE
from desk.console._reporters import Reporter
from desk.store import Ticket, tickets_table
from tests.desk.console.conftest import KEY, Gateway, add_ticket
from tickets.survey.store import SurveyStore


def _overdue(gw: Gateway, srid: str) -> None:
    with gw.desk.engine.begin() as conn:
        conn.execute(
            tickets_table.update()
            .where(tickets_table.c.service_request_id == srid)
            .values(expected_at=time.time() - 3600)
        )


async def test_nothing_is_shown_without_signing_in(gateway: Gateway) -> None:
    t = add_ticket(gateway, channel="web")
    for path in (
        "/desk/",
        "/desk/tickets",
        f"/desk/tickets/{t.service_request_id}",
        "/desk/reports",
    ):
        resp = await gateway.client.get(path, allow_redirects=False)
        if path == "/desk/":
            resp = await gateway.client.get(resp.headers["Location"], allow_redirects=False)
        assert resp.status == 302, path
        assert resp.headers["Location"].startswith("/desk/login?next=")
        assert "13800138000" not in await resp.text()
    resp = await gateway.client.post(
        f"/desk/tickets/{t.service_request_id}/status", data={"status": "resolved", "note": "x"}
    )
    assert resp.status == 403
    assert gateway.desk.get(t.service_request_id).status == "open"


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(gateway: Gateway) -> None:
    bad = await gateway.client.post("/desk/login", data={"api_key": "wrong"}, allow_redirects=False)
    assert bad.status == 403 and COOKIE not in bad.cookies
    # No open redirect after sign-in.
    resp = await gateway.client.post(
        "/desk/login", data={"api_key": KEY, "next": "//evil.example/x"}, allow_redirects=False
    )
    assert resp.headers["Location"] == "/desk/tickets"
    resp = await gateway.client.post(
        "/desk/login",
        data={"api_key": KEY, "next": "/desk/tickets?status=open"},
        allow_redirects=False,
    )
    assert resp.status == 302 and resp.headers["Location"] == "/desk/tickets?status=open"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/desk" in cookie
    token = resp.cookies[COOKIE].value
    page = await gateway.client.get("/desk/tickets")
    assert page.status == 200 and "工单" in await page.text()
    csrf = await gateway.csrf()
    assert (await gateway.client.post("/desk/logout", data={"csrf": "forged"})).status == 403
    out = await gateway.client.post("/desk/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 302
    # The old token is dead server-side, even if someone kept the cookie.
    gateway.client.session.cookie_jar.update_cookies({COOKIE: token})
    again = await gateway.client.get("/desk/tickets", allow_redirects=False)
    assert again.status == 302


async def test_filters_and_paging(gateway: Gateway) -> None:
    a = add_ticket(gateway, channel="web", address_district="朝阳区")
    b = add_ticket(gateway, category="路灯照明", channel="telegram", address_district="海淀区")
    c = add_ticket(gateway, category="路灯照明", channel="phone", address_district="朝阳区")
    _overdue(gateway, c.service_request_id)
    _overdue(gateway, a.service_request_id)
    gateway.desk.set_status(a.service_request_id, "resolved", "done")  # resolved: not overdue
    await gateway.login()

    async def ids(query: str) -> set[str]:
        text = await (await gateway.client.get(f"/desk/tickets?{query}")).text()
        return {t.service_request_id for t in (a, b, c) if f">{t.service_request_id}<" in text}

    assert await ids("") == {a.service_request_id, b.service_request_id, c.service_request_id}
    assert await ids("category=路灯照明") == {b.service_request_id, c.service_request_id}
    assert await ids("district=朝阳区") == {a.service_request_id, c.service_request_id}
    assert await ids("channel=telegram") == {b.service_request_id}
    assert await ids("status=resolved") == {a.service_request_id}
    assert await ids("overdue=1") == {c.service_request_id}
    assert await ids("overdue=1&channel=web") == set()

    for _ in range(117):
        add_ticket(gateway, channel="web", address_district="朝阳区")
    text = await (await gateway.client.get("/desk/tickets?channel=web&page=3")).text()
    assert "<b id=total>118</b>" in text and "第 3 / 3 页" in text
    assert text.count('<tr><td><a href="/desk/tickets/') == 18
    assert "page=2" in text and "channel=web" in text  # the pager keeps the filter


async def test_ticket_page_shows_staff_everything_and_escapes_it(gateway: Gateway) -> None:
    t = add_ticket(gateway, channel="web", text="井盖丢了<script>alert(1)</script>")
    await gateway.login()
    text = await (await gateway.client.get(f"/desk/tickets/{t.service_request_id}")).text()
    assert "13800138000" in text and "王小明" in text  # staff see the contact
    assert "<script>alert(1)</script>" not in text
    page = await gateway.client.get(f"/desk/tickets/{t.service_request_id}")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "受理" in text  # status history
    assert "<b id=reporters>1</b>" in text  # the ticket's own contact is its reporter
    # The public Open311 view still hides them.
    public = await (
        await gateway.client.get(f"/open311/v2/requests/{t.service_request_id}.json")
    ).json()
    assert "phone" not in public[0] and "first_name" not in public[0]


async def test_status_change_needs_csrf_and_schedules_the_callback(gateway: Gateway) -> None:
    # A complaint Jiesu filed: the outbox knows the conversation to call back.
    entry = gateway.outbox.add(
        {"service_code": "HJ01", "description": "楼下饭馆太吵", "attribute[category]": "噪音扰民"},
        "web:res-1",
        "web",
        "楼下饭馆太吵",
        first_attempt_in_s=3600,
        idempotency_key="console-test-1",
    )
    t = add_ticket(gateway, key="console-test-1", channel="web", conversation_id="web:res-1")
    gateway.outbox.mark_delivered(entry, t.service_request_id)
    csrf = await gateway.login()
    path = f"/desk/tickets/{t.service_request_id}/status"
    forged = await gateway.client.post(path, data={"status": "resolved", "note": "已修复"})
    assert forged.status == 403
    assert gateway.desk.get(t.service_request_id).status == "open"

    resp = await gateway.client.post(
        path, data={"status": "resolved", "note": "已修复", "csrf": csrf}, allow_redirects=False
    )
    assert resp.status == 302 and "done=status" in resp.headers["Location"]
    ticket = gateway.desk.get(t.service_request_id)
    assert ticket.status == "resolved"
    assert ticket.history[-1] == {
        **ticket.history[-1],
        "status": "resolved",
        "note": "已修复",
        "actor": "console",
    }
    survey = SurveyStore(gateway.outbox_url)
    try:
        job = survey.get(t.service_request_id)
    finally:
        survey.close()
    assert job.status == "scheduled" and job.sender_id == "web:res-1"

    no_note = await gateway.client.post(
        path, data={"status": "closed", "note": " ", "csrf": csrf}, allow_redirects=False
    )
    assert "error=note" in no_note.headers["Location"]
    assert gateway.desk.get(t.service_request_id).status == "resolved"
    bad = await gateway.client.post(
        path, data={"status": "in_progress", "note": "x", "csrf": csrf}, allow_redirects=False
    )
    assert "error=transition" in bad.headers["Location"]
    page = await (await gateway.client.get(bad.headers["Location"])).text()
    assert "这个状态变更不允许" in page


async def test_transcript_from_rasa_tracker_store(gateway: Gateway) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(dialect="sqlite", db=str(gateway.data_dir / "tracker.db"))
    tracker = DialogueStateTracker.from_events(
        "web:res-2",
        [
            UserUttered("望京西园四区的井盖丢了", timestamp=time.time() - 60),
            BotUttered(
                "请问具体在什么位置？", {"buttons": [{"title": "小区门口", "payload": "/x"}]}
            ),
            UserUttered("小区南门<b>口</b>"),
        ],
    )
    await store.save(tracker)
    t = add_ticket(gateway, channel="web", conversation_id="web:res-2")
    await gateway.login()
    text = await (await gateway.client.get(f"/desk/tickets/{t.service_request_id}")).text()
    assert (
        text.index("望京西园四区的井盖丢了")
        < text.index("请问具体在什么位置？")
        < text.index("小区南门")
    )
    assert "[小区门口]" in text and "小区南门&lt;b&gt;口&lt;/b&gt;" in text


async def test_attachments_only_from_the_data_dir(gateway: Gateway, tmp_path_factory) -> None:
    inside = gateway.data_dir / "attachments" / "1" / "photo.jpg"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"\xff\xd8jpeg")
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.txt"
    outside.write_text("secret")
    t = add_ticket(
        gateway, channel="telegram", attachments=f"{inside.as_uri()}\n{outside.as_uri()}"
    )
    await gateway.login()
    text = await (await gateway.client.get(f"/desk/tickets/{t.service_request_id}")).text()
    assert "photo.jpg" in text
    ok = await gateway.client.get(f"/desk/tickets/{t.service_request_id}/attachments/0")
    assert ok.status == 200 and await ok.read() == b"\xff\xd8jpeg"
    refused = await gateway.client.get(f"/desk/tickets/{t.service_request_id}/attachments/1")
    assert refused.status == 404


async def test_merge_and_split_change_the_store(gateway: Gateway) -> None:
    t = add_ticket(gateway, channel="web")
    u = add_ticket(gateway, channel="telegram")
    csrf = await gateway.login()
    resp = await gateway.client.post(
        f"/desk/tickets/{t.service_request_id}/merge",
        data={"into": u.service_request_id, "csrf": csrf},
        allow_redirects=False,
    )
    assert resp.status == 302 and u.service_request_id in resp.headers["Location"]
    merged = gateway.desk.get(u.service_request_id)
    assert merged.reporters == 2
    assert gateway.desk.get(t.service_request_id).attributes["merged_into"] == u.service_request_id
    page = await (await gateway.client.get(f"/desk/tickets/{u.service_request_id}")).text()
    assert "共 <b id=reporters>2</b> 位反映人" in page and "拆出" in page
    (co,) = merged.co_reporters
    resp = await gateway.client.post(
        f"/desk/tickets/{u.service_request_id}/split",
        data={"reporter": str(co.reporter_id), "csrf": csrf},
        allow_redirects=False,
    )
    assert resp.status == 302 and t.service_request_id in resp.headers["Location"]
    assert gateway.desk.get(u.service_request_id).reporters == 1
    assert gateway.desk.get(t.service_request_id).status == "reopened"
    bad = await gateway.client.post(
        f"/desk/tickets/{u.service_request_id}/split",
        data={"reporter": "999999", "csrf": csrf},
        allow_redirects=False,
    )
    assert bad.status == 400


def test_reporters_are_the_filer_then_the_co_reporters() -> None:
    from desk.console import reporters_of
    from desk.store import Reporter as CoReporter

    base = dict(
        service_request_id="BJ1", status="open", service_code="X", service_name="x",
        agency_responsible="", description="井盖丢了", address_string=None, lat=None, long=None,
        phone="13800138000", first_name="小明", last_name="王", media_url=None, status_notes=None,
        requested_at=0.0, updated_at=0.0, expected_at=None,
    )  # fmt: skip
    own = Ticket(**base, attributes={"channel": "web"})  # type: ignore[arg-type]
    assert reporters_of(own) == [Reporter("王小明", "13800138000", "web", "井盖丢了", "")]
    co = CoReporter(
        reporter_id=7, description="下水井没有盖子", address_string=None, lat=None, long=None,
        phone="13900139000", first_name="四", last_name="李", attributes={"channel": "telegram"},
        idempotency_key="k", source_ticket=None, actor="open311", added_at=1.0,
    )  # fmt: skip
    joined = Ticket(**base, attributes={}, co_reporters=(co,))  # type: ignore[arg-type]
    got = reporters_of(joined)
    assert [(r.name, r.reporter_id, r.channel) for r in got] == [
        ("王小明", None, ""),
        ("李四", 7, "telegram"),
    ]


async def test_report_pages(gateway: Gateway) -> None:
    add_ticket(gateway, channel="web", address_district="朝阳区")
    await gateway.login()
    text = await (await gateway.client.get("/desk/reports?period=week")).text()
    assert "周报" in text and text.count('src="data:image/png;base64,') == 6
    figures = await (await gateway.client.get("/desk/reports.json?period=day")).json()
    assert figures["period"] == "day" and figures["new_tickets"] == 1
    with gateway.desk.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tickets_table)).scalar_one() == 1


async def test_repeated_wrong_keys_are_refused_for_a_while(gateway: Gateway) -> None:
    for _ in range(10):
        resp = await gateway.client.post("/desk/login", data={"api_key": "guess"})
        assert resp.status == 403
    blocked = await gateway.client.post("/desk/login", data={"api_key": KEY}, allow_redirects=False)
    assert blocked.status == 429 and COOKIE not in blocked.cookies
