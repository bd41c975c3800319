"""Durable outbox of confirmed complaints.

A complaint is written here *before* any network call, then delivered to
the ticket backend with retries.  Claims are conditional UPDATEs with a
lease, so any number of processes (action server, gateways on SQLite or
PostgreSQL) can deliver without sending one complaint twice at once; the
idempotency key sent with every attempt makes a retried POST harmless.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.states import TextEnum
from hotline.timezone import hotline_tz
from tickets.db import make_engine
from tickets.errors import UnknownReference

__all__ = [
    "DELIVERED",
    "Outbox",
    "OutboxEntry",
    "OutboxStatus",
    "PENDING",
    "REFERENCE_RE",
    "REJECTED",
]


class OutboxStatus(TextEnum):
    """Delivery state of one confirmed complaint (column ``status``)."""

    PENDING = "pending"  # persisted, not yet taken by the backend (retried with backoff)
    DELIVERED = "delivered"  # the backend gave it a ticket id
    REJECTED = "rejected"  # the backend refused it for good (4xx): staff must look


PENDING, DELIVERED, REJECTED = OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.REJECTED
_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Our own references, e.g. JS20261125-7K3Q9A (told to residents when the backend is down).
REFERENCE_RE = re.compile(
    r"(?<![A-Za-z0-9])JS\d{8}-[2-9A-HJ-NP-Z]{6}(?![A-Za-z0-9])", re.IGNORECASE
)

metadata = sa.MetaData()
outbox_table = sa.Table(
    "outbox",
    metadata,
    sa.Column("reference", sa.String(40), primary_key=True),
    sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("channel_user", sa.String(200), nullable=False, index=True),
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claimed_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("claim_token", sa.String(40), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("service_request_id", sa.String(60), nullable=True, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
)


@dataclass(frozen=True)
class OutboxEntry:
    """One confirmed complaint waiting for, or done with, delivery."""

    reference: str
    idempotency_key: str
    sender_id: str
    channel: str
    channel_user: str
    form: dict[str, str]
    summary: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: float
    last_error: str | None
    service_request_id: str | None
    created_at: float
    delivered_at: float | None
    claim_token: str | None = None

    @property
    def ticket_id(self) -> str:
        """What to tell the resident: the backend's id once known, else our reference."""
        return self.service_request_id or self.reference


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        reference=row["reference"],
        idempotency_key=row["idempotency_key"],
        sender_id=row["sender_id"],
        channel=row["channel"],
        channel_user=row["channel_user"],
        form=json.loads(row["form"]),
        summary=row["summary"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        service_request_id=row["service_request_id"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        claim_token=row["claim_token"],
    )


class Outbox:
    """Synchronous store (call from a thread in async code)."""

    def __init__(self, url: str, reference_prefix: str = "JS", tz: tzinfo | None = None):
        self.engine: Engine = make_engine(url)
        self.prefix = reference_prefix
        self.tz = tz or hotline_tz()
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def _new_reference(self, now: float) -> str:
        day = datetime.fromtimestamp(now, self.tz).strftime("%Y%m%d")
        tail = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        return f"{self.prefix}{day}-{tail}"

    def add(
        self,
        form: dict[str, str],
        sender_id: str,
        channel: str,
        summary: str = "",
        idempotency_key: str | None = None,
        channel_user: str | None = None,
        first_attempt_in_s: float = 0.0,
    ) -> OutboxEntry:
        """Persist a complaint; the same idempotency key returns the existing entry.

        ``channel_user`` is who the resident is on their channel (Telegram chat,
        caller number), so "my tickets" works across conversations.
        ``first_attempt_in_s`` keeps background workers off the entry while the
        caller makes the first attempt itself (it claims directly).
        """
        key = idempotency_key or uuid.uuid4().hex
        existing = self.by_key(key)
        if existing is not None:
            return existing
        now = time.time()
        ref = self._new_reference(now)
        with self.engine.begin() as conn:
            conn.execute(
                outbox_table.insert().values(
                    reference=ref,
                    idempotency_key=key,
                    sender_id=sender_id,
                    channel=channel,
                    channel_user=channel_user or sender_id,
                    form=json.dumps(form, ensure_ascii=False),
                    summary=summary,
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now + first_attempt_in_s,
                    claimed_until=0.0,
                    created_at=now,
                )
            )
        return self.get(ref)

    def get(self, reference: str) -> OutboxEntry:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(outbox_table)
                    .where(
                        sa.or_(
                            outbox_table.c.reference == reference.upper(),
                            outbox_table.c.service_request_id == reference.upper(),
                        )
                    )
                    # Co-reports share their ticket's id: the filer's entry (the first) wins.
                    .order_by(outbox_table.c.created_at)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise UnknownReference(reference)
        return _entry(row)

    def for_ticket(self, service_request_id: str) -> list[OutboxEntry]:
        """Every entry delivered as this ticket (its filer and co-reports), oldest first."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(outbox_table)
                    .where(outbox_table.c.service_request_id == service_request_id.upper())
                    .order_by(outbox_table.c.created_at)
                )
                .mappings()
                .all()
            )
        return [_entry(r) for r in rows]

    def by_key(self, key: str) -> OutboxEntry | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(outbox_table).where(outbox_table.c.idempotency_key == key))
                .mappings()
                .first()
            )
        return _entry(row) if row else None

    def for_channel_user(self, channel_user: str, limit: int = 5) -> list[OutboxEntry]:
        """The resident's latest complaints, newest first."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(outbox_table)
                    .where(outbox_table.c.channel_user == channel_user)
                    .order_by(outbox_table.c.created_at.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [_entry(r) for r in rows]

    def claim(self, reference: str, lease_s: float = 30.0) -> OutboxEntry | None:
        """Take the delivery lease on one pending entry, or None if someone holds it."""
        now = time.time()
        token = uuid.uuid4().hex
        with self.engine.begin() as conn:
            result = conn.execute(
                outbox_table.update()
                .where(
                    outbox_table.c.reference == reference,
                    outbox_table.c.status == PENDING,
                    outbox_table.c.claimed_until < now,
                )
                .values(claimed_until=now + lease_s, claim_token=token)
            )
        if result.rowcount != 1:
            return None
        entry = self.get(reference)
        return entry if entry.claim_token == token else None

    def claim_due(self, limit: int = 20, lease_s: float = 30.0) -> list[OutboxEntry]:
        """Claim up to ``limit`` entries whose next attempt is due."""
        now = time.time()
        with self.engine.connect() as conn:
            refs = [
                r[0]
                for r in conn.execute(
                    sa.select(outbox_table.c.reference)
                    .where(
                        outbox_table.c.status == PENDING,
                        outbox_table.c.next_attempt_at <= now,
                        outbox_table.c.claimed_until < now,
                    )
                    .order_by(outbox_table.c.next_attempt_at)
                    .limit(limit)
                )
            ]
        claimed = []
        for ref in refs:
            entry = self.claim(ref, lease_s)
            if entry is not None:
                claimed.append(entry)
        return claimed

    def mark_delivered(self, entry: OutboxEntry, service_request_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox_table.update()
                .where(outbox_table.c.reference == entry.reference)
                .values(
                    status=DELIVERED,
                    service_request_id=service_request_id,
                    delivered_at=time.time(),
                    attempts=outbox_table.c.attempts + 1,
                    claimed_until=0.0,
                    last_error=None,
                )
            )

    def mark_failed(
        self, entry: OutboxEntry, error: str, retry_in_s: float | None, rejected: bool = False
    ) -> None:
        """Record a failed attempt; ``rejected`` parks it for staff (never deleted)."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                outbox_table.update()
                .where(outbox_table.c.reference == entry.reference)
                .values(
                    status=REJECTED if rejected else PENDING,
                    attempts=outbox_table.c.attempts + 1,
                    next_attempt_at=now + (retry_in_s or 0.0),
                    claimed_until=0.0,
                    last_error=error[:2000],
                )
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox_table.c.status, sa.func.count()).group_by(outbox_table.c.status)
            ).all()
        return {str(s): int(n) for s, n in rows}
