"""Ticket plumbing shared by the action server and the gateway."""

from tickets.delivery import DeliveryWorker, backoff_s, deliver_entry
from tickets.errors import BackendRejected, BackendUnavailable, TicketBackendError, UnknownReference
from tickets.open311_client import Open311Client
from tickets.outbox import Outbox, OutboxEntry

__all__ = [
    "BackendRejected",
    "BackendUnavailable",
    "DeliveryWorker",
    "Open311Client",
    "Outbox",
    "OutboxEntry",
    "TicketBackendError",
    "UnknownReference",
    "backoff_s",
    "deliver_entry",
]
