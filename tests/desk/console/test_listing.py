"""The console's list query and sessions on SQLite and on PostgreSQL (JSON filters differ)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.console import SessionStore, TicketFilter, list_tickets
from desk.store import DeskStore, NewTicket
from tests.auxil.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeskStore]:
    if request.param == "sqlite":
        store = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}")
        yield store
        store.close()
    else:
        with fresh_database() as url:
            store = DeskStore(url)
            yield store
            store.close()


def _add(desk: DeskStore, category: str, channel: str, district: str, hours: float) -> str:
    ticket, _ = desk.create(
        NewTicket(
            service_code="X",
            service_name=category,
            description=f"{district}{category}",
            address_string=district,
            attributes={"category": category, "channel": channel, "address_district": district},
            expected_in_hours=hours,
        )
    )
    return ticket.service_request_id


def test_filters_in_the_database(desk: DeskStore) -> None:
    a = _add(desk, "噪音扰民", "web", "朝阳区", 24)
    b = _add(desk, "路灯照明", "telegram", "海淀区", 24)
    c = _add(desk, "路灯照明", "phone", "朝阳区", 24)
    later = time.time() + 48 * 3600  # every deadline has passed by then

    def ids(**kw: object) -> list[str]:
        page = list_tickets(desk.engine, TicketFilter(**kw), later)  # type: ignore[arg-type]
        return [t.service_request_id for t in page.tickets]

    assert ids() == [c, b, a]  # newest first
    assert ids(district="朝阳区") == [c, a]
    assert ids(channel="telegram") == [b]
    assert ids(category="路灯照明", district="朝阳区") == [c]
    desk.set_status(b, "resolved", "ok")
    assert ids(overdue=True) == [c, a]
    assert ids(status="resolved") == [b]
    page = list_tickets(desk.engine, TicketFilter(page=2), later, page_size=2)
    assert (page.total, page.pages, page.page, [t.service_request_id for t in page.tickets]) == (
        3, 2, 2, [a],
    )  # fmt: skip
    # A page past the end shows the last page.
    assert list_tickets(desk.engine, TicketFilter(page=9), later, page_size=2).page == 2


def test_sessions_expire_and_end(desk: DeskStore) -> None:
    sessions = SessionStore(desk.engine, ttl_s=60)
    s = sessions.create(now=1000.0)
    assert sessions.get(s.token, now=1030.0) == s
    assert sessions.get(s.token, now=1061.0) is None  # expired
    t = sessions.create()
    assert sessions.get("x" + t.token) is None
    sessions.delete(t.token)
    assert sessions.get(t.token) is None
    assert s.csrf_ok(s.csrf) and not s.csrf_ok("") and not s.csrf_ok(t.csrf)
