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

from bot.gateway.app_keys import CONFIG, HTTP_SESSION, RASA_CLIENT
from bot.gateway.rasa_client import BotMessage, RasaUnavailable
from bot.survey.errors import SurveyBusy, SurveyDeferred
from tickets.survey.settings import SurveySettings
from tickets.survey.store import SurveyJob, SurveyStore

__all__ = ["SURVEY_FORM", "SURVEY_INTENT", "SurveyRelays", "channel_of"]

log = logging.getLogger("jiesu.survey")
SURVEY_INTENT = "start_survey"
SURVEY_FORM = "survey_form"
_PREFIX_CHANNEL = {"tg": "telegram", "tel": "phone", "web": "web", "cli": "web", "test": "web"}


def channel_of(job: SurveyJob) -> str:
    """``web``, ``telegram`` or ``phone`` for a job (the sender prefix decides if unsure)."""
    if job.channel in ("web", "telegram", "phone"):
        return job.channel
    return _PREFIX_CHANNEL.get(job.sender_id.partition(":")[0], "web")


class SurveyRelays:
    """The ``deliver`` callable of the scheduler, bound to one gateway app."""

    def __init__(self, app: web.Application, store: SurveyStore, settings: SurveySettings):
        self.app = app
        self.store = store
        self.settings = settings

    async def __call__(self, job: SurveyJob) -> None:
        channel = channel_of(job)
        if channel == "phone":
            await self._phone(job)
            return
        if channel == "telegram":
            self._telegram_ready()
        messages = await self._start(job)
        if channel == "telegram":
            await self._send_telegram(job, messages)
        else:
            await asyncio.to_thread(self._replace_pending, job.sender_id, messages)

    def _replace_pending(self, sender: str, messages: list[BotMessage]) -> None:
        # A re-sent survey replaces an earlier one the resident never opened.
        now = time.time()
        self.store.drop_pending(sender, now)
        self.store.add_pending(sender, messages, now)

    async def _active_loop(self, sender: str) -> str | None:
        cfg = self.app[CONFIG]
        url = f"{cfg.rasa_url}/conversations/{urllib.parse.quote(sender, safe=':')}/tracker"
        try:
            async with self.app[HTTP_SESSION].get(
                url, params={"include_events": "NONE"}, timeout=aiohttp.ClientTimeout(total=10)
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

    def _telegram_ready(self) -> None:
        from bot.channels.telegram.channel import TELEGRAM_CHANNEL

        channel = self.app.get(TELEGRAM_CHANNEL)
        if channel is None or not channel.ready.is_set():
            raise SurveyDeferred("Telegram channel is not running")

    async def _send_telegram(self, job: SurveyJob, messages: list[BotMessage]) -> None:
        from telegram.error import TelegramError

        from bot.channels.telegram.channel import send_to_chat
        from bot.channels.telegram.errors import TelegramDisabled

        try:
            chat_id = int(job.sender_id.partition(":")[2])
        except ValueError as exc:
            raise SurveyDeferred(f"not a Telegram chat: {job.sender_id}") from exc
        try:
            await send_to_chat(self.app, chat_id, messages)
        except (TelegramDisabled, TelegramError) as exc:
            raise SurveyDeferred(f"Telegram: {exc}") from exc

    async def _phone(self, job: SurveyJob) -> None:
        from bot.channels.phone.channel import PHONE

        holder = self.app.get(PHONE)
        service = holder.service if holder is not None else None
        if service is None:
            raise SurveyDeferred("phone channel is not running")
        number = job.channel_user.partition(":")[2] if job.channel_user.startswith("tel:") else ""
        if not number or not self.settings.call_uri:
            raise SurveyDeferred("no number to call (JIESU_SURVEY_CALL_URI or caller id missing)")
        uri = self.settings.call_uri.replace("{phone}", number)
        try:
            await service.call_out(uri, SURVEY_INTENT, entities={"ticket_id": job.ticket_id})
        except Exception as exc:  # CallFailed, SIP errors: the callee did not take the call
            raise SurveyDeferred(f"call to {number[:3]}…{number[-2:]} failed: {exc}") from exc
