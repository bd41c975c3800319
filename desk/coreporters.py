"""Co-reporters of the embedded desk: join a report to a ticket, merge tickets, split them.

* :func:`co_report` — a resident said "yes, the same problem" at intake: their contact
  and words join the open ticket (idempotent by the co-report's key, so a retried
  delivery from the outbox adds nobody twice).  A ticket no longer open gets a new
  ticket instead: nothing the resident said is lost.
* :func:`merge` — staff: ticket ``b`` is the same problem as ``a``; ``b``'s filer and
  co-reporters become co-reporters of ``a`` and ``b`` is closed, pointing at ``a``.
* :func:`split` — staff: a co-reporter is not the same problem after all; they get a
  ticket of their own again (their original ticket reopened, when it was merged in).

All are synchronous, one transaction each, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from desk.store import (
    DeskStore,
    InvalidTransition,
    NewTicket,
    Ticket,
    TicketNotFound,
    history_table,
    reporters_table,
    tickets_table,
)

__all__ = ["OPEN_STATUSES", "ReporterNotFound", "co_report", "merge", "split"]

#: Statuses a new report can still be joined to.
OPEN_STATUSES = ("open", "in_progress", "reopened")


class ReporterNotFound(LookupError):
    """No co-reporter with that id on that ticket."""


def _row_id(conn: Any, srid: str) -> int:
    row_id = conn.execute(
        sa.select(tickets_table.c.id).where(tickets_table.c.service_request_id == srid.upper())
    ).scalar()
    if row_id is None:
        raise TicketNotFound(srid)
    return int(row_id)


def _srid_of(conn: Any, row_id: int) -> str:
    return str(
        conn.execute(
            sa.select(tickets_table.c.service_request_id).where(tickets_table.c.id == row_id)
        ).scalar_one()
    )


def _note(conn: Any, row_id: int, status: str, note: str, actor: str, now: float) -> None:
    conn.execute(
        history_table.insert().values(
            ticket_id=row_id, status=status, note=note, actor=actor, at=now
        )
    )
    conn.execute(tickets_table.update().where(tickets_table.c.id == row_id).values(updated_at=now))


def _move(
    conn: Any,
    row_id: int,
    status: str,
    note: str,
    attributes: dict[str, Any],
    actor: str,
    now: float,
) -> None:
    """Set a ticket's status (``note`` as its status notes, new attributes) and record it."""
    conn.execute(
        tickets_table.update()
        .where(tickets_table.c.id == row_id)
        .values(
            status=status,
            status_notes=note,
            attributes=json.dumps(attributes, ensure_ascii=False),
            updated_at=now,
        )
    )
    conn.execute(
        history_table.insert().values(
            ticket_id=row_id, status=status, note=note, actor=actor, at=now
        )
    )


def co_report(
    store: DeskStore, service_request_id: str, new: NewTicket, actor: str = "open311"
) -> tuple[Ticket, bool]:
    """Add the resident of ``new`` as a co-reporter of an open ticket.

    Returns:
        (the ticket the resident now belongs to, whether anything was added).  The same
        ``new.idempotency_key`` again returns the ticket it was added to, ``False``.  A
        ticket that is resolved, closed or unknown gets a new ticket (``store.create``).
    """
    key = new.idempotency_key
    if key:
        found = _ticket_of_key(store, key)
        if found is not None:
            return found, False
    try:
        target = store.get(service_request_id)
    except TicketNotFound:
        target = None
    if target is None or target.status not in OPEN_STATUSES:
        attributes = {**new.attributes, "duplicate_of": ""}
        if target is not None:
            attributes["similar_to"] = target.service_request_id
        return store.create(_replace_attributes(new, attributes), actor)
    now = time.time()
    with store.engine.begin() as conn:
        row_id = _row_id(conn, target.service_request_id)
        conn.execute(
            reporters_table.insert().values(
                ticket_id=row_id,
                idempotency_key=key,
                description=new.description,
                address_string=new.address_string,
                lat=new.lat,
                long=new.long,
                phone=new.phone,
                first_name=new.first_name,
                last_name=new.last_name,
                attributes=json.dumps(new.attributes, ensure_ascii=False),
                actor=actor,
                added_at=now,
            )
        )
        _note(conn, row_id, target.status, f"共同反映：{new.description}", actor, now)
    return store.get(target.service_request_id), True


def _replace_attributes(new: NewTicket, attributes: dict[str, str]) -> NewTicket:
    from dataclasses import replace

    return replace(new, attributes=attributes)


def _ticket_of_key(store: DeskStore, key: str) -> Ticket | None:
    """The ticket a co-report (or a ticket) with this idempotency key belongs to."""
    with store.engine.connect() as conn:
        row_id = conn.execute(
            sa.select(reporters_table.c.ticket_id).where(reporters_table.c.idempotency_key == key)
        ).scalar()
        if row_id is None:
            row_id = conn.execute(
                sa.select(tickets_table.c.id).where(tickets_table.c.idempotency_key == key)
            ).scalar()
        srid = _srid_of(conn, int(row_id)) if row_id is not None else None
    return store.get(srid) if srid else None


