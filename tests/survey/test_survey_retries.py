"""Unanswered surveys are sent again, post-backs are durable, shutdowns hand jobs back.

Real SQLite stores and a real HTTP ticket backend (a small aiohttp server that
can fail on purpose); the clock is a fake so spacing and backoff are exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.survey_postback import PostBack
from bot.survey_runner import SurveyScheduler
from bot.survey_settings import SurveySettings
from bot.survey_stats import compute_stats
from bot.survey_store import (
    ANSWERED,
    POSTBACK_DONE,
    POSTBACK_PENDING,
    POSTBACK_REJECTED,
    SCHEDULED,
    SENT,
    UNANSWERED,
    SurveyAnswers,
    SurveyJob,
    SurveyStore,
)
from tests.survey.test_survey_scheduler import FakeClock, Relay, at, new
from tickets.open311_client import Open311Client

HAPPY = SurveyAnswers("yes", "yes", "满意")
UNHAPPY = SurveyAnswers("no", "no", "不满意", "根本没人管")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SurveyStore]:
    s = SurveyStore(f"sqlite:///{tmp_path / 'jiesu.db'}")
    yield s
    s.close()


def settings(**kw: Any) -> SurveySettings:
    base: dict[str, Any] = {"delay_s": 0.0, "retry_s": 3600.0, "answer_timeout_s": 1800.0}
    return SurveySettings(**{**base, **kw})


# -- a survey nobody answers -------------------------------------------------------
async def test_unanswered_survey_is_sent_again_then_marked_unanswered(
    store: SurveyStore,
) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = SurveyScheduler(store, settings(attempts=3), relay, clock=clock)
    tid = (await sched.schedule(new(1))).ticket_id
    assert (await sched.run_due()).sent == 1
    clock.now = at("2026-11-25 09:29")
    assert (await sched.run_due()).resend == 0  # still inside the answer timeout
    clock.now = at("2026-11-25 09:31")
    report = await sched.run_due()
    job = store.get(tid)
    # Attempt 1 went unanswered: back in the queue, spaced retry_s × attempts.
    assert (report.resend, report.sent) == (1, 0)
    assert (job.status, job.attempts, job.due_at) == (SCHEDULED, 1, at("2026-11-25 10:31"))
    clock.now = at("2026-11-25 10:31")
    assert (await sched.run_due()).sent == 1
    clock.now = at("2026-11-25 11:02")
    await sched.run_due()
    assert store.get(tid).due_at == at("2026-11-25 13:02")  # 2 × retry_s
    clock.now = at("2026-11-25 13:02")
    assert (await sched.run_due()).sent == 1
    clock.now = at("2026-11-25 13:33")
    assert (await sched.run_due()).unanswered == 1
    job = store.get(tid)
    assert (job.status, job.attempts) == (UNANSWERED, 3)
    assert relay.delivered == [tid, tid, tid]
    clock.now = at("2026-11-26 13:00")
    report = await sched.run_due()
    assert (report.sent, report.resend, report.unanswered) == (0, 0, 0)
    overall = compute_stats(store.jobs()).overall
    assert (overall.surveyed, overall.answered) == (1, 0)  # counted, not lost


async def test_resend_waits_for_calling_hours(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 20:00")), Relay()
    sched = SurveyScheduler(store, settings(), relay, clock=clock)
    tid = (await sched.schedule(new(2))).ticket_id
    await sched.run_due()
    clock.now = at("2026-11-25 20:40")
    await sched.run_due()
    assert store.get(tid).due_at == at("2026-11-26 08:00")


async def test_late_answer_still_counts_and_answered_jobs_are_not_resent(
    store: SurveyStore,
) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = SurveyScheduler(store, settings(attempts=1), relay, clock=clock)
    late = (await sched.schedule(new(3))).ticket_id
    done = (await sched.schedule(new(4))).ticket_id
    await sched.run_due()
    store.record_answers(done, HAPPY, clock())
    clock.now = at("2026-11-25 10:00")
    assert (await sched.run_due()).unanswered == 1
    assert store.get(done).status == ANSWERED
    store.record_answers(late, UNHAPPY, clock())  # the resident answered after all
    assert store.get(late).status == ANSWERED
    assert compute_stats(store.jobs()).overall.answered == 2


async def test_timeout_zero_never_resends(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = SurveyScheduler(store, settings(answer_timeout_s=0.0), relay, clock=clock)
    tid = (await sched.schedule(new(5))).ticket_id
    await sched.run_due()
    clock.now = at("2026-11-30 09:00")
    await sched.run_due()
    assert store.get(tid).status == SENT and relay.delivered == [tid]


# -- post-back of the answers ------------------------------------------------------
@dataclass
class Backend:
    """A ticket backend whose status endpoint fails on demand.

    ``fail``: answers to give before accepting (503 = outage, 400 = refusal);
    ``lose_reply``: apply the change, then answer 503 (the reply is lost).
    """

    fail: list[int] = field(default_factory=list)
    lose_reply: int = 0
    applied: list[dict[str, str]] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/requests/{id}/status.json", self.status)
        app.router.add_get("/requests/{id}.json", self.get)
        return app

    async def status(self, request: web.Request) -> web.Response:
        if self.fail:
            code = self.fail.pop(0)
            return web.json_response({"error": "no"}, status=code)
        form = dict(await request.post())
        srid = request.match_info["id"]
        attrs = {k[10:-1]: str(v) for k, v in form.items() if k.startswith("attribute[")}
        self.applied.append({"id": srid, "status": str(form["status"]), **attrs})
        self.tickets[srid] = {"service_request_id": srid, "attributes": attrs}
        if self.lose_reply:
            self.lose_reply -= 1
            return web.json_response({"error": "gateway timeout"}, status=503)
        return web.json_response([self.tickets[srid]])

    async def get(self, request: web.Request) -> web.Response:
        srid = request.match_info["id"]
        ticket = self.tickets.get(srid, {"service_request_id": srid, "attributes": {}})
        return web.json_response([ticket])


@dataclass
class Rig:
    backend: Backend
    store: SurveyStore
    clock: FakeClock
    postback: PostBack


@pytest_asyncio.fixture
async def rig(store: SurveyStore) -> AsyncIterator[Rig]:
    backend = Backend()
    server = TestServer(backend.app(), host="127.0.0.1")
    await server.start_server()
    clock = FakeClock(at("2026-11-25 09:00"))
    async with aiohttp.ClientSession() as http:
        client = Open311Client(str(server.make_url("")).rstrip("/"), http, "key", "", 5.0)
        cfg = settings(postback_retry_s=30.0, postback_max_backoff_s=100.0)
        yield Rig(backend, store, clock, PostBack(store, lambda: client, cfg, clock))
    await server.close()


def postback_due(store: SurveyStore, ticket_id: str) -> float:
    with store.engine.connect() as conn:
        return float(
            conn.execute(
                sa.text("SELECT postback_due_at FROM survey_jobs WHERE ticket_id = :t"),
                {"t": ticket_id},
            ).scalar_one()
        )


def answered(rig: Rig, i: int, answers: SurveyAnswers) -> SurveyJob:
    job = rig.store.schedule(new(i), due_at=rig.clock.now)
    rig.store.record_answers(job.ticket_id, answers, rig.clock.now)
    return rig.store.get(job.ticket_id)


async def test_failed_post_back_is_retried_with_backoff_and_posted_once(rig: Rig) -> None:
    job = answered(rig, 10, UNHAPPY)
    assert job.postback == POSTBACK_PENDING  # persisted before any network call
    rig.backend.fail = [503, 503, 503]
    assert await rig.postback.post_now(job.ticket_id) is False
    assert await rig.postback.retry_due() == 0  # not due yet: 30 s backoff
    delays = []
    for _ in range(2):
        due = postback_due(rig.store, job.ticket_id)
        delays.append(due - rig.clock.now)
        rig.clock.now = due
        assert await rig.postback.retry_due() == 0
    assert delays == [30.0, 60.0]
    rig.clock.now += 100.0  # capped at postback_max_backoff_s
    assert await rig.postback.retry_due() == 1
    assert await rig.postback.retry_due() == 0
    assert rig.store.get(job.ticket_id).postback == POSTBACK_DONE
    assert rig.backend.applied == [
        {
            "id": job.ticket_id,
            "status": "reopened",
            "survey_contacted": "no",
            "survey_resolved": "no",
            "survey_satisfaction": "不满意",
            "survey_reason": "根本没人管",
        }
    ]


async def test_lost_reply_is_not_posted_twice(rig: Rig) -> None:
    job = answered(rig, 11, HAPPY)
    rig.backend.lose_reply = 1
    assert await rig.postback.post_now(job.ticket_id) is False
    rig.clock.now += 30.0
    assert await rig.postback.retry_due() == 1  # the ticket already carries the answers
    assert len(rig.backend.applied) == 1 and rig.backend.applied[0]["status"] == "closed"
    assert rig.store.get(job.ticket_id).postback == POSTBACK_DONE


async def test_answers_are_recorded_and_posted_only_once(rig: Rig) -> None:
    job = answered(rig, 12, HAPPY)
    assert await rig.postback.post_now(job.ticket_id) is True
    rig.store.record_answers(job.ticket_id, UNHAPPY, rig.clock.now)  # a repeated submit
    assert await rig.postback.post_now(job.ticket_id) is None
    assert rig.store.get(job.ticket_id).answers == HAPPY
    assert len(rig.backend.applied) == 1


async def test_refused_post_back_is_kept_but_not_retried(rig: Rig) -> None:
    job = answered(rig, 13, HAPPY)
    rig.backend.fail = [400]
    assert await rig.postback.post_now(job.ticket_id) is False
    rig.clock.now += 10_000
    assert await rig.postback.retry_due() == 0
    assert rig.store.get(job.ticket_id).postback == POSTBACK_REJECTED
    assert compute_stats(rig.store.jobs()).overall.answered == 1


async def test_scheduler_round_retries_post_backs(rig: Rig) -> None:
    job = answered(rig, 14, HAPPY)
    rig.backend.fail = [503]
    await rig.postback.post_now(job.ticket_id)
    sched = SurveyScheduler(rig.store, settings(), Relay(), clock=rig.clock, postback=rig.postback)
    rig.clock.now += 30.0
    assert (await sched.run_due()).posted == 1
    assert rig.store.postback_counts() == {POSTBACK_DONE: 1}


# -- shutdown and schema -----------------------------------------------------------
class SlowRelay(Relay):
    """Holds the first delivery until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, job: SurveyJob) -> None:
        self.started.set()
        await self.release.wait()
        await super().__call__(job)


