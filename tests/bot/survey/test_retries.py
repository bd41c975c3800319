"""Unanswered surveys are sent again, post-backs are durable, shutdowns hand jobs back.

Real SQLite stores and a real HTTP ticket backend (a small aiohttp server that
can fail on purpose); the clock is a fake so spacing and backoff are exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.survey.scheduler import SurveyScheduler
from tests.bot.survey.test_scheduler import OLD_TABLE, FakeClock, Relay, at, new
from tickets.open311_client import Open311Client
from tickets.survey.postback import PostBack
from tickets.survey.settings import SurveySettings
from tickets.survey.stats import compute_stats
from tickets.survey.store import (
    ANSWERED,
    CANCELLED,
    FAILED,
    POSTBACK_DONE,
    POSTBACK_GAVE_UP,
    POSTBACK_PENDING,
    POSTBACK_REJECTED,
    SCHEDULED,
    SENT,
    UNANSWERED,
    SurveyAnswers,
    SurveyJob,
    SurveyStore,
)

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
    ``lose_reply``: apply the change, then answer 503 (the reply is lost);
    ``hang``: apply the change, then hold the reply until ``hang`` is set (the
    poster is killed meanwhile); ``statuses``: tickets' current status (staff
    reopened one) — a ticket not listed is ``resolved``; ``hung``: set once a reply is
    held; ``probe``: called on
    each status change, to look at the store while the post is in flight.
    """

    fail: list[int] = field(default_factory=list)
    lose_reply: int = 0
    hang: asyncio.Event | None = None
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    applied: list[dict[str, str]] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    probe: Callable[[], None] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/requests/{id}/status.json", self.status)
        app.router.add_get("/requests/{id}.json", self.get)
        return app

    async def status(self, request: web.Request) -> web.Response:
        if self.probe is not None:
            self.probe()
        if self.fail:
            code = self.fail.pop(0)
            return web.json_response({"error": "no"}, status=code)
        form = dict(await request.post())
        srid = request.match_info["id"]
        attrs = {k[10:-1]: str(v) for k, v in form.items() if k.startswith("attribute[")}
        self.applied.append({"id": srid, "status": str(form["status"]), **attrs})
        self.tickets[srid] = {"service_request_id": srid, "attributes": attrs}
        self.statuses[srid] = str(form["status"])
        if self.hang is not None:
            self.hung.set()
            await self.hang.wait()
        if self.lose_reply:
            self.lose_reply -= 1
            return web.json_response({"error": "gateway timeout"}, status=503)
        return web.json_response([self.ticket(srid)])

    def ticket(self, srid: str) -> dict[str, Any]:
        ticket = dict(self.tickets.get(srid, {"service_request_id": srid, "attributes": {}}))
        ticket["detailed_status"] = self.statuses.get(srid, "resolved")
        return ticket

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response([self.ticket(request.match_info["id"])])


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
        conn.execute(sa.text(OLD_TABLE))
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

    from actions.action_server import on_action_server_stop
    from hotline.config import Config
    from tickets.survey.results import SurveyBackend

    backend = SurveyBackend(Config(data_dir=tmp_path), SurveySettings())
    assert not on_action_server_stop(backend.close)  # no action server in this process
    app = Sanic("rasa_sdk")
    try:
        assert on_action_server_stop(backend.close)
        backend.client()  # the first post-back opens the session
        session = backend.client().session
        assert session is not None and not session.closed
        app.signal_router.finalize()
        await app.dispatch("server.shutdown.after", context={"app": app, "loop": None})
        assert session.closed
    finally:
        Sanic._app_registry.pop("rasa_sdk", None)


# -- post-back: a poster killed mid-way, reopened tickets, bad rows, give up -------
async def test_poster_killed_after_the_post_does_not_post_twice(rig: Rig) -> None:
    job = answered(rig, 30, HAPPY)
    rig.backend.hang = asyncio.Event()
    first = asyncio.create_task(rig.postback.post_now(job.ticket_id))
    await asyncio.wait_for(rig.backend.hung.wait(), 5)  # the POST reached the ticket …
    first.cancel()  # … and the poster dies before marking it done (shutdown, SIGKILL)
    with pytest.raises(asyncio.CancelledError):
        await first
    rig.backend.hang.set()
    rig.backend.hang = None
    assert rig.store.get(job.ticket_id).postback == POSTBACK_PENDING
    rig.clock.now += 61.0  # its lease has run out
    assert await rig.postback.retry_due() == 1
    assert len(rig.backend.applied) == 1  # read the ticket, did not post again
    assert rig.store.get(job.ticket_id).postback == POSTBACK_DONE


async def test_claims_that_never_finished_count_towards_the_limit(rig: Rig) -> None:
    job = answered(rig, 31, HAPPY)
    postback = PostBack(rig.store, rig.postback.client, settings(postback_attempts=2), rig.clock)
    for _ in range(2):  # two tries killed before they could record anything
        assert rig.store.claim_postback(job.ticket_id, rig.clock.now, 60.0) is not None
        rig.clock.now += 61.0
    assert await postback.retry_due() == 0
    assert rig.store.get(job.ticket_id).postback == POSTBACK_GAVE_UP
    assert rig.backend.applied == []


