"""Ticket storage of the embedded desk: tickets, their status history and co-reporters.

A ticket has one filer (its own row) and any number of **co-reporters**
(``desk_ticket_reporters``): residents who reported the same problem and were joined
to it at intake, or whose ticket staff merged into it (:mod:`desk.coreporters`).

Statuses follow the hotline's life cycle (open → in_progress → resolved →
closed, and reopened from resolved/closed).  Open311 itself only knows
``open``/``closed``; :func:`open311_status` maps ours onto it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hotline.timezone import hotline_tz
from tickets.db import make_engine
from tickets.privacy import mask_names, mask_personal_data

__all__ = [
    "DeskStore",
    "Ticket",
    "TicketNotFound",
    "InvalidTransition",
    "NewTicket",
    "Reporter",
    "STATUSES",
    "next_statuses",
    "open311_status",
]

STATUSES = ("open", "in_progress", "resolved", "closed", "reopened")
_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "resolved", "closed"),
    "in_progress": ("resolved", "closed", "open"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("in_progress", "resolved", "closed"),
}

metadata = sa.MetaData()
tickets_table = sa.Table(
    "desk_tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service_request_id", sa.String(40), unique=True),
    sa.Column("idempotency_key", sa.String(80), unique=True, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("service_code", sa.String(40), nullable=False),
    sa.Column("service_name", sa.String(80), nullable=False, server_default=""),
    sa.Column("agency_responsible", sa.String(120), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("address_string", sa.Text, nullable=True),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("long", sa.Float, nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("first_name", sa.String(80), nullable=True),
    sa.Column("last_name", sa.String(80), nullable=True),
    sa.Column("media_url", sa.Text, nullable=True),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("status_notes", sa.Text, nullable=True),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("expected_at", sa.Float, nullable=True),
)
history_table = sa.Table(
    "desk_ticket_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "ticket_id", sa.Integer, sa.ForeignKey("desk_tickets.id"), nullable=False, index=True
    ),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

reporters_table = sa.Table(
    "desk_ticket_reporters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "ticket_id", sa.Integer, sa.ForeignKey("desk_tickets.id"), nullable=False, index=True
    ),
    # The co-report's own idempotency key (outbox), so a retried delivery adds nobody twice.
    sa.Column("idempotency_key", sa.String(80), unique=True, nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("address_string", sa.Text, nullable=True),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("long", sa.Float, nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("first_name", sa.String(80), nullable=True),
    sa.Column("last_name", sa.String(80), nullable=True),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    # The ticket this reporter filed, when staff merged that ticket into this one.
    sa.Column("source_ticket", sa.String(40), nullable=True),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
)


class TicketNotFound(LookupError):
    """No ticket with that service_request_id."""


class InvalidTransition(ValueError):
    """The requested status change is not allowed from the current status."""


def open311_status(status: str) -> str:
    """Map a desk status onto Open311's two values."""
    return "closed" if status in ("resolved", "closed") else "open"


def _iso(ts: float | None, tz: tzinfo) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class NewTicket:
    """What a POST to requests.json carries (already validated)."""

    service_code: str
    description: str
    service_name: str = ""
    agency_responsible: str = ""
    address_string: str | None = None
    lat: float | None = None
    long: float | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    media_url: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    expected_in_hours: float | None = None


@dataclass(frozen=True)
class Reporter:
    """A co-reporter of a ticket (the filer is the ticket itself)."""

    reporter_id: int
    description: str
    address_string: str | None
    lat: float | None
    long: float | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    attributes: dict[str, Any]
    idempotency_key: str | None
    source_ticket: str | None
    actor: str
    added_at: float

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        """Staff view of the co-reporter (personal data included)."""
        return {
            "reporter_id": self.reporter_id,
            "description": self.description,
            "address": self.address_string,
            "lat": self.lat,
            "long": self.long,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "channel": self.attributes.get("channel"),
            "attributes": self.attributes,
            "source_ticket": self.source_ticket,
            "added_by": self.actor,
            "added_datetime": _iso(self.added_at, tz),
        }


