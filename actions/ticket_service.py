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

from actions.action_server import on_action_server_stop
from actions.complaint import Complaint, to_open311_form
from hotline.config import Config, load_config
from tickets.delivery import deliver_entry
from tickets.errors import TicketBackendError, UnknownReference
from tickets.open311_client import Open311Client, Open311Connection
from tickets.outbox import DELIVERED, Outbox, OutboxEntry

__all__ = [
    "deadline_hours",
    "TicketService",
    "SubmitResult",
    "TicketStatus",
    "close_ticket_service",
    "get_ticket_service",
]

log = logging.getLogger("jiesu.actions.tickets")
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

    async def submit(self, complaint: Complaint, channel_user: str) -> SubmitResult:
        """Persist then try to deliver once; the outbox worker retries on failure."""
        form = to_open311_form(complaint)
        key = f"{complaint.sender_id}:{complaint.complaint_id}" if complaint.complaint_id else None
        entry = await asyncio.to_thread(
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
            claimed = await asyncio.to_thread(self.outbox.claim, entry.reference)
            if claimed is not None:
                entry = await deliver_entry(
                    self.outbox, self.client(), claimed, self.config.outbox_max_backoff_s
                )
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
