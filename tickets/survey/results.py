"""The action server's side of the survey: read the job, store answers, post them back.

Answers go to the survey store first (so stats never depend on the ticket
backend) with their post-back queued, then onto the ticket through the desk's
status extension (:mod:`tickets.survey.postback`): attributes ``survey_contacted``,
``survey_resolved``, ``survey_satisfaction``, ``survey_reason``; an unsolved or
unsatisfied answer reopens the ticket with the reason (which cancels any later
survey of it), a happy one closes it.  A failed post-back is retried by the
gateways' schedulers.  Built lazily in the action server's loop, once per
process; its HTTP session is closed when the action server stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from hotline.config import Config, load_config
from tickets.open311_client import Open311Client, Open311Connection
from tickets.survey.postback import PostBack, ticket_attributes
from tickets.survey.settings import SurveySettings
from tickets.survey.store import CANCELLED, SurveyAnswers, SurveyJob, SurveyStore

__all__ = [
    "SurveyBackend",
    "close_survey_backend",
    "get_survey_backend",
    "ticket_attributes",
]

log = logging.getLogger("jiesu.survey")


class SurveyBackend:
    """Survey store + Open311 client for one action-server process."""

    def __init__(
        self,
        config: Config,
        settings: SurveySettings,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.settings = settings
        self.store = SurveyStore(config.effective_outbox_db_url)
        self.clock = clock
        self._open311 = Open311Connection.for_config(config)
        self.postback = PostBack(self.store, self.client, settings, clock)

    def client(self) -> Open311Client:
        return self._open311.client()

    async def close(self) -> None:
        """Close the HTTP session (the action server is stopping)."""
        await self._open311.close()
        await asyncio.to_thread(self.store.close)

    async def job(self, ticket_id: str) -> SurveyJob | None:
        return await asyncio.to_thread(self.store.find, ticket_id)

    async def submit(self, ticket_id: str, answers: SurveyAnswers) -> SurveyJob | None:
        """Record the answers, then post them onto the ticket; reopen when unhappy.

        A failed post-back stays queued in the store; the gateways retry it.
        """
        job = await asyncio.to_thread(self.store.find, ticket_id)
        if job is None:
            log.warning("survey answers for unknown ticket %s dropped", ticket_id)
            return None
        if job.status == CANCELLED:
            # Reopened while the survey was out: the answers would close a live ticket.
            log.info("survey answers for %s ignored: the ticket was reopened", ticket_id)
            return job
        job = await asyncio.to_thread(self.store.record_answers, ticket_id, answers, self.clock())
        await self.postback.post_now(job.ticket_id)
        return job

    async def later(self, ticket_id: str) -> SurveyJob | None:
        """ "现在不方便": try again after the retry spacing, inside calling hours."""
        if await asyncio.to_thread(self.store.find, ticket_id) is None:
            return None
        due = self.settings.hours.next_open(self.clock() + self.settings.retry_s)
        return await asyncio.to_thread(
            self.store.reschedule, ticket_id, due, self.settings.attempts
        )

    async def opt_out(self, ticket_id: str) -> int:
        """ "别再打了": no more callbacks for the resident who filed ``ticket_id``."""
        job = await asyncio.to_thread(self.store.find, ticket_id)
        if job is None:
            return 0
        return await asyncio.to_thread(self.store.opt_out, job.channel_user, self.clock())


_backend: SurveyBackend | None = None


def get_survey_backend() -> SurveyBackend:
    """The process's SurveyBackend, built on first use."""
    global _backend
    if _backend is None:
        _backend = SurveyBackend(load_config(), SurveySettings.from_env(os.environ))
    return _backend


async def close_survey_backend() -> None:
    """Release the process's SurveyBackend (HTTP session, database pool), if built."""
    global _backend
    backend, _backend = _backend, None
    if backend is not None:
        await backend.close()
