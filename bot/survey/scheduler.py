"""The survey scheduler: turns due jobs into delivered surveys, with retries.

One :class:`SurveyScheduler` per gateway.  Each round claims due jobs one at
a time, right before delivering each (a lease in the database, so several
gateways never deliver one job twice), checks the calling hours, and hands
each job to ``deliver`` (the channel relays).  A failed delivery is retried ``attempts`` times, spaced out inside
the calling window; a busy conversation is put back without using a try.

Each round also sweeps surveys that went out but were never answered within
``answer_timeout_s`` (each such delivery used an attempt: sent again while
attempts remain, else ``unanswered``), and retries post-backs of answers the
ticket backend did not take (:class:`tickets.survey.postback.PostBack`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.survey.errors import SurveyBusy, SurveyDeferred
from tickets.survey.hours import retry_due
from tickets.survey.postback import PostBack
from tickets.survey.settings import SurveySettings
from tickets.survey.store import NewSurvey, SurveyJob, SurveyStore

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
    # Surveys not answered in time: put back for another try / given up.
    resend: int = 0
    unanswered: int = 0
    # Post-backs of answers that went through on a retry.
    posted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "resend": self.resend,
            "unanswered": self.unanswered,
            "posted": self.posted,
        }


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
        postback: PostBack | None = None,
        round_cap: int = 1000,
    ):
        self.store = store
        self.postback = postback
        self.settings = settings
        self.hours = settings.hours
        self.deliver = deliver
        self.clock = clock
        self.lease_s = lease_s
        self.batch = batch
        # Deliveries per round at most: a job that is due again at once (a relay
        # asking for no delay, a clock that does not move) cannot spin a round forever.
        self.round_cap = round_cap
        self._wake = asyncio.Event()
        self._round = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

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
        """Deliver every job that is due now (one round); returns counts.

        Jobs are claimed one at a time, right before delivery: a lease taken for a
        whole batch would lapse while the first jobs ring or wait for Rasa, and
        another gateway would deliver the rest a second time.
        """
        report = RunReport()
        async with self._round:
            await self._expire_unanswered(report)
            await self._retry_postbacks(report)
            for _ in range(self.round_cap):
                if self._stopping:
                    break
                job = await asyncio.to_thread(self.store.claim_next, self.clock(), self.lease_s)
                if job is None:
                    break
                try:
                    await self._run_one(job, report)
                except Exception:
                    # e.g. the database failing in mark_sent: the lease runs out and the
                    # job is due again; the other jobs still go out.
                    log.exception("survey of %s: round step failed", job.ticket_id)
        return report

    async def _retry_postbacks(self, report: RunReport) -> None:
        """Retry due post-backs; whatever goes wrong there, the deliveries still run."""
        if self.postback is None:
            return
        try:
            report.posted += await self.postback.retry_due(self.batch)
        except Exception:
            log.exception("survey post-back retries failed; deliveries go on")

    async def _expire_unanswered(self, report: RunReport) -> None:
        timeout = self.settings.answer_timeout_s
        if timeout <= 0:
            return
        now = self.clock()

        def next_due(attempts: int) -> float:
            return retry_due(self.hours, now, attempts, self.settings.retry_s)

        again, given_up = await asyncio.to_thread(
            self.store.expire_unanswered, now - timeout, self.settings.attempts, next_due
        )
        report.resend += len(again)
        report.unanswered += len(given_up)
        for ticket_id in again:
            log.info("survey of %s not answered in %.0fs; will ask again", ticket_id, timeout)
        for ticket_id in given_up:
            log.warning("survey of %s never answered; given up", ticket_id)

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

    def start(self) -> None:
        """Run :meth:`run` in the background until :meth:`stop`."""
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="survey-scheduler")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Finish the delivery in hand (bounded by ``grace_s``), claim no more, stop.

        Cancelling in the middle of a delivery would leave its job claimed until the
        lease runs out (the survey may or may not have gone out), so the current job
        is allowed to finish.  Jobs are claimed one at a time, so no other job is
        held: the next gateway can take them at once.
        """
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_s)
        except asyncio.TimeoutError:
            log.warning("survey delivery still running after %.0fs; cancelled", grace_s)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Background loop: a round every ``tick_s`` seconds or when kicked."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("survey round failed")
            if self._stopping:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.tick_s)
