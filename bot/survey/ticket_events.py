"""How the gateway learns that a ticket was resolved (or reopened).

Three sources, one handler (:meth:`TicketEvents.on_status`):

* the embedded desk calls :meth:`TicketEvents.desk_listener` in-process;
* a city's backend posts ``POST /api/ticket-events`` (:meth:`TicketEvents.webhook`),
  authenticated with ``JIESU_WEBHOOK_KEY`` — an HMAC-SHA256 of the body in
  ``X-Jiesu-Signature: sha256=<hex>``, or the key itself in ``X-Jiesu-Key``;
* :class:`ResolvedPoller` asks Open311 ``GET requests/{id}.json`` for delivered
  complaints, for backends that cannot call out (``JIESU_SURVEY_POLL``).

Only residents Jiesu took the report of (found in the outbox) get a survey: the
outbox entry knows the conversation, channel and resident to call back.  A ticket
with co-reporters gets one survey per resident (:func:`surveys_for`): the filer's
job is keyed by the ticket id, a co-reporter's by their co-report's reference.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping

import sqlalchemy as sa
from aiohttp import web

from bot.gateway.errors import json_error
from bot.survey.scheduler import SurveyScheduler
from desk.store import Ticket
from hotline.secret_keys import constant_time_equal
from tickets.errors import TicketBackendError, UnknownReference
from tickets.open311_client import Open311Client
from tickets.outbox import DELIVERED, Outbox, OutboxEntry, outbox_table
from tickets.survey.store import NewSurvey, SurveyStore

__all__ = [
    "KEY_HEADER",
    "RESOLVED",
    "ResolvedPoller",
    "SIGNATURE_HEADER",
    "TicketEvents",
    "sign",
    "surveys_for",
    "verify_webhook",
]

log = logging.getLogger("jiesu.survey")
RESOLVED = frozenset({"resolved", "closed"})
REOPENED = frozenset({"reopened", "open", "in_progress"})
SIGNATURE_HEADER = "X-Jiesu-Signature"
KEY_HEADER = "X-Jiesu-Key"
MAX_EVENT_BYTES = 64 * 1024


def sign(key: str, body: bytes) -> str:
    """The ``X-Jiesu-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook(key: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the request carries a valid signature or the shared key."""
    if not key:
        return False
    signature = headers.get(SIGNATURE_HEADER, "")
    if signature:
        return constant_time_equal(signature, sign(key, body))
    return constant_time_equal(headers.get(KEY_HEADER, ""), key)


def _new_survey(entry: OutboxEntry, ticket_id: str) -> NewSurvey:
    filer = entry.service_request_id == ticket_id.upper() and not entry.form.get(
        "attribute[duplicate_of]"
    )
    return NewSurvey(
        ticket_id=ticket_id if filer else entry.reference,
        sender_id=entry.sender_id,
        channel=entry.channel,
        channel_user=entry.channel_user,
        category=entry.form.get("attribute[category]") or entry.form.get("service_code", ""),
        summary=entry.summary,
        submitted_at=entry.created_at,
        ticket="" if filer else ticket_id.upper(),
    )


def surveys_for(outbox: Outbox, ticket_id: str, ticket: Ticket | None = None) -> list[NewSurvey]:
    """One survey job per resident of a ticket Jiesu took reports for (synchronous).

    With the embedded desk's ``ticket`` its reporters decide (after merges and splits
    they are the truth): the filer and each co-reporter, found in the outbox by the
    idempotency key they were delivered with, or — the filer of a ticket staff merged
    in — by that ticket's id.  Without it (a city's backend), every outbox entry
    delivered as ``ticket_id``.
    """
    entries: list[OutboxEntry] = []
    if ticket is None:
        entries = outbox.for_ticket(ticket_id)
    else:
        for key in [ticket.idempotency_key, *(r.idempotency_key for r in ticket.co_reporters)]:
            entry = outbox.by_key(key) if key else None
            if entry is not None:
                entries.append(entry)
        for rep in ticket.co_reporters:
            if rep.idempotency_key is None and rep.source_ticket:
                try:
                    entries.append(outbox.get(rep.source_ticket))
                except UnknownReference:
                    pass
    out: dict[str, NewSurvey] = {}
    for entry in entries:
        if entry.service_request_id:
            new = _new_survey(entry, ticket_id)
            out.setdefault(new.ticket_id, new)
    return list(out.values())


class TicketEvents:
    """Turn ticket status changes into survey jobs (or cancellations)."""

    def __init__(self, scheduler: SurveyScheduler, outbox: Outbox, webhook_key: str = ""):
        self.scheduler = scheduler
        self.outbox = outbox
        self.webhook_key = webhook_key

    async def on_status(self, ticket_id: str, status: str, ticket: Ticket | None = None) -> str:
        """Handle one change; returns ``scheduled``, ``cancelled``, ``unknown`` or ``ignored``.

        ``ticket``: the embedded desk's ticket (its co-reporters get surveys too).
        """
        status = status.strip().lower()
        if status in RESOLVED:
            if ticket is not None and ticket.attributes.get("merged_into"):
                return "ignored"  # merged away: its residents are surveyed on the other ticket
            news = await asyncio.to_thread(surveys_for, self.outbox, ticket_id, ticket)
            if not news:
                log.info("ticket %s resolved but not filed by Jiesu: no survey", ticket_id)
                return "unknown"
            for new in news:
                await self.scheduler.schedule(new)
            return "scheduled"
        if status in REOPENED:
            done = await self.scheduler.cancel(ticket_id, f"ticket {status}")
            return "cancelled" if done else "ignored"
        return "ignored"

    async def desk_listener(self, ticket: Ticket) -> None:
        """``DeskApi.listeners`` callback of the embedded desk."""
        await self.on_status(ticket.service_request_id, ticket.status, ticket)

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST /api/ticket-events`` ``{"service_request_id": …, "status": …}``."""
        if not self.webhook_key:
            return json_error(404, "disabled", "JIESU_WEBHOOK_KEY is not set")
        body = await request.content.read(MAX_EVENT_BYTES + 1)
        if len(body) > MAX_EVENT_BYTES:
            return json_error(413, "too_large", f"body over {MAX_EVENT_BYTES} bytes")
        if not verify_webhook(self.webhook_key, body, request.headers):
            log.warning("ticket event with a wrong signature from %s", request.remote)
            return json_error(403, "forbidden", "bad signature or key")
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        srid = data.get("service_request_id") if isinstance(data, dict) else None
        status = (
            (data.get("detailed_status") or data.get("status")) if isinstance(data, dict) else None
        )
        if not isinstance(srid, str) or not srid or not isinstance(status, str):
            return json_error(400, "invalid_body", "service_request_id and status required")
        outcome = await self.on_status(srid, status)
        return web.json_response({"service_request_id": srid, "survey": outcome})


