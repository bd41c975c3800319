"""Deliver a due survey on the channel the complaint came from.

Web and Telegram: Rasa's ``start_survey`` intent is triggered on the
complaint's own conversation (its sender id), and the bot's first survey turn
is relayed — Telegram pushes it with inline buttons, the web page shows it
when the resident next opens it (``GET /api/chat/pending``).  Phone: an
outbound call through the phone channel, which triggers the intent itself.

Any reason the survey cannot go out now raises :class:`SurveyDeferred`
(the scheduler retries); a conversation in the middle of another dialogue
raises :class:`SurveyBusy` (put off without using an attempt).
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.outbound import ChannelUnavailable, outbound
from bot.gateway.app_keys import HTTP_SESSION, RASA_CLIENT
from bot.gateway.rasa_client import BotMessage, RasaUnavailable
from bot.survey.errors import SurveyBusy, SurveyDeferred
from hotline.channels import Channel, channel_of_sender
from tickets.survey.settings import SurveySettings
from tickets.survey.store import SurveyJob, SurveyStore

__all__ = ["SURVEY_FORM", "SURVEY_INTENT", "SurveyRelays", "channel_of"]

log = logging.getLogger("jiesu.survey")
SURVEY_INTENT = "start_survey"
SURVEY_FORM = "survey_form"


def channel_of(job: SurveyJob) -> Channel:
    """The channel a job is delivered on (the sender prefix decides if unsure).

    A terminal chat (``cli``) polls the gateway like the web page, so it is served as web.
    """
    try:
        channel = Channel(job.channel)
    except ValueError:
        channel = channel_of_sender(job.sender_id)
    return Channel.WEB if channel is Channel.CLI else channel


class SurveyRelays:
    """The ``deliver`` callable of the scheduler, bound to one gateway app."""

    def __init__(self, app: web.Application, store: SurveyStore, settings: SurveySettings):
        self.app = app
        self.store = store
        self.settings = settings

    async def __call__(self, job: SurveyJob) -> None:
        channel = channel_of(job)
        if channel is Channel.PHONE:
            await self._phone(job)
            return
        pusher = outbound(self.app).pusher(channel)
        if channel is not Channel.WEB:
            if pusher is None:
                raise SurveyDeferred(f"{channel} channel is not running")
            try:
                pusher.check_ready()
            except ChannelUnavailable as exc:
                raise SurveyDeferred(f"{channel}: {exc}") from exc
        messages = await self._start(job)
        if pusher is None:
            await asyncio.to_thread(self._replace_pending, job.sender_id, messages)
            return
        try:
            # A survey question may be skipped, never asked twice (docs/telegram.md).
            await pusher.push(job.sender_id, messages, at_most_once=True)
        except ChannelUnavailable as exc:
            raise SurveyDeferred(f"{channel}: {exc}") from exc

    def _replace_pending(self, sender: str, messages: list[BotMessage]) -> None:
        # A re-sent survey replaces an earlier one the resident never opened.
        now = time.time()
        self.store.drop_pending(sender, now)
        self.store.add_pending(sender, messages, now)

    async def _active_loop(self, sender: str) -> str | None:
        base = self.app[RASA_CLIENT].base_url_for(sender)  # several servers: the sender's
        url = f"{base}/conversations/{urllib.parse.quote(sender, safe=':')}/tracker"
        try:
            async with self.app[HTTP_SESSION].get(
                url,
                params={"include_events": "NONE", **self.app[RASA_CLIENT].auth_params},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp:
                if resp.status != 200:
                    raise SurveyDeferred(f"Rasa tracker answered HTTP {resp.status}")
                body: dict[str, Any] = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SurveyDeferred(f"Rasa unreachable: {exc or type(exc).__name__}") from exc
        loop = body.get("active_loop") or {}
        name = loop.get("name") if isinstance(loop, dict) else None
        return str(name) if name else None

    async def _start(self, job: SurveyJob) -> list[BotMessage]:
        """Trigger the survey form on the complaint's conversation; its first turn."""
        loop = await self._active_loop(job.sender_id)
        if loop not in (None, SURVEY_FORM):
            raise SurveyBusy(f"conversation is in {loop}")
        try:
            messages = await self.app[RASA_CLIENT].trigger_intent(
                job.sender_id, SURVEY_INTENT, {"ticket_id": job.ticket_id}
            )
        except RasaUnavailable as exc:
            raise SurveyDeferred(f"Rasa unavailable: {exc}") from exc
        if not messages:
            raise SurveyDeferred("the assistant produced no survey turn")
        return messages

    async def _phone(self, job: SurveyJob) -> None:
        caller = outbound(self.app).caller(Channel.PHONE)
        if caller is None:
            raise SurveyDeferred("phone channel is not running")
        number = job.channel_user.partition(":")[2] if job.channel_user.startswith("tel:") else ""
        if not number or not self.settings.call_uri:
            raise SurveyDeferred("no number to call (JIESU_SURVEY_CALL_URI or caller id missing)")
        uri = self.settings.call_uri.replace("{phone}", number)
        try:
            await caller.start_call(uri, SURVEY_INTENT, {"ticket_id": job.ticket_id})
        except ChannelUnavailable as exc:
            raise SurveyDeferred(f"call to {number[:3]}…{number[-2:]} failed: {exc}") from exc
