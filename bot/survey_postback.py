"""Post a survey's answers onto the ticket — durably, and never twice.

The answers are already in ``survey_jobs`` (``postback = 'pending'``) before
anything is sent, so a backend outage loses nothing: whoever holds the
post-back lease (the action server right after the answers, later any
gateway's scheduler) sends them through the desk status extension and marks
the row ``done``.  A failure is retried with a doubling delay.

"Never duplicate": the lease keeps two processes from posting the same row
at once, and a *retry* first reads the ticket — if it already carries these
answers (the earlier POST went through but its reply or the ``done`` mark
was lost), the row is marked done without posting again.  A refusal (HTTP 4xx) is final:
the row becomes ``rejected`` with the error (the answers still count in the stats).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.survey_settings import SurveySettings
from bot.survey_store import SurveyAnswers, SurveyJob, SurveyStore
from tickets.errors import BackendRejected, TicketBackendError
from tickets.open311_client import Open311Client

__all__ = ["PostBack", "survey_note", "target_status", "ticket_attributes"]

log = logging.getLogger("jiesu.survey")
_WORDS = {"yes": "是", "no": "否"}


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
        """Post every post-back whose retry time has come; how many went through."""
        jobs = await asyncio.to_thread(
            self.store.claim_postbacks_due, self.clock(), limit, self.lease_s
        )
        done = 0
        for job in jobs:
            done += bool(await self.post(job))
        return done

    async def post(self, job: SurveyJob) -> bool:
        """Post one claimed job; marks it done, or schedules the next try."""
        client = self.client()
        answers = job.answers
        status = target_status(answers)
        try:
            if job.postback_attempts > 0:
                ticket = await client.get_request(job.ticket_id, staff=True)
                if _carries(ticket, answers):
                    log.info("survey of %s was already on the ticket", job.ticket_id)
                    await asyncio.to_thread(self.store.mark_posted, job)
                    return True
            await client.set_status(
                job.ticket_id,
                status,
                survey_note(answers),
                ticket_attributes(answers),
                actor="jiesu-survey",
            )
        except BackendRejected as exc:
            log.error("survey of %s refused by the ticket backend: %s", job.ticket_id, exc)
            await asyncio.to_thread(self.store.mark_postback_rejected, job, str(exc))
            return False
        except TicketBackendError as exc:
            delay = self.settings.postback_backoff(job.postback_attempts + 1)
            log.warning(
                "could not post survey of %s (try %d): %s; again in %.0fs",
                job.ticket_id,
                job.postback_attempts + 1,
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