@dataclass(frozen=True)
class Ticket:
    """One stored ticket with its history and co-reporters."""

    service_request_id: str
    status: str
    service_code: str
    service_name: str
    agency_responsible: str
    description: str
    address_string: str | None
    lat: float | None
    long: float | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    media_url: str | None
    attributes: dict[str, Any]
    status_notes: str | None
    requested_at: float
    updated_at: float
    expected_at: float | None
    history: tuple[dict[str, Any], ...] = ()
    co_reporters: tuple[Reporter, ...] = ()
    idempotency_key: str | None = None

    @property
    def reporters(self) -> int:
        """How many residents reported this problem (the filer and the co-reporters)."""
        return 1 + len(self.co_reporters)

    def to_open311(self, *, staff: bool, tz: tzinfo) -> dict[str, Any]:
        """Open311 GeoReport v2 request shape; personal data only for staff."""
        description = self.description
        if not staff:
            full_name = f"{self.last_name or ''}{self.first_name or ''}"
            description = mask_names(mask_personal_data(description), full_name)
        out: dict[str, Any] = {
            "service_request_id": self.service_request_id,
            "status": open311_status(self.status),
            "status_notes": self.status_notes,
            "service_name": self.service_name,
            "service_code": self.service_code,
            "description": description,
            "agency_responsible": self.agency_responsible,
            "service_notice": None,
            "requested_datetime": _iso(self.requested_at, tz),
            "updated_datetime": _iso(self.updated_at, tz),
            "expected_datetime": _iso(self.expected_at, tz),
            "address": self.address_string,
            "lat": self.lat,
            "long": self.long,
            "media_url": self.media_url,
            "detailed_status": self.status,
            "reporters": self.reporters,
            "merged_into": self.attributes.get("merged_into") or None,
        }
        if staff:
            out.update(
                phone=self.phone,
                first_name=self.first_name,
                last_name=self.last_name,
                attributes=self.attributes,
                history=list(self.history),
                co_reporters=[r.to_json(tz) for r in self.co_reporters],
            )
        return out


