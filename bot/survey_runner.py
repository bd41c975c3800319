"""The survey scheduler: turns due jobs into delivered surveys, with retries.

One :class:`SurveyScheduler` per gateway.  Each round claims due jobs (a
lease in the database, so several gateways never deliver one job twice),
checks the calling hours, and hands each job to ``deliver`` (the channel
relays).  A failed delivery is retried ``attempts`` times, spaced out inside
the calling window; a busy conversation is put back without using a try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.survey_errors import SurveyBusy, SurveyDeferred
from bot.survey_hours import retry_due
from bot.survey_settings import SurveySettings
from bot.survey_store import NewSurvey, SurveyJob, SurveyStore

__all__ = ["Deliver", "RunReport", "SurveyScheduler"]

log = logging.getLogger("jiesu.survey")
Deliver = Callable[[SurveyJob], Awaitable[None]]
BUSY_RETRY_S = 600.0


@dataclass
class RunReport:
    """What one round did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "deferred": self.deferred, "failed": self.failed}


class SurveyScheduler:
    """Schedule surveys for resolved tickets and deliver them when due."""

    def __init__(
        self,
        store: SurveyStore,
        settings: SurveySettings,
        deliver: Deliver,
        clock: Callable[[], float] = time.time,
        lease_s: float = 120.0,
        batch: int = 20,
    ):
        self.store = store
        self.settings = settings
        self.hours = settings.hours
        self.deliver = deliver
        self.clock = clock
        self.lease_s = lease_s
        self.batch = batch
        self._wake = asyncio.Event()
        self._round = asyncio.Lock()

    def kick(self) -> None:
        """Look for due jobs now instead of at the next tick."""
        self._wake.set()

    async def schedule(self, new: NewSurvey) -> SurveyJob:
        """One job per ticket, due after the delay, moved into the calling window."""
        now = self.clock()
        due = self.hours.next_open(now + self.settings.delay_s)
        job = await asyncio.to_thread(self.store.schedule, new, due, now)
        log.info("survey of %s: %s, due %.0fs from now", job.ticket_id, job.status, due - now)
        self.kick()
        return job

    async def cancel(self, ticket_id: str, reason: str) -> bool:
        done = await asyncio.to_thread(self.store.cancel, ticket_id, reason)
        if done:
            log.info("survey of %s cancelled: %s", ticket_id, reason)
        return done

    async def run_due(self) -> RunReport:
        """Deliver every job that is due now (one round); returns counts."""
        report = RunReport()
        async with self._round:
            while True:
                now = self.clock()
                jobs = await asyncio.to_thread(self.store.claim_due, now, self.batch, self.lease_s)
                if not jobs:
                    return report
                for job in jobs:
                    await self._run_one(job, report)

    async def _run_one(self, job: SurveyJob, report: RunReport) -> None:
        now = self.clock()
        if not self.hours.is_open(now):
            report.deferred += 1
            await asyncio.to_thread(
                self.store.mark_retry,
                job,
                "outside calling hours",
                self.hours.next_open(now),
                False,
            )
            return
        try:
            await self.deliver(job)
        except SurveyBusy as exc:
            report.deferred += 1
            due = self.hours.next_open(now + (exc.retry_in_s or BUSY_RETRY_S))
            log.info("survey of %s put off: %s", job.ticket_id, exc.reason)
            await asyncio.to_thread(self.store.mark_retry, job, exc.reason, due, False)
        except Exception as exc:  # SurveyDeferred or a bug in a relay: both retried
            reason = exc.reason if isinstance(exc, SurveyDeferred) else repr(exc)
            if not isinstance(exc, SurveyDeferred):
                log.error("survey relay failed for %s", job.ticket_id, exc_info=exc)
            if job.attempts + 1 >= self.settings.attempts:
                report.failed += 1
                log.warning(
                    "survey of %s failed after %d tries: %s",
                    job.ticket_id,
                    job.attempts + 1,
                    reason,
                )
                await asyncio.to_thread(self.store.mark_failed, job, reason)
                return
            report.deferred += 1
            retry_in = exc.retry_in_s if isinstance(exc, SurveyDeferred) else None
            due = (
                self.hours.next_open(now + retry_in)
                if retry_in
                else retry_due(self.hours, now, job.attempts + 1, self.settings.retry_s)
            )
            log.warning(
                "survey of %s not delivered (%s); retry at %.0f", job.ticket_id, reason, due
            )
            await asyncio.to_thread(self.store.mark_retry, job, reason, due, True)
        else:
            report.sent += 1
            await asyncio.to_thread(self.store.mark_sent, job, self.clock())
            log.info("survey of %s delivered via %s", job.ticket_id, job.channel)

    async def run(self) -> None:
        """Background loop: a round every ``tick_s`` seconds or when kicked."""
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("survey round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.tick_s)
