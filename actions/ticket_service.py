"""The action server's link to the ticket backend: outbox first, then Open311.

Built lazily on first use inside the action server's event loop (not at
import), once per process.  ``submit`` persists before any network call, so
a backend outage or a crash after confirmation loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from actions.action_server import on_action_server_start, on_action_server_stop
from actions.complaint import Complaint, address_attributes, to_open311_form
from hotline.config import Config, load_config
from nlu.pair_model import default_matcher
from nlu.similarity import CharTfidfEmbedder
from tickets.db import in_thread_retrying
from tickets.delivery import deliver_entry
from tickets.duplicates import Match, Report, find_duplicate, place_of, report_from_open311
from tickets.errors import TicketBackendError, UnknownReference
from tickets.open311_client import Open311Client, Open311Connection
from tickets.outbox import DELIVERED, Outbox, OutboxEntry
from tickets.privacy import mask_names, mask_personal_data

__all__ = [
    "deadline_hours",
    "DuplicateHit",
    "TicketService",
    "SubmitResult",
    "TicketStatus",
    "close_ticket_service",
    "get_ticket_service",
]

log = logging.getLogger("jiesu.actions.tickets")
#: The look-up of open tickets must not hold the resident up: past this, file as new.
DUPLICATE_LOOKUP_TIMEOUT_S = 3.0
#: Open tickets of one category read per look-up (newest first).
DUPLICATE_PAGE = 500
STATUS_WORDS = {
    "open": "已受理，正在派单",
    "in_progress": "承办单位正在处理",
    "resolved": "已办结",
    "closed": "已办结",
    "reopened": "已重新派单处理",
}


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of a submission as the resident should hear it."""

    ticket_id: str
    delivered: bool
    deadline: datetime


@dataclass(frozen=True)
class DuplicateHit:
    """An open ticket the new complaint may duplicate; ``summary`` without personal data."""

    ticket_id: str
    summary: str
    score: float


@dataclass(frozen=True)
class TicketStatus:
    ticket_id: str
    status: str
    summary: str
    updated: str | None
    notes: str | None
    pending_delivery: bool = False


