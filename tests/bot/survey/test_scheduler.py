"""The durable scheduler on SQLite and PostgreSQL, with a fake clock and a fake relay."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.survey.errors import SurveyBusy, SurveyDeferred
from bot.survey.scheduler import SurveyScheduler
from hotline.timezone import DEFAULT_TIMEZONE, zone
from tests.tickets.test_outbox_postgres import pg_url  # noqa: F401 — fixture
from tickets.survey.settings import SurveySettings
from tickets.survey.store import (
    ANSWERED,
    CANCELLED,
    FAILED,
    OPTED_OUT,
    SCHEDULED,
    SENT,
    NewSurvey,
    SurveyAnswers,
    SurveyJob,
    SurveyStore,
)

TZ = zone(DEFAULT_TIMEZONE)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Relay:
    """Records deliveries; ``fail`` holds exceptions to raise, in order."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.fail: list[Exception] = []

    async def __call__(self, job: SurveyJob) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.delivered.append(job.ticket_id)
        await asyncio.sleep(0)  # yield, as a real relay would


def new(i: int, user: str | None = None) -> NewSurvey:
    return NewSurvey(
        ticket_id=f"BJ20261125-{i:06d}",
        sender_id=f"web:r{i}",
        channel="web",
        channel_user=user or f"web:r{i}",
        category="路灯",
        summary="路灯坏了",
        submitted_at=at("2026-11-24 10:00"),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SurveyStore]:
    s = SurveyStore(f"sqlite:///{tmp_path / 'jiesu.db'}")
    yield s
    s.close()


def scheduler(store: SurveyStore, clock: FakeClock, relay: Relay, **kw: object) -> SurveyScheduler:
    settings = SurveySettings(**{"delay_s": 3600.0, "retry_s": 7200.0, **kw})  # type: ignore[arg-type]
    return SurveyScheduler(store, settings, relay, clock=clock)