class ResolvedPoller:
    """Ask the backend about delivered complaints that have no survey yet."""

    def __init__(
        self,
        events: TicketEvents,
        store: SurveyStore,
        client: Open311Client,
        poll_s: float,
        window_s: float = 30 * 86_400,
        batch: int = 50,
    ):
        self.events = events
        self.store = store
        self.client = client
        self.poll_s = poll_s
        self.window_s = window_s
        self.batch = batch
        self._cursor = 0

    def _candidates(self, now: float) -> list[str]:
        with self.events.outbox.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox_table.c.service_request_id)
                .where(
                    outbox_table.c.status == DELIVERED,
                    outbox_table.c.service_request_id.is_not(None),
                    outbox_table.c.delivered_at >= now - self.window_s,
                )
                .order_by(outbox_table.c.delivered_at)
            ).all()
        ids = list(dict.fromkeys(str(r[0]) for r in rows))  # co-reports share their ticket
        known = self.store.known_ticket_ids(ids)
        todo = [i for i in ids if i.upper() not in known]
        # Rotate through the open tickets so a long backlog cannot starve newer ones.
        start = self._cursor % len(todo) if todo else 0
        picked = (todo[start:] + todo[:start])[: self.batch]
        self._cursor = start + len(picked)
        return picked

    async def poll_once(self) -> int:
        """One pass; returns how many surveys were scheduled."""
        scheduled = 0
        for srid in await asyncio.to_thread(self._candidates, time.time()):
            try:
                data = await self.client.get_request(srid)
            except TicketBackendError as exc:
                log.info("poll of %s failed: %s", srid, exc)
                continue
            status = str(data.get("detailed_status") or data.get("status") or "")
            if data.get("merged_into"):
                continue  # merged into another ticket: surveyed there
            if status in RESOLVED and await self.events.on_status(srid, status) == "scheduled":
                scheduled += 1
        return scheduled

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("survey poll failed")
            await asyncio.sleep(self.poll_s)
