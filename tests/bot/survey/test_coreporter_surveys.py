"""One survey job per resident of a ticket: the filer, co-reporters, a merged ticket's filer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.survey.ticket_events import surveys_for
from desk.coreporters import co_report, merge, split
from desk.store import DeskStore, NewTicket
from tests.auxil.postgres import fresh_database
from tickets.outbox import Outbox
from tickets.survey.store import NewSurvey, SurveyStore


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One database for outbox, desk and surveys (as with JIESU_DB_URL = JIESU_DESK_DB_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jiesu.db'}"
        return
    with fresh_database() as url:
        yield url


def _file(outbox: Outbox, desk: DeskStore, sender: str, channel: str, text: str,
          duplicate_of: str | None = None) -> str:  # fmt: skip
    """Outbox entry, then the desk (as the delivery does); returns the desk ticket id."""
    form = {"service_code": "CX04", "description": text}
    if duplicate_of:
        form["attribute[duplicate_of]"] = duplicate_of
    entry = outbox.add(form, sender, channel, text, f"{sender}:1", sender)
    new = NewTicket(
        "CX04", text, address_string="朝阳区劲松八区", phone="13800000000",
        attributes={"channel": channel}, idempotency_key=entry.idempotency_key,
    )  # fmt: skip
    if duplicate_of:
        ticket, _ = co_report(desk, duplicate_of, new)
    else:
        ticket, _ = desk.create(new)
    outbox.mark_delivered(outbox.claim(entry.reference) or entry, ticket.service_request_id)
    return ticket.service_request_id


def test_every_reporter_gets_a_job_and_reopen_cancels_them_all(db_url: str) -> None:
    outbox = Outbox(db_url)
    desk = DeskStore(db_url)
    surveys = SurveyStore(db_url)
    try:
        a = _file(outbox, desk, "web:alice", "web", "井盖丢了")
        assert _file(outbox, desk, "tg:42", "telegram", "井盖不见了", duplicate_of=a) == a
        news = surveys_for(outbox, a, desk.get(a))
        assert {(n.ticket_id == a, n.channel, n.ticket) for n in news} == {
            (True, "web", ""),
            (False, "telegram", a),
        }
        # Without the desk's ticket (a city's backend): the outbox entries of that ticket.
        assert {n.sender_id for n in surveys_for(outbox, a)} == {"web:alice", "tg:42"}
        for n in news:
            job = surveys.schedule(n, due_at=time.time() + 60)
            assert job.backend_ticket == a
        assert surveys.cancel(a, "reopened")  # both jobs: by key and by ticket
        assert {j.status for j in surveys.jobs()} == {"cancelled"}

        # Staff merge ticket b (with its own co-reporter) into a: four residents on a.
        b = _file(outbox, desk, "web:bob", "web", "下水井没盖子")
        _file(outbox, desk, "tg:43", "telegram", "井盖没了", duplicate_of=b)
        merge(desk, a, b)
        senders = {n.sender_id for n in surveys_for(outbox, a, desk.get(a))}
        assert senders == {"web:alice", "tg:42", "web:bob", "tg:43"}
        # Split bob back out: he is surveyed on his own ticket again, not on a.
        bob = next(
            r
            for r in desk.get(a).co_reporters
            if r.source_ticket == b and r.idempotency_key is None
        )
        split(desk, a, bob.reporter_id)
        assert "web:bob" not in {n.sender_id for n in surveys_for(outbox, a, desk.get(a))}
        assert [n.sender_id for n in surveys_for(outbox, b, desk.get(b))] == ["web:bob"]
    finally:
        outbox.close()
        desk.close()
        surveys.close()


def test_a_database_of_the_last_release_gets_the_ticket_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    surveys = SurveyStore(url)
    job = surveys.schedule(NewSurvey("BJ1", "web:x", "web", "web:x"), due_at=0)
    with surveys.engine.begin() as conn:  # as the last release left it
        conn.execute(sa.text("DROP INDEX ix_survey_jobs_ticket"))
        conn.execute(sa.text("ALTER TABLE survey_jobs DROP COLUMN ticket"))
    surveys.close()
    surveys = SurveyStore(url)
    try:
        job = surveys.get("BJ1")
        assert job.ticket == "" and job.backend_ticket == "BJ1"  # old rows: key = ticket
        co = surveys.schedule(NewSurvey("JS1", "tg:1", "telegram", "tg:1", ticket="BJ1"), 0)
        assert co.backend_ticket == "BJ1"
    finally:
        surveys.close()
