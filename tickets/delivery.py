"""Deliver outbox entries to the ticket backend, with retries and backoff.

``deliver_entry`` is the single delivery step (used by the action server for
the first, immediate attempt and by the worker for retries);
:class:`DeliveryWorker` runs in the gateway and retries whatever is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tickets.errors import BackendRejected, BackendUnavailable
from tickets.open311_client import Open311Client
from tickets.outbox import DELIVERED, Outbox, OutboxEntry

__all__ = ["backoff_s", "deliver_entry", "DeliveryWorker"]

log = logging.getLogger("jiesu.delivery")


def backoff_s(attempts: int, base_s: float = 2.0, cap_s: float = 300.0) -> float:
    """Exponential backoff after ``attempts`` failed tries (1 → base, 2 → 2·base …)."""
    return float(min(cap_s, base_s * (2 ** max(0, attempts - 1))))


async def deliver_entry(
    outbox: Outbox, client: Open311Client, entry: OutboxEntry, max_backoff_s: float = 300.0
) -> OutboxEntry:
    """Try one claimed entry once; record the outcome and return the fresh entry."""
    try:
        answer = await client.create_request(entry.form, entry.idempotency_key)
    except BackendRejected as exc:
        log.error("ticket %s rejected by backend: %s", entry.reference, exc)
        await asyncio.to_thread(outbox.mark_failed, entry, str(exc), None, True)
    except BackendUnavailable as exc:
        delay = backoff_s(entry.attempts + 1, cap_s=max_backoff_s)
        log.warning("ticket %s not delivered (%s); retry in %.0fs", entry.reference, exc, delay)
        await asyncio.to_thread(outbox.mark_failed, entry, str(exc), delay)
    else:
        srid = str(answer["service_request_id"])
        await asyncio.to_thread(outbox.mark_delivered, entry, srid)
        log.info("ticket %s delivered as %s", entry.reference, srid)
    return await asyncio.to_thread(outbox.get, entry.reference)


class DeliveryWorker:
    """Background retry loop; ``kick()`` makes it look at the outbox at once."""

    def __init__(
        self,
        outbox: Outbox,
        client: Open311Client,
        poll_s: float = 2.0,
        max_backoff_s: float = 300.0,
    ):
        self.outbox = outbox
        self.client = client
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self.delivered = 0

    def kick(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver every due entry once; returns how many were delivered."""
        done = 0
        for entry in await asyncio.to_thread(self.outbox.claim_due):
            fresh = await deliver_entry(self.outbox, self.client, entry, self.max_backoff_s)
            if fresh.status == DELIVERED:
                done += 1
        self.delivered += done
        return done

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("delivery round failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
