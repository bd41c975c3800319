"""The action server's link to the ticket backend: outbox first, then Open311.

Built lazily on first use inside the action server's event loop (not at
import), once per process.  ``submit`` persists before any network call, so
a backend outage or a crash after confirmation loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import aiohttp

from actions.complaint import Complaint, to_open311_form
from bot.config import Config, load_config
from tickets.delivery import deliver_entry
from tickets.errors import TicketBackendError, UnknownReference
from tickets.open311_client import Open311Client
from tickets.outbox import DELIVERED, Outbox, OutboxEntry

__all__ = [
    "TicketService",
    "SubmitResult",
    "TicketStatus",
    "close_ticket_service",
    "get_ticket_service",
]

log = logging.getLogger("jiesu.actions.tickets")
HOTLINE_TZ = timezone(timedelta(hours=8))
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
        self.outbox = Outbox(config.effective_outbox_db_url)
        self._session: aiohttp.ClientSession | None = None
        self._client: Open311Client | None = None

    def client(self) -> Open311Client:
        if self._client is None or self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._client = Open311Client(
                self.config.effective_open311_url,
                self._session,
                self.config.effective_open311_api_key,
                self.config.open311_jurisdiction,
                self.config.delivery_timeout_s,
            )
        return self._client

    async def close(self) -> None:
        """Close the HTTP session (the action server is stopping)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = self._client = None

    def deadline_for(self, urgency: str, now: datetime | None = None) -> datetime:
        hours = (
            self.config.deadline_urgent_h if urgency == "urgent" else self.config.deadline_normal_h
        )
        return (now or datetime.now(HOTLINE_TZ)) + timedelta(hours=hours)

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


def _close_on_action_server_stop() -> None:
    """Register :func:`close_ticket_service` with the rasa_sdk (Sanic) action server.

    The Sanic app exists before the actions package is imported; outside an
    action server (tests, the gateway) there is nothing to hook.
    """
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return

    async def _listener(*_: object) -> None:
        await close_ticket_service()

    app.register_listener(_listener, "after_server_stop")


_close_on_action_server_stop()


def get_ticket_service() -> TicketService:
    """The process's TicketService, built on first use."""
    global _service
    if _service is None:
        _service = TicketService(load_config())
    return _service
