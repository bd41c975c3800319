"""The action server's side of the survey: read the job, store answers, post them back.

Answers go to the survey store first (so stats never depend on the ticket
backend), then onto the ticket through the desk's status extension:
attributes ``survey_contacted``, ``survey_resolved``, ``survey_satisfaction``,
``survey_reason``; an unsolved or unsatisfied answer reopens the ticket
with the reason (which cancels any later survey of it), a happy one closes it.
Built lazily in the action server's loop, once per process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

import aiohttp

from bot.config import Config, load_config
from bot.survey_settings import SurveySettings
from bot.survey_store import CANCELLED, SurveyAnswers, SurveyJob, SurveyStore
from tickets.errors import TicketBackendError
from tickets.open311_client import Open311Client

__all__ = ["SurveyBackend", "get_survey_backend", "ticket_attributes"]

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


def _note(answers: SurveyAnswers) -> str:
    head = (
        f"回访：联系{_WORDS.get(answers.contacted or '', '?')}，"
        f"解决{_WORDS.get(answers.resolved or '', '?')}，{answers.satisfaction or '?'}"
    )
    return f"{head}。原因：{answers.reason}" if answers.reason else head


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

    async def job(self, ticket_id: str) -> SurveyJob | None:
        return await asyncio.to_thread(self.store.find, ticket_id)

    async def submit(self, ticket_id: str, answers: SurveyAnswers) -> SurveyJob | None:
        """Record the answers and post them onto the ticket; reopen when unhappy."""
        job = await asyncio.to_thread(self.store.find, ticket_id)
        if job is None:
            log.warning("survey answers for unknown ticket %s dropped", ticket_id)
            return None
        if job.status == CANCELLED:
            # Reopened while the survey was out: the answers would close a live ticket.
            log.info("survey answers for %s ignored: the ticket was reopened", ticket_id)
            return job
        job = await asyncio.to_thread(self.store.record_answers, ticket_id, answers, self.clock())
        status = "reopened" if answers.unhappy else "closed"
        note = _note(answers)
        try:
            await self.client().set_status(
                job.ticket_id, status, note, ticket_attributes(answers), actor="jiesu-survey"
            )
        except TicketBackendError as exc:
            # The answers are kept in the survey store; staff see them in `survey stats`.
            log.error("could not post survey of %s to the backend: %s", job.ticket_id, exc)
        else:
            log.info("survey of %s recorded; ticket %s", job.ticket_id, status)
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
