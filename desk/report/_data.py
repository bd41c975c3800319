"""What a report reads: desk tickets (desk database) and survey jobs (outbox database).

Only the columns a report needs are selected, so a month of a busy hotline loads in a
fraction of a second on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from desk.store import history_table, tickets_table
from tickets.survey.store import SurveyJob, SurveyStore

__all__ = [
    "DONE_STATUSES",
    "UNKNOWN",
    "ReportInput",
    "ReportTicket",
    "Resolution",
    "agencies_of",
    "load_input",
    "ticket_from_row",
]

UNKNOWN = "未知"
# A ticket in one of these statuses is no longer waiting for the desk.
DONE_STATUSES = ("resolved", "closed")
_IN_CHUNK = 500

_COLUMNS = (
    tickets_table.c.service_request_id,
    tickets_table.c.status,
    tickets_table.c.service_name,
    tickets_table.c.agency_responsible,
    tickets_table.c.description,
    tickets_table.c.attributes,
    tickets_table.c.requested_at,
    tickets_table.c.expected_at,
)


@dataclass(frozen=True)
class ReportTicket:
    """One ticket as a report sees it."""

    service_request_id: str
    status: str
    category: str
    district: str
    channel: str
    agency: str
    description: str
    requested_at: float
    expected_at: float | None

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES


def ticket_from_row(row: sa.engine.RowMapping) -> ReportTicket:
    """A :class:`ReportTicket` from a ``desk_tickets`` row (any superset of ``_COLUMNS``)."""
    attrs = json.loads(row["attributes"] or "{}")
    return ReportTicket(
        service_request_id=row["service_request_id"],
        status=row["status"],
        category=str(attrs.get("category") or row["service_name"] or UNKNOWN),
        district=str(attrs.get("address_district") or UNKNOWN),
        channel=str(attrs.get("channel") or UNKNOWN),
        agency=str(row["agency_responsible"] or UNKNOWN),
        description=row["description"],
        requested_at=row["requested_at"],
        expected_at=row["expected_at"],
    )


@dataclass(frozen=True)
class Resolution:
    """A ticket first resolved (or closed) in the period, against its promised deadline."""

    service_request_id: str
    agency: str
    done_at: float
    expected_at: float | None

    @property
    def late(self) -> bool:
        return self.expected_at is not None and self.done_at > self.expected_at


@dataclass(frozen=True)
class ReportInput:
    """Tickets of the period and the one before, open overdue tickets, survey jobs."""

    tickets: list[ReportTicket]
    overdue: list[ReportTicket]
    jobs: list[SurveyJob]
    agency_of: dict[str, str]
    resolutions: list[Resolution] = field(default_factory=list)


def _select(engine: Engine, *where: Any) -> list[ReportTicket]:
    q = sa.select(*_COLUMNS).where(*where).order_by(tickets_table.c.id)
    with engine.connect() as conn:
        return [ticket_from_row(r) for r in conn.execute(q).mappings()]


def agencies_of(engine: Engine, ticket_ids: Iterable[str]) -> dict[str, str]:
    """``agency_responsible`` of each known ticket id (survey jobs name tickets by id)."""
    ids = sorted({t.upper() for t in ticket_ids})
    out: dict[str, str] = {}
    c = tickets_table.c
    with engine.connect() as conn:
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            q = sa.select(c.service_request_id, c.agency_responsible).where(
                c.service_request_id.in_(chunk)
            )
            out.update({str(r[0]): str(r[1] or UNKNOWN) for r in conn.execute(q)})
    return out


def load_input(
    desk_engine: Engine, survey: SurveyStore | None, prev_start: float, start: float, end: float
) -> ReportInput:
    """Everything a report over ``[start, end)`` (and ``[prev_start, start)``) needs."""
    c = tickets_table.c
    tickets = _select(desk_engine, c.requested_at >= prev_start, c.requested_at < end)
    overdue = _select(
        desk_engine,
        c.status.not_in(DONE_STATUSES),
        c.expected_at.is_not(None),
        c.expected_at < end,
        c.requested_at < end,
    )
    jobs = survey.jobs(start, end) if survey is not None else []
    return ReportInput(
        tickets,
        overdue,
        jobs,
        agencies_of(desk_engine, (j.ticket_id for j in jobs)),
        resolutions(desk_engine, start, end),
    )


def resolutions(engine: Engine, start: float, end: float) -> list[Resolution]:
    """Tickets whose first resolved/closed entry in the history falls in ``[start, end)``."""
    h, c = history_table.c, tickets_table.c
    first = (
        sa.select(h.ticket_id, sa.func.min(h.at).label("done_at"))
        .where(h.status.in_(DONE_STATUSES))
        .group_by(h.ticket_id)
        .subquery()
    )
    q = (
        sa.select(c.service_request_id, c.agency_responsible, c.expected_at, first.c.done_at)
        .join(first, first.c.ticket_id == c.id)
        .where(first.c.done_at >= start, first.c.done_at < end)
        .order_by(c.id)
    )
    with engine.connect() as conn:
        return [
            Resolution(str(r[0]), str(r[1] or UNKNOWN), float(r[3]), r[2]) for r in conn.execute(q)
        ]