class TicketService:
    """Outbox + Open311 client for one action-server process."""

    def __init__(self, config: Config):
        self.config = config
        self.outbox = Outbox(config.effective_outbox_db_url, tz=config.tz)
        self._open311 = Open311Connection.for_config(config)

    def client(self) -> Open311Client:
        return self._open311.client()

    async def close(self) -> None:
        """Close the HTTP session (the action server is stopping)."""
        await self._open311.close()

    def deadline_for(self, urgency: str, now: datetime | None = None) -> datetime:
        hours = (
            self.config.deadline_urgent_h if urgency == "urgent" else self.config.deadline_normal_h
        )
        return (now or datetime.now(self.config.tz)) + timedelta(hours=hours)

    async def find_duplicate(self, complaint: Complaint) -> DuplicateHit | None:
        """An open ticket that reports the same problem at the same place, or None.

        Asks the backend for open tickets of the complaint's service code (Open311
        ``GET requests.json``, staff view for the address parts); any failure or a slow
        answer means "none" — the complaint is then filed as a new ticket.
        """
        if not self.config.duplicate_check:
            return None
        form = to_open311_form(complaint)
        try:
            found = await asyncio.wait_for(
                self.client().list_requests(
                    status="open", service_code=form["service_code"], limit=DUPLICATE_PAGE
                ),
                DUPLICATE_LOOKUP_TIMEOUT_S,
            )
        except (TicketBackendError, asyncio.TimeoutError) as exc:
            log.info("duplicate look-up skipped: %s", exc)
            return None
        report = Report(
            service_code=form["service_code"],
            description=complaint.description,
            place=place_of(
                complaint.location,
                complaint.lat,
                complaint.long,
                address_attributes(complaint.location),
            ),
            address=complaint.location,
        )
        candidates = [report_from_open311(r) for r in found]
        match: Match | None = await asyncio.to_thread(find_duplicate, report, candidates)
        if match is None:
            return None
        raw = next(r for r in found if str(r.get("service_request_id")) == match.ticket_id)
        name = f"{raw.get('last_name') or ''}{raw.get('first_name') or ''}"
        summary = mask_names(mask_personal_data(match.ticket.description), name)
        return DuplicateHit(match.ticket_id, summary, match.score)

    async def submit(
        self, complaint: Complaint, channel_user: str, duplicate_of: str | None = None
    ) -> SubmitResult:
        """Persist then try to deliver once; the outbox worker retries on failure.

        ``duplicate_of``: the resident said this is the problem of that open ticket; the
        delivery (same outbox, same retries) joins them to it as a co-reporter.
        """
        form = to_open311_form(complaint)
        if duplicate_of:
            form["attribute[duplicate_of]"] = duplicate_of
        key = f"{complaint.sender_id}:{complaint.complaint_id}" if complaint.complaint_id else None
        entry = await in_thread_retrying(  # keyed: a retry returns the same entry
            self.outbox.add,
            form,
            complaint.sender_id,
            complaint.channel,
            complaint.description[:200],
            key,
            channel_user,
            # The gateway's retry worker waits while we make the first attempt here.
            2 * self.config.delivery_timeout_s,
        )
        if entry.status != DELIVERED:
            try:
                claimed = await in_thread_retrying(self.outbox.claim, entry.reference)
                if claimed is not None:
                    entry = await deliver_entry(
                        self.outbox, self.client(), claimed, self.config.outbox_max_backoff_s
                    )
            except (sa.exc.OperationalError, sa.exc.InterfaceError):
                # Persisted already: the gateway's delivery worker files it when the
                # database is back (its idempotency key keeps it to one ticket).
                log.warning("first delivery of %s deferred: database unavailable", entry.reference)
        return SubmitResult(
            ticket_id=entry.ticket_id,
            delivered=entry.status == DELIVERED,
            deadline=self.deadline_for(complaint.urgency),
        )

    async def status(self, reference: str) -> TicketStatus | None:
        """Status of one ticket by backend id or our outbox reference."""
        entry: OutboxEntry | None
        try:
            entry = await asyncio.to_thread(self.outbox.get, reference)
        except UnknownReference:
            entry = None
        if entry is not None and entry.status != DELIVERED:
            return TicketStatus(
                entry.reference, "pending", entry.summary, None, None, pending_delivery=True
            )
        srid = entry.service_request_id if entry and entry.service_request_id else reference
        try:
            data = await self.client().get_request(srid)
        except TicketBackendError as exc:
            log.info("status lookup for %s failed: %s", srid, exc)
            if entry is not None:
                return TicketStatus(srid, "unknown", entry.summary, None, None)
            return None
        detailed = str(data.get("detailed_status") or data.get("status") or "open")
        return TicketStatus(
            ticket_id=srid,
            status=detailed,
            summary=str(data.get("description") or (entry.summary if entry else ""))[:60],
            updated=data.get("updated_datetime"),
            notes=data.get("status_notes"),
        )

    async def recent_for(self, channel_user: str, limit: int = 3) -> list[OutboxEntry]:
        return await asyncio.to_thread(self.outbox.for_channel_user, channel_user, limit)


_service: TicketService | None = None


async def close_ticket_service() -> None:
    """Close the process's TicketService session, if one was opened."""
    if _service is not None:
        await _service.close()


on_action_server_stop(close_ticket_service)


def warm_duplicate_matcher() -> None:
    """Before the first read-back: TF-IDF background (0.19 s), the problem keys, USE (~4 s)."""
    CharTfidfEmbedder().embed(["井盖丢了", "路灯不亮"])
    matcher = default_matcher()
    matcher.judge("CX04", "井盖丢了", ["下水井没有盖子"])
    matcher.embedder.embed(["楼下有人打架"])  # loads the encoder the words are judged by


on_action_server_start(warm_duplicate_matcher)


def get_ticket_service() -> TicketService:
    """The process's TicketService, built on first use."""
    global _service
    if _service is None:
        _service = TicketService(load_config())
    return _service


def deadline_hours() -> tuple[int, int]:
    """The promised response times (normal, urgent) in hours, for the bot's answers."""
    cfg = _service.config if _service is not None else load_config()
    return cfg.deadline_normal_h, cfg.deadline_urgent_h
