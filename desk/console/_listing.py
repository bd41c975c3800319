"""The console's ticket list: filters and paging done by the database.

Category is the ``service_name`` column; district and channel live in the ticket's JSON
``attributes`` and are read with the database's JSON functions (SQLite ``json_extract``,
PostgreSQL ``->>``), so a filtered page of 10,000 tickets is one query plus one count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from desk.report._data import DONE_STATUSES, ReportTicket, ticket_from_row
from desk.store import STATUSES, tickets_table

__all__ = ["PAGE_SIZE", "ListPage", "TicketFilter", "list_tickets"]

PAGE_SIZE = 50
_FIELDS = ("status", "category", "district", "channel", "overdue")


@dataclass(frozen=True)
class TicketFilter:
    """What the staff asked for (query string of ``GET /desk/tickets``)."""

    status: str = ""
    category: str = ""
    district: str = ""
    channel: str = ""
    overdue: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query: Any) -> TicketFilter:
        status = str(query.get("status", ""))
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            status=status if status in STATUSES else "",
            category=str(query.get("category", "")).strip()[:80],
            district=str(query.get("district", "")).strip()[:40],
            channel=str(query.get("channel", "")).strip()[:20],
            overdue=query.get("overdue", "") in ("1", "on", "true"),
            page=page,
        )

    def query(self, **change: Any) -> dict[str, str]:
        """The query string of this filter (with ``change`` applied), empty fields left out."""
        values = {f: getattr(self, f) for f in (*_FIELDS, "page")} | change
        out = {k: ("1" if v is True else str(v)) for k, v in values.items() if v not in ("", False)}
        if out.get("page") == "1":
            del out["page"]
        return out


@dataclass(frozen=True)
class ListPage:
    tickets: list[ReportTicket]
    total: int
    page: int
    pages: int


def _attribute(engine: Engine, name: str) -> Any:
    col = tickets_table.c.attributes
    if engine.dialect.name == "postgresql":
        return sa.cast(col, postgresql.JSONB)[name].astext
    return sa.func.json_extract(col, f"$.{name}")


def list_tickets(
    engine: Engine, f: TicketFilter, now: float, page_size: int = PAGE_SIZE
) -> ListPage:
    """One page of tickets matching ``f``, newest first, and the total count."""
    c = tickets_table.c
    where: list[Any] = []
    if f.status:
        where.append(c.status == f.status)
    if f.category:
        where.append(c.service_name == f.category)
    if f.overdue:
        where += [c.status.not_in(DONE_STATUSES), c.expected_at.is_not(None), c.expected_at < now]
    # JSON reads last: the plain column tests above rule most rows out first.
    if f.district:
        where.append(_attribute(engine, "address_district") == f.district)
    if f.channel:
        where.append(_attribute(engine, "channel") == f.channel)
    columns = (
        c.service_request_id,
        c.status,
        c.service_name,
        c.agency_responsible,
        c.description,
        c.attributes,
        c.requested_at,
        c.expected_at,
    )
    with engine.connect() as conn:
        total = int(
            conn.execute(
                sa.select(sa.func.count()).select_from(tickets_table).where(*where)
            ).scalar_one()
        )
        pages = max(1, -(-total // page_size))
        page = min(f.page, pages)
        rows = conn.execute(
            sa.select(*columns)
            .where(*where)
            .order_by(c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).mappings()
        tickets = [ticket_from_row(r) for r in rows]
    return ListPage(tickets, total, page, pages)
