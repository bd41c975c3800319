"""Post a survey's answers onto the ticket — durably, and never twice.

The answers are already in ``survey_jobs`` (``postback = 'pending'``) before
anything is sent, so a backend outage loses nothing: whoever holds the
post-back lease (the action server right after the answers, later any
gateway's scheduler) sends them through the desk status extension and marks
the row ``done``.  A failure is retried with a doubling delay.

"Never duplicate": the lease keeps two processes from posting the same row
at once; each claim counts an attempt (before anything is sent, so a process
killed between the POST and the ``done`` mark leaves a trace), and every try
first reads the ticket — if it already carries these answers (an earlier POST
went through but its reply or the ``done`` mark was lost), the row is marked
done without posting again.  The same read shows whether staff reopened the
ticket meanwhile: then the answers go on as attributes and a note, and the
status is left alone (a late "满意" must not close a reopened ticket).

A refusal (HTTP 4xx) is final: the row becomes ``rejected`` with the error.
After ``JIESU_SURVEY_POSTBACK_ATTEMPTS`` tries it becomes ``gave_up``.  Either
way the answers still count in the stats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from tickets.errors import BackendRejected, TicketBackendError
from tickets.open311_client import Open311Client
from tickets.survey.settings import SurveySettings
from tickets.survey.store import SurveyAnswers, SurveyJob, SurveyStore

__all__ = ["PostBack", "status_to_post", "survey_note", "target_status", "ticket_attributes"]

log = logging.getLogger("jiesu.survey")
_WORDS = {"yes": "是", "no": "否"}
# Ticket statuses a survey's answers may still change (as in bot.survey.ticket_events.RESOLVED).
_RESOLVED = frozenset({"resolved", "closed"})
_KEPT_OPEN = "（工单已重新办理，回访未改状态）"


def ticket_attributes(answers: SurveyAnswers) -> dict[str, str]:
    """The Open311 ``attribute[...]`` fields that carry the answers."""
    return {
        "survey_contacted": answers.contacted or "",
        "survey_resolved": answers.resolved or "",
        "survey_satisfaction": answers.satisfaction or "",
        "survey_reason": answers.reason or "",
    }


def target_status(answers: SurveyAnswers) -> str:
    """Unsolved or unsatisfied goes back to the department; otherwise the ticket is closed."""
    return "reopened" if answers.unhappy else "closed"


def survey_note(answers: SurveyAnswers) -> str:
    """The status note staff read on the ticket."""
    head = (
        f"回访：联系{_WORDS.get(answers.contacted or '', '?')}，"
        f"解决{_WORDS.get(answers.resolved or '', '?')}，{answers.satisfaction or '?'}"
    )
    return f"{head}。原因：{answers.reason}" if answers.reason else head


def _carries(ticket: dict[str, Any], answers: SurveyAnswers) -> bool:
    attrs = ticket.get("attributes") or {}
    if not isinstance(attrs, dict):
        return False
    wanted = ticket_attributes(answers)
    return all(str(attrs.get(k, "")) == v for k, v in wanted.items())


def status_to_post(ticket: dict[str, Any], answers: SurveyAnswers) -> str | None:
    """The status to set, or None when the ticket is no longer resolved.

    Staff may reopen a ticket after the survey went out (or was given up); a
    happy answer arriving then must not close it, nor an unhappy one reopen it
    a second time — the answers go on as attributes and a note only.  A ticket
    that says nothing about its status is treated as still resolved.
    """
    current = str(ticket.get("detailed_status") or ticket.get("status") or "").strip().lower()
    if current and current not in _RESOLVED:
        return None
    return target_status(answers)


class PostBack:
    """Sends claimed post-backs through one Open311 client."""

    def __init__(
        self,
        store: SurveyStore,
        client: Callable[[], Open311Client],
        settings: SurveySettings,
        clock: Callable[[], float],
        lease_s: float = 60.0,
    ):
        self.store = store
        self.client = client
        self.settings = settings
        self.clock = clock
        self.lease_s = lease_s

    async def post_now(self, ticket_id: str) -> bool | None:
        """Try the post-back of ``ticket_id`` now (right after the answers).

        Returns:
            True when posted, False when it failed (a retry is queued), None when
            there was nothing to post or another process holds it.
        """
        job = await asyncio.to_thread(
            self.store.claim_postback, ticket_id, self.clock(), self.lease_s
        )
        return None if job is None else await self.post(job)

    async def retry_due(self, limit: int = 20) -> int:
        """Post up to ``limit`` post-backs whose retry time has come; how many went through.

        Each is claimed right before it is posted, so its lease covers its own
        requests only (see :meth:`SurveyStore.claim_next_postback`).
        """
        done = 0
        for _ in range(limit):
            job = await asyncio.to_thread(
                self.store.claim_next_postback, self.clock(), self.lease_s
            )
            if job is None:
                break
            done += bool(await self.post(job))
        return done

    async def post(self, job: SurveyJob) -> bool:
        """Post one claimed job; marks it done, or schedules the next try.

        Never raises (but on cancellation): an unexpected error — a bug, the
        database failing in a ``mark_*`` — is logged and the row stays pending, so
        one bad row cannot stop the other post-backs or the deliveries after them.
        """
        try:
            return await self._post(job)
        except Exception as exc:
            log.exception("post-back of survey %s failed unexpectedly", job.ticket_id)
            await self._settle(self.store.mark_postback_retry, job, repr(exc), self._next_try(job))
            return False

    def _next_try(self, job: SurveyJob) -> float:
        return self.clock() + self.settings.postback_backoff(job.postback_attempts)

    async def _settle(self, mark: Callable[..., bool], job: SurveyJob, *args: Any) -> None:
        """Record the outcome; if even that fails, the lease runs out and the row is retried."""
        try:
            await asyncio.to_thread(mark, job, *args)
        except Exception:
            log.exception("could not record the post-back of survey %s", job.ticket_id)

    async def _post(self, job: SurveyJob) -> bool:
        limit = self.settings.postback_attempts
        if job.postback_attempts > limit:
            # Its last allowed tries never got to record an outcome (killed, cancelled).
            log.error("survey of %s not posted after %d tries; given up", job.ticket_id, limit)
            await asyncio.to_thread(
                self.store.mark_postback_gave_up, job, f"no outcome after {limit} tries"
            )
            return False
        client = self.client()
        answers = job.answers
        try:
            # Read first: an earlier try (counted at its claim) may have posted and died
            # before marking it done, and the ticket may have been reopened since.
            ticket = await client.get_request(job.backend_ticket, staff=True)
            if _carries(ticket, answers):
                log.info("survey of %s was already on the ticket", job.ticket_id)
                await asyncio.to_thread(self.store.mark_posted, job)
                return True
            status = status_to_post(ticket, answers)
            note = survey_note(answers)
            if status is None:
                status = str(ticket.get("detailed_status") or ticket.get("status"))
                note += _KEPT_OPEN
                log.info("ticket %s reopened meanwhile: survey posted as a note", job.ticket_id)
            await client.set_status(
                job.backend_ticket, status, note, ticket_attributes(answers), actor="jiesu-survey"
            )
        except BackendRejected as exc:
            log.error("survey of %s refused by the ticket backend: %s", job.ticket_id, exc)
            await asyncio.to_thread(self.store.mark_postback_rejected, job, str(exc))
            return False
        except TicketBackendError as exc:
            if job.postback_attempts >= limit:
                log.error("survey of %s not posted after %d tries: %s", job.ticket_id, limit, exc)
                await asyncio.to_thread(self.store.mark_postback_gave_up, job, str(exc))
                return False
            delay = self.settings.postback_backoff(job.postback_attempts)
            log.warning(
                "could not post survey of %s (try %d): %s; again in %.0fs",
                job.ticket_id,
                job.postback_attempts,
                exc,
                delay,
            )
            await asyncio.to_thread(
                self.store.mark_postback_retry, job, str(exc), self.clock() + delay
            )
            return False
        await asyncio.to_thread(self.store.mark_posted, job)
        log.info("survey of %s posted; ticket %s", job.ticket_id, status)
        return True