async def test_stop_finishes_the_delivery_in_hand_and_releases_the_rest(
    store: SurveyStore,
) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), SlowRelay()
    sched = SurveyScheduler(store, settings(), relay, clock=clock)
    for i in range(20, 25):
        store.schedule(new(i), due_at=clock.now)
    sched.start()
    await asyncio.wait_for(relay.started.wait(), 5)
    stopping = asyncio.create_task(sched.stop(grace_s=5))
    relay.release.set()
    await stopping
    statuses = sorted(j.status for j in store.jobs())
    assert statuses == [SCHEDULED] * 4 + [SENT]
    # The next gateway takes the other four at once, not after the lease.
    again = SurveyScheduler(store, settings(), Relay(), clock=clock)
    assert (await again.run_due()).sent == 4


def test_old_database_gets_the_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE survey_jobs (ticket_id VARCHAR(60) PRIMARY KEY, sender_id VARCHAR(200)"
                " NOT NULL, channel VARCHAR(20) NOT NULL, channel_user VARCHAR(200) NOT NULL,"
                " category VARCHAR(80) NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '',"
                " submitted_at FLOAT NOT NULL, resolved_at FLOAT NOT NULL, status VARCHAR(20)"
                " NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_at FLOAT NOT NULL,"
                " claimed_until FLOAT NOT NULL DEFAULT 0, claim_token VARCHAR(40), last_error"
                " TEXT, sent_at FLOAT, answered_at FLOAT, contacted VARCHAR(10), resolved"
                " VARCHAR(10), satisfaction VARCHAR(10), reason TEXT)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO survey_jobs (ticket_id, sender_id, channel, channel_user,"
                " submitted_at, resolved_at, status, due_at) VALUES"
                " ('BJ20261125-000001', 'web:a', 'web', 'web:a', 1, 2, 'answered', 3)"
            )
        )
    engine.dispose()
    store = SurveyStore(url)
    try:
        job = store.get("BJ20261125-000001")
        assert (job.status, job.postback, job.postback_attempts) == (ANSWERED, None, 0)
        SurveyStore(url).close()  # a second process opening it is fine too
    finally:
        store.close()


async def test_action_server_stop_closes_the_backend_session(tmp_path: Path) -> None:
    from sanic import Sanic

    from bot.config import Config
    from bot.survey_results import SurveyBackend, on_action_server_stop

    backend = SurveyBackend(Config(data_dir=tmp_path), SurveySettings())
    assert not on_action_server_stop(backend.close)  # no action server in this process
    app = Sanic("rasa_sdk")
    try:
        assert on_action_server_stop(backend.close)
        backend.client()  # the first post-back opens the session
        session = backend._session
        assert session is not None and not session.closed
        app.signal_router.finalize()
        await app.dispatch("server.shutdown.after", context={"app": app, "loop": None})
        assert session.closed
    finally:
        Sanic._app_registry.pop("rasa_sdk", None)
