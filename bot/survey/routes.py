"""Wire the satisfaction callback into the gateway: ``survey_app.setup(app)``.

Adds the survey store and scheduler (``cleanup_ctx``), the embedded desk's
status listener, the Open311 poller (``JIESU_SURVEY_POLL``), the retry of
answers the ticket backend did not take (through the gateway's own HTTP
session, closed with the app) and the routes:

* ``POST /api/ticket-events`` — resolved/reopened events from a city's backend;
* ``GET /api/chat/pending?sender=…`` — survey turns waiting for a web resident;
* ``GET /api/survey/stats?from=YYYY-MM-DD&to=YYYY-MM-DD`` — rates (aggregates only);
* ``POST /api/survey/run-due`` — run due jobs now (staff key, like the desk).

See ``docs/survey.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from aiohttp import web

from bot.channels.held_turns import HELD_TURNS
from bot.gateway.app_keys import CONFIG, DESK_API, HTTP_SESSION, OUTBOX
from bot.gateway.errors import json_error
from bot.survey.relays import SurveyRelays
from bot.survey.scheduler import SurveyScheduler
from bot.survey.ticket_events import ResolvedPoller, TicketEvents
from hotline.channels import prefixed_sender
from hotline.secret_keys import constant_time_equal
from tickets.open311_client import configured_client
from tickets.survey.postback import PostBack
from tickets.survey.settings import SurveySettings
from tickets.survey.stats import compute_stats, day_range
from tickets.survey.store import SurveyStore

__all__ = ["SURVEY_EVENTS", "SURVEY_SCHEDULER", "SURVEY_STORE", "setup"]

log = logging.getLogger("jiesu.survey")
SURVEY_STORE = web.AppKey("survey_store", SurveyStore)
SURVEY_SCHEDULER = web.AppKey("survey_scheduler", SurveyScheduler)
SURVEY_EVENTS = web.AppKey("survey_events", TicketEvents)
MAX_SENDER_LEN = 128


async def get_pending(request: web.Request) -> web.Response:
    sender = request.query.get("sender", "").strip()
    if not sender or len(sender) > MAX_SENDER_LEN:
        return json_error(
            400, "invalid_sender", f"sender must be a non-empty string ≤ {MAX_SENDER_LEN}"
        )
    store = request.app[SURVEY_STORE]
    sender_id = prefixed_sender("web", sender)
    messages: list[Any] = []
    held = request.app.get(HELD_TURNS)
    if held is not None:  # answers to turns held while Rasa was down
        messages.extend(await asyncio.to_thread(held.take_answers, sender_id, time.time()))
    messages.extend(await asyncio.to_thread(store.take_pending, sender_id, time.time()))
    return web.json_response({"messages": messages})


def _date(raw: str) -> date | None:
    return date.fromisoformat(raw) if raw else None


async def get_stats(request: web.Request) -> web.Response:
    try:
        start, end = _date(request.query.get("from", "")), _date(request.query.get("to", ""))
    except ValueError:
        return json_error(400, "invalid_date", "from/to must be YYYY-MM-DD")
    lo, hi = day_range(start, end, request.app[CONFIG].tz)
    jobs = await asyncio.to_thread(request.app[SURVEY_STORE].jobs, lo, hi)
    return web.json_response(compute_stats(jobs).as_dict())


async def post_run_due(request: web.Request) -> web.Response:
    key = request.headers.get("X-Api-Key") or request.query.get("api_key", "")
    expected = request.app[CONFIG].desk_api_key
    if not constant_time_equal(key, expected):
        return json_error(403, "forbidden", "api_key missing or wrong")
    report = await request.app[SURVEY_SCHEDULER].run_due()
    return web.json_response(report.as_dict())


def setup(app: web.Application, env: Mapping[str, str] | None = None) -> None:
    """Register the survey's routes, background tasks and desk listener."""
    settings = SurveySettings.from_env(os.environ if env is None else env)

    async def survey_ctx(app: web.Application) -> AsyncIterator[None]:
        cfg = app[CONFIG]
        store = await asyncio.to_thread(SurveyStore, cfg.effective_outbox_db_url)
        client = configured_client(cfg, app[HTTP_SESSION])
        postback = PostBack(store, lambda: client, settings, time.time)
        scheduler = SurveyScheduler(
            store, settings, SurveyRelays(app, store, settings), postback=postback
        )
        events = TicketEvents(scheduler, app[OUTBOX], settings.webhook_key)
        app[SURVEY_STORE] = store
        app[SURVEY_SCHEDULER] = scheduler
        app[SURVEY_EVENTS] = events
        desk = app.get(DESK_API)
        if desk is not None:
            desk.listeners.append(events.desk_listener)
        scheduler.start()
        tasks: list[asyncio.Task[None]] = []
        if settings.poll_s > 0:
            poller = ResolvedPoller(events, store, client, settings.poll_s)
            tasks.append(asyncio.create_task(poller.run(), name="survey-poller"))
        log.info(
            "survey: delay %.0fs, hours %s, %d attempts", settings.delay_s, settings.hours_text,
            settings.attempts,
        )  # fmt: skip
        yield
        if desk is not None:
            desk.listeners.remove(events.desk_listener)
        await scheduler.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        store.close()

    async def webhook(request: web.Request) -> web.Response:
        return await request.app[SURVEY_EVENTS].webhook(request)

    app.cleanup_ctx.append(survey_ctx)
    app.router.add_post("/api/ticket-events", webhook)
    app.router.add_get("/api/chat/pending", get_pending)
    app.router.add_get("/api/survey/stats", get_stats)
    app.router.add_post("/api/survey/run-due", post_run_due)