async def test_delay_then_delivered_once(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 10:00")), Relay()
    sched = scheduler(store, clock, relay)
    job = await sched.schedule(new(1))
    assert job.status == SCHEDULED and job.due_at == at("2026-11-25 11:00")
    assert (await sched.schedule(new(1))).due_at == job.due_at  # one job per ticket
    assert (await sched.run_due()).sent == 0
    clock.now = at("2026-11-25 11:00")
    assert (await sched.run_due()).sent == 1
    assert (await sched.run_due()).sent == 0
    assert relay.delivered == [job.ticket_id]
    assert store.get(job.ticket_id).status == SENT


async def test_resolved_in_the_evening_waits_for_morning(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 20:30")), Relay()
    sched = scheduler(store, clock, relay)
    job = await sched.schedule(new(2))
    assert job.due_at == at("2026-11-26 08:00")
    clock.now = at("2026-11-26 07:59")
    assert (await sched.run_due()).sent == 0 and relay.delivered == []
    clock.now = at("2026-11-26 08:00")
    assert (await sched.run_due()).sent == 1


async def test_due_job_outside_hours_is_deferred_without_an_attempt(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 10:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=0.0)
    await sched.schedule(new(3))
    clock.now = at("2026-11-25 22:15")  # the gateway was down all day
    report = await sched.run_due()
    assert (report.sent, report.deferred) == (0, 1) and relay.delivered == []
    job = store.get(new(3).ticket_id)
    assert job.status == SCHEDULED and job.attempts == 0 and job.due_at == at("2026-11-26 08:00")


async def test_retries_spaced_then_failed(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=0.0, attempts=3)
    await sched.schedule(new(4))
    relay.fail = [SurveyDeferred("no answer")] * 3
    tid = new(4).ticket_id
    assert (await sched.run_due()).deferred == 1
    assert store.get(tid).due_at == at("2026-11-25 11:00") and store.get(tid).attempts == 1
    clock.now = at("2026-11-25 11:00")
    await sched.run_due()
    assert store.get(tid).due_at == at("2026-11-25 15:00")
    clock.now = at("2026-11-25 15:00")
    assert (await sched.run_due()).failed == 1
    assert store.get(tid).status == FAILED and store.get(tid).attempts == 3


async def test_busy_conversation_does_not_use_an_attempt(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=0.0)
    await sched.schedule(new(5))
    relay.fail = [SurveyBusy("conversation is in complaint_form", retry_in_s=600)]
    await sched.run_due()
    job = store.get(new(5).ticket_id)
    assert job.attempts == 0 and job.due_at == at("2026-11-25 09:10")


async def test_reopen_cancels_and_opt_out_stops(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=60.0)
    await sched.schedule(new(6))
    assert await sched.cancel(new(6).ticket_id, "ticket reopened")
    assert store.get(new(6).ticket_id).status == CANCELLED
    assert (await sched.schedule(new(6))).status == SCHEDULED  # resolved again: armed again
    store.opt_out("web:same", clock())
    assert (await sched.schedule(new(7, user="web:same"))).status == OPTED_OUT
    clock.now += 3600
    await sched.run_due()
    assert relay.delivered == [new(6).ticket_id]


async def test_later_and_answers(store: SurveyStore) -> None:
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=0.0)
    tid = (await sched.schedule(new(8))).ticket_id
    await sched.run_due()
    store.reschedule(tid, at("2026-11-25 11:00"), max_attempts=3)
    assert store.get(tid).status == SCHEDULED
    clock.now = at("2026-11-25 11:00")
    await sched.run_due()
    assert relay.delivered == [tid, tid]
    store.record_answers(tid, SurveyAnswers("yes", "yes", "满意"), clock())
    assert store.get(tid).status == ANSWERED
    assert not store.cancel(tid, "reopened")  # answered surveys stay answered


async def test_restart_keeps_due_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    clock, relay = FakeClock(at("2026-11-25 10:00")), Relay()
    first = SurveyStore(url)
    await scheduler(first, clock, relay).schedule(new(9))
    first.close()  # gateway stops before the job is due
    clock.now = at("2026-11-25 12:00")
    second = SurveyStore(url)
    assert (await scheduler(second, clock, relay).run_due()).sent == 1
    second.close()


async def test_two_schedulers_on_postgres_deliver_200_jobs_exactly_once(
    pg_url: str,  # noqa: F811
) -> None:
    clock, relay = FakeClock(at("2026-11-25 10:00")), Relay()
    stores = [SurveyStore(pg_url), SurveyStore(pg_url)]
    try:
        for i in range(200):
            stores[0].schedule(new(1000 + i), due_at=clock.now - 1, now=clock.now - 60)
        a, b = (scheduler(s, clock, relay, delay_s=0.0) for s in stores)
        # Each scheduler drains from its own thread pool connections, concurrently.
        reports = await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
        counts = Counter(relay.delivered)
        assert len(counts) == 200 and set(counts.values()) == {1}
        assert sum(r.sent for r in reports) == 200
        assert all(r.sent < 200 for r in reports[:2]), "both instances took part"
        assert {j.status for j in stores[1].jobs()} == {SENT}
    finally:
        for s in stores:
            s.close()


class SlowCalls(Relay):
    """Each delivery takes ``took_s`` of the fake clock (a phone ringing, Rasa thinking).

    During its ``cut_in_at``-th delivery the ``other`` scheduler runs a round,
    as a second gateway would while this one is busy.
    """

    def __init__(self, clock: FakeClock, took_s: float, cut_in_at: int) -> None:
        super().__init__()
        self.clock, self.took_s, self.cut_in_at = clock, took_s, cut_in_at
        self.other: SurveyScheduler | None = None
        self.calls = 0

    async def __call__(self, job: SurveyJob) -> None:
        self.calls += 1
        self.clock.now += self.took_s
        if self.calls == self.cut_in_at and self.other is not None:
            other, self.other = self.other, None
            await other.run_due()
        await super().__call__(job)


async def test_lease_shorter_than_the_rounds_work_never_delivers_twice(
    store: SurveyStore,
) -> None:
    clock = FakeClock(at("2026-11-25 10:00"))
    relay = SlowCalls(clock, took_s=40.0, cut_in_at=3)
    for i in range(6):
        store.schedule(new(2000 + i), due_at=clock.now - 1, now=clock.now - 60)
    settings = SurveySettings(delay_s=0.0)
    other = Relay()
    other.delivered = relay.delivered  # one list: every delivery, whoever made it
    a = SurveyScheduler(store, settings, relay, clock=clock, lease_s=60.0)
    relay.other = SurveyScheduler(store, settings, other, clock=clock, lease_s=60.0)
    # Six deliveries of 40 s each against 60 s leases: a lease taken for the whole
    # batch runs out during the second one, and the other gateway, cutting in at
    # a's third delivery, would deliver a's remaining jobs again.
    first = await a.run_due()
    counts = Counter(relay.delivered)
    assert len(counts) == 6 and set(counts.values()) == {1}
    assert 0 < first.sent < 6, "both schedulers took part"
    assert {j.status for j in store.jobs()} == {SENT}


OLD_TABLE = (
    "CREATE TABLE survey_jobs (ticket_id VARCHAR(60) PRIMARY KEY, sender_id VARCHAR(200)"
    " NOT NULL, channel VARCHAR(20) NOT NULL, channel_user VARCHAR(200) NOT NULL,"
    " category VARCHAR(80) NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '',"
    " submitted_at FLOAT NOT NULL, resolved_at FLOAT NOT NULL, status VARCHAR(20)"
    " NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_at FLOAT NOT NULL,"
    " claimed_until FLOAT NOT NULL DEFAULT 0, claim_token VARCHAR(40), last_error"
    " TEXT, sent_at FLOAT, answered_at FLOAT, contacted VARCHAR(10), resolved"
    " VARCHAR(10), satisfaction VARCHAR(10), reason TEXT)"
)


def assert_upgrade_adds_the_postback_index(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(OLD_TABLE))
    try:
        for _ in range(2):  # a second process opening it is fine too
            SurveyStore(url).close()
        names = {ix["name"] for ix in sa.inspect(engine).get_indexes("survey_jobs")}
        assert "ix_survey_jobs_postback" in names
    finally:
        engine.dispose()


def test_old_sqlite_database_gets_the_postback_index(tmp_path: Path) -> None:
    assert_upgrade_adds_the_postback_index(f"sqlite:///{tmp_path / 'old.db'}")


def test_old_postgres_database_gets_the_postback_index(pg_url: str) -> None:  # noqa: F811
    assert_upgrade_adds_the_postback_index(pg_url)


def _answer_and_post(
    store: SurveyStore, ticket_id: str, answers: SurveyAnswers, now: float
) -> None:
    store.record_answers(ticket_id, answers, now)
    job = store.claim_next_postback(now)
    assert job is not None and job.ticket_id == ticket_id
    assert store.mark_posted(job)


async def test_resolved_again_after_an_unhappy_answer_is_surveyed_again(
    store: SurveyStore,
) -> None:
    """The survey form promises "办结后会再次联系您" after an unhappy answer."""
    clock, relay = FakeClock(at("2026-11-25 09:00")), Relay()
    sched = scheduler(store, clock, relay, delay_s=0.0)
    unhappy, happy = new(31), new(32)
    for n in (unhappy, happy):
        await sched.schedule(n)
    await sched.run_due()
    clock.now += 600
    _answer_and_post(
        store, unhappy.ticket_id, SurveyAnswers("yes", "no", "不满意", "没修好"), clock()
    )
    _answer_and_post(store, happy.ticket_id, SurveyAnswers("yes", "yes", "满意"), clock())
    assert store.get(unhappy.ticket_id).status == ANSWERED
    # Staff handle the reopened ticket and resolve it again a day later.
    clock.now += 86_400
    again = await sched.schedule(unhappy)
    assert (again.status, again.attempts) == (SCHEDULED, 0)
    assert (await sched.schedule(happy)).status == ANSWERED  # a happy answer is final
    assert (await sched.schedule(unhappy)).status == SCHEDULED  # a duplicate event: still one job
    await sched.run_due()
    assert relay.delivered.count(unhappy.ticket_id) == 2
    assert relay.delivered.count(happy.ticket_id) == 1


async def test_a_job_put_off_is_not_claimed_before_its_time(store: SurveyStore) -> None:
    clock = FakeClock(at("2026-11-25 09:00"))
    store.schedule(new(41), due_at=clock() + 3600, now=clock())
    assert store.claim(new(41).ticket_id, clock(), lease_s=60) is None
    assert store.claim(new(41).ticket_id, clock() + 3600, lease_s=60) is not None


def test_an_answer_faster_than_the_sent_mark_counts_one_attempt(store: SurveyStore) -> None:
    """A Telegram button pressed before the runner marks the delivery as sent."""
    now = at("2026-11-25 09:00")
    store.schedule(new(51), due_at=now, now=now)
    job = store.claim(new(51).ticket_id, now, lease_s=60)
    assert job is not None
    store.record_answers(job.ticket_id, SurveyAnswers("yes", "yes", "满意"), now + 1)
    assert not store.mark_sent(job, now + 2)  # the answer already settled the job
    done = store.get(job.ticket_id)
    assert (done.status, done.attempts) == (ANSWERED, 1)