def merge(store: DeskStore, ticket_a: str, ticket_b: str, actor: str = "staff") -> Ticket:
    """Merge ticket ``b`` into ``a``: ``b``'s filer and co-reporters join ``a``, ``b`` closes.

    Raises:
        TicketNotFound: Either ticket does not exist.
        InvalidTransition: Same ticket twice, or ``b`` was already merged away.
    """
    a, b = store.get(ticket_a), store.get(ticket_b)
    if a.service_request_id == b.service_request_id:
        raise InvalidTransition("a ticket cannot be merged into itself")
    if b.attributes.get("merged_into"):
        raise InvalidTransition(
            f"{b.service_request_id} is already merged into {b.attributes['merged_into']}"
        )
    now = time.time()
    with store.engine.begin() as conn:
        a_id, b_id = _row_id(conn, a.service_request_id), _row_id(conn, b.service_request_id)
        conn.execute(
            reporters_table.update()
            .where(reporters_table.c.ticket_id == b_id)
            .values(
                ticket_id=a_id,
                source_ticket=sa.func.coalesce(
                    reporters_table.c.source_ticket, b.service_request_id
                ),
            )
        )
        conn.execute(
            reporters_table.insert().values(
                ticket_id=a_id,
                idempotency_key=None,
                description=b.description,
                address_string=b.address_string,
                lat=b.lat,
                long=b.long,
                phone=b.phone,
                first_name=b.first_name,
                last_name=b.last_name,
                attributes=json.dumps(b.attributes, ensure_ascii=False),
                source_ticket=b.service_request_id,
                actor=actor,
                added_at=now,
            )
        )
        _note(conn, a_id, a.status, f"并入工单{b.service_request_id}", actor, now)
        merged_attrs = {**b.attributes, "merged_into": a.service_request_id}
        _move(conn, b_id, "closed", f"已并入工单{a.service_request_id}", merged_attrs, actor, now)
    return store.get(a.service_request_id)


def split(store: DeskStore, ticket: str, reporter_id: int, actor: str = "staff") -> Ticket:
    """Take co-reporter ``reporter_id`` off ``ticket``; returns the reporter's own ticket.

    The filer of a ticket merged in gets that ticket back (reopened, its co-reporters
    staying where they are); anyone else gets a new ticket of the same category, with
    their own words and contact and their co-report's idempotency key.

    Raises:
        TicketNotFound: No such ticket.
        ReporterNotFound: No such co-reporter on it.
    """
    current = store.get(ticket)
    rep = next((r for r in current.co_reporters if r.reporter_id == reporter_id), None)
    if rep is None:
        raise ReporterNotFound(f"{ticket}: no co-reporter {reporter_id}")
    now = time.time()
    if rep.idempotency_key is None and rep.source_ticket:
        # The filer of a merged ticket: that ticket is theirs again.
        source = store.get(rep.source_ticket)
        with store.engine.begin() as conn:
            conn.execute(reporters_table.delete().where(reporters_table.c.id == reporter_id))
            src_id = _row_id(conn, source.service_request_id)
            attrs = {k: v for k, v in source.attributes.items() if k != "merged_into"}
            note = f"从工单{current.service_request_id}拆分"
            _move(conn, src_id, "reopened", note, attrs, actor, now)
            _note(
                conn,
                _row_id(conn, current.service_request_id),
                current.status,
                f"拆分出工单{source.service_request_id}",
                actor,
                now,
            )
        return store.get(source.service_request_id)
    # The new ticket first (idempotent by the key), then the row goes: a crash in
    # between leaves the resident on both tickets, never on none.
    attributes = {k: str(v) for k, v in rep.attributes.items()}
    attributes["split_from"] = current.service_request_id
    expected_h = (
        (current.expected_at - current.requested_at) / 3600 if current.expected_at else None
    )
    new, _created = store.create(
        NewTicket(
            service_code=current.service_code,
            service_name=current.service_name,
            agency_responsible=current.agency_responsible,
            description=rep.description,
            address_string=rep.address_string or current.address_string,
            lat=rep.lat,
            long=rep.long,
            phone=rep.phone,
            first_name=rep.first_name,
            last_name=rep.last_name,
            attributes=attributes,
            idempotency_key=rep.idempotency_key,
            expected_in_hours=expected_h,
        ),
        actor=actor,
    )
    with store.engine.begin() as conn:
        conn.execute(reporters_table.delete().where(reporters_table.c.id == reporter_id))
        _note(
            conn,
            _row_id(conn, current.service_request_id),
            current.status,
            f"拆分出工单{new.service_request_id}",
            actor,
            now,
        )
    return new