class DeskStore:
    """Synchronous store; call from a thread in async code."""

    def __init__(self, url: str, ticket_prefix: str = "BJ", tz: tzinfo | None = None):
        self.engine: Engine = make_engine(url)
        self.prefix = ticket_prefix
        self.tz = tz or hotline_tz()
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def create(self, new: NewTicket, actor: str = "open311") -> tuple[Ticket, bool]:
        """Store a ticket; returns (ticket, created).  Same idempotency key → same ticket."""
        if new.idempotency_key:
            existing = self._by_key(new.idempotency_key)
            if existing is not None:
                return existing, False
        now = time.time()
        expected = now + new.expected_in_hours * 3600 if new.expected_in_hours else None
        values = {
            "service_request_id": None,
            "idempotency_key": new.idempotency_key,
            "status": "open",
            "service_code": new.service_code,
            "service_name": new.service_name,
            "agency_responsible": new.agency_responsible,
            "description": new.description,
            "address_string": new.address_string,
            "lat": new.lat,
            "long": new.long,
            "phone": new.phone,
            "first_name": new.first_name,
            "last_name": new.last_name,
            "media_url": new.media_url,
            "attributes": json.dumps(new.attributes, ensure_ascii=False),
            "requested_at": now,
            "updated_at": now,
            "expected_at": expected,
        }
        try:
            with self.engine.begin() as conn:
                row_id = conn.execute(tickets_table.insert().values(**values)).inserted_primary_key[
                    0
                ]
                day = datetime.fromtimestamp(now, self.tz).strftime("%Y%m%d")
                srid = f"{self.prefix}{day}-{row_id:06d}"
                conn.execute(
                    tickets_table.update()
                    .where(tickets_table.c.id == row_id)
                    .values(service_request_id=srid)
                )
                conn.execute(
                    history_table.insert().values(
                        ticket_id=row_id, status="open", note="受理", actor=actor, at=now
                    )
                )
        except IntegrityError:
            # A concurrent request with the same idempotency key won the race.
            if new.idempotency_key:
                existing = self._by_key(new.idempotency_key)
                if existing is not None:
                    return existing, False
            raise
        return self.get(srid), True

    def _by_key(self, key: str) -> Ticket | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tickets_table.c.service_request_id).where(
                    tickets_table.c.idempotency_key == key
                )
            ).first()
        return self.get(row[0]) if row else None

    def get(self, service_request_id: str) -> Ticket:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(tickets_table).where(
                        tickets_table.c.service_request_id == service_request_id.upper()
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise TicketNotFound(service_request_id)
            hist = (
                conn.execute(
                    sa.select(history_table)
                    .where(history_table.c.ticket_id == row["id"])
                    .order_by(history_table.c.id)
                )
                .mappings()
                .all()
            )
            reps = self._reporter_rows(conn, [row["id"]])
        return self._ticket(row, hist, reps.get(row["id"], ()))

    @staticmethod
    def _reporter_rows(conn: Any, row_ids: list[int]) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        if not row_ids:
            return out
        rows = (
            conn.execute(
                sa.select(reporters_table)
                .where(reporters_table.c.ticket_id.in_(row_ids))
                .order_by(reporters_table.c.id)
            )
            .mappings()
            .all()
        )
        for r in rows:
            out.setdefault(r["ticket_id"], []).append(r)
        return out

    @staticmethod
    def _reporter(r: Any) -> Reporter:
        return Reporter(
            reporter_id=r["id"],
            description=r["description"],
            address_string=r["address_string"],
            lat=r["lat"],
            long=r["long"],
            phone=r["phone"],
            first_name=r["first_name"],
            last_name=r["last_name"],
            attributes=json.loads(r["attributes"] or "{}"),
            idempotency_key=r["idempotency_key"],
            source_ticket=r["source_ticket"],
            actor=r["actor"],
            added_at=r["added_at"],
        )

    def _ticket(self, row: Any, hist: Any = (), reps: Any = ()) -> Ticket:
        return Ticket(
            service_request_id=row["service_request_id"],
            status=row["status"],
            service_code=row["service_code"],
            service_name=row["service_name"],
            agency_responsible=row["agency_responsible"],
            description=row["description"],
            address_string=row["address_string"],
            lat=row["lat"],
            long=row["long"],
            phone=row["phone"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            media_url=row["media_url"],
            attributes=json.loads(row["attributes"] or "{}"),
            status_notes=row["status_notes"],
            requested_at=row["requested_at"],
            updated_at=row["updated_at"],
            expected_at=row["expected_at"],
            history=tuple(
                {
                    "status": h["status"],
                    "note": h["note"],
                    "actor": h["actor"],
                    "at": _iso(h["at"], self.tz),
                }
                for h in hist
            ),
            co_reporters=tuple(self._reporter(r) for r in reps),
            idempotency_key=row["idempotency_key"],
        )

    def list(
        self,
        *,
        ids: list[str] | None = None,
        status: str | None = None,
        service_code: str | None = None,
        limit: int = 100,
    ) -> list[Ticket]:
        q = sa.select(tickets_table).order_by(tickets_table.c.id.desc()).limit(limit)
        if ids:
            q = q.where(tickets_table.c.service_request_id.in_([i.upper() for i in ids]))
        if status:
            wanted = [s for s in STATUSES if open311_status(s) == status] or [status]
            q = q.where(tickets_table.c.status.in_(wanted))
        if service_code:
            q = q.where(tickets_table.c.service_code == service_code)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
            reps = self._reporter_rows(conn, [r["id"] for r in rows])
        return [self._ticket(r, (), reps.get(r["id"], ())) for r in rows]

    def set_status(
        self,
        service_request_id: str,
        status: str,
        note: str | None = None,
        actor: str = "staff",
        attributes: dict[str, Any] | None = None,
    ) -> Ticket:
        """Change a ticket's status (and optionally merge attributes) with a history entry."""
        if status not in STATUSES:
            raise InvalidTransition(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        current = self.get(service_request_id)
        if status != current.status and status not in _TRANSITIONS[current.status]:
            raise InvalidTransition(f"{current.status} → {status} is not allowed")
        now = time.time()
        merged = dict(current.attributes)
        if attributes:
            merged.update(attributes)
        with self.engine.begin() as conn:
            row_id = conn.execute(
                sa.select(tickets_table.c.id).where(
                    tickets_table.c.service_request_id == current.service_request_id
                )
            ).scalar_one()
            conn.execute(
                tickets_table.update()
                .where(tickets_table.c.id == row_id)
                .values(
                    status=status,
                    status_notes=note if note is not None else current.status_notes,
                    updated_at=now,
                    attributes=json.dumps(merged, ensure_ascii=False),
                )
            )
            conn.execute(
                history_table.insert().values(
                    ticket_id=row_id, status=status, note=note, actor=actor, at=now
                )
            )
        return self.get(current.service_request_id)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(tickets_table)).scalar_one()
            )


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a ticket in ``status`` may move to."""
    return _TRANSITIONS.get(status, ())
