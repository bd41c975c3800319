"""Errors raised while talking to a ticket backend."""

from __future__ import annotations

__all__ = ["TicketBackendError", "BackendUnavailable", "BackendRejected", "UnknownReference"]


class TicketBackendError(Exception):
    """Base class for ticket backend failures."""


class BackendUnavailable(TicketBackendError):
    """Network error, timeout or 5xx: worth retrying later."""


class BackendRejected(TicketBackendError):
    """The backend refused the request (4xx): retrying the same body will not help."""

    def __init__(self, status: int, body: str):
        super().__init__(f"ticket backend rejected the request: HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class UnknownReference(LookupError):
    """No outbox entry or ticket with that reference."""