async def test_ticket_reopened_meanwhile_gets_the_answers_but_keeps_its_status(
    rig: Rig,
) -> None:
    job = answered(rig, 32, HAPPY)  # "满意" would close the ticket …
    rig.backend.statuses[job.ticket_id] = "reopened"  # … but staff reopened it
    assert await rig.postback.post_now(job.ticket_id) is True
    assert [a["status"] for a in rig.backend.applied] == ["reopened"]
    assert rig.backend.applied[0]["survey_satisfaction"] == "满意"
    assert rig.store.get(job.ticket_id).postback == POSTBACK_DONE


def test_reopen_cancels_a_given_up_survey_so_a_late_answer_is_ignored(
    store: SurveyStore,
) -> None:
    now = at("2026-11-25 09:00")
    unanswered = store.schedule(new(33), due_at=now).ticket_id
    failed = store.schedule(new(34), due_at=now).ticket_id
    with store.engine.begin() as conn:
        for tid, status in ((unanswered, UNANSWERED), (failed, FAILED)):
            conn.execute(
                sa.text("UPDATE survey_jobs SET status = :s WHERE ticket_id = :t"),
                {"s": status, "t": tid},
            )
    for tid in (unanswered, failed):
        assert store.cancel(tid, "ticket reopened")
        job = store.record_answers(tid, HAPPY, now + 60)  # old buttons pressed later
        assert (job.status, job.postback) == (CANCELLED, None)
        assert store.schedule(new(33 if tid == unanswered else 34), now).status == SCHEDULED


def test_backoff_does_not_overflow_after_many_failures() -> None:
    cfg = settings(postback_retry_s=30.0, postback_max_backoff_s=3600.0)
    assert cfg.postback_backoff(1) == 30.0
    assert cfg.postback_backoff(5000) == 3600.0


def test_postback_attempts_setting() -> None:
    assert SurveySettings.from_env({}).postback_attempts == 50
    assert SurveySettings.from_env({"JIESU_SURVEY_POSTBACK_ATTEMPTS": "7"}).postback_attempts == 7
    assert SurveySettings.from_env({"JIESU_SURVEY_POSTBACK_ATTEMPTS": "0"}).postback_attempts == 1


async def test_post_back_gives_up_after_its_attempts_and_still_counts(rig: Rig) -> None:
    job = answered(rig, 35, UNHAPPY)
    postback = PostBack(rig.store, rig.postback.client, settings(postback_attempts=3), rig.clock)
    rig.backend.fail = [503] * 10
    assert await postback.post_now(job.ticket_id) is False
    for _ in range(5):
        rig.clock.now += 10_000
        assert await postback.retry_due() == 0
    assert len(rig.backend.fail) == 7  # three tries, then no more
    stored = rig.store.get(job.ticket_id)
    assert (stored.postback, stored.postback_attempts) == (POSTBACK_GAVE_UP, 3)
    overall = compute_stats(rig.store.jobs()).overall
    assert (overall.answered, overall.unsatisfied) == (1, 1)


class Poisoned:
    """An Open311 client that hits a bug (not a backend error) on one ticket."""

    def __init__(self, real: Open311Client, bad: str) -> None:
        self.real, self.bad = real, bad

    async def get_request(self, srid: str, staff: bool = False) -> dict[str, Any]:
        if srid == self.bad:
            raise RuntimeError("bug on this row")
        return await self.real.get_request(srid, staff)

    async def set_status(self, *args: Any, **kw: Any) -> dict[str, Any]:
        return await self.real.set_status(*args, **kw)


async def test_one_bad_post_back_does_not_stop_the_others_or_deliveries(rig: Rig) -> None:
    bad, good = answered(rig, 36, HAPPY), answered(rig, 37, HAPPY)
    client = Poisoned(rig.postback.client(), bad.ticket_id)
    postback = PostBack(rig.store, lambda: client, settings(), rig.clock)  # type: ignore[arg-type, return-value]
    relay = Relay()
    sched = SurveyScheduler(rig.store, settings(), relay, clock=rig.clock, postback=postback)
    due = (await sched.schedule(new(38))).ticket_id
    report = await sched.run_due()
    assert (report.posted, report.sent, relay.delivered) == (1, 1, [due])
    assert rig.store.get(good.ticket_id).postback == POSTBACK_DONE
    assert rig.store.get(bad.ticket_id).postback == POSTBACK_PENDING  # still retryable
    assert postback_due(rig.store, bad.ticket_id) == rig.clock.now + 30.0
    rig.clock.now += 30.0
    assert await rig.postback.retry_due() == 1


async def test_deliveries_run_when_the_post_back_retries_fail(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def db_down(*_: object) -> None:
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(rig.store, "claim_next_postback", db_down)
    relay = Relay()
    sched = SurveyScheduler(rig.store, settings(), relay, clock=rig.clock, postback=rig.postback)
    await sched.schedule(new(38))
    assert (await sched.run_due()).sent == 1


async def test_post_backs_are_claimed_one_at_a_time(rig: Rig) -> None:
    jobs = [answered(rig, 40 + i, HAPPY) for i in range(3)]
    rig.backend.fail = [503] * 3
    for job in jobs:
        assert await rig.postback.post_now(job.ticket_id) is False
    held: list[int] = []

    def count_leases() -> None:
        with rig.store.engine.connect() as conn:
            held.append(
                int(
                    conn.execute(
                        sa.text(
                            "SELECT COUNT(*) FROM survey_jobs WHERE postback_claimed_until > :n"
                        ),
                        {"n": rig.clock.now},
                    ).scalar_one()
                )
            )

    rig.backend.probe = count_leases
    rig.clock.now += 30.0
    assert await rig.postback.retry_due() == 3
    assert held == [1, 1, 1]  # a lease covers the post in hand only
