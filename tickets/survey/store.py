"""Durable survey jobs, opt-outs and pending web messages (SQLAlchemy Core).

Lives in the outbox database (``JIESU_DB_URL``), SQLite or PostgreSQL.  One
job per ticket and resident: the filer's job is keyed by the ticket id (primary
key ``ticket_id``); a co-reporter's by the reference of their co-report, with the
ticket in ``ticket`` (:attr:`SurveyJob.backend_ticket` is the ticket either way).  Claims are conditional UPDATEs with a lease,
like :mod:`tickets.outbox`, so with several gateways each due job is
delivered by exactly one of them.  Synchronous: call from a thread.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from hotline.states import TextEnum
from tickets.db import make_engine

__all__ = [
    "ANSWERED",
    "CANCELLED",
    "POSTBACK_DONE",
    "POSTBACK_GAVE_UP",
    "POSTBACK_PENDING",
    "POSTBACK_REJECTED",
    "FAILED",
    "OPTED_OUT",
    "SCHEDULED",
    "SENT",
    "UNANSWERED",
    "NewSurvey",
    "SurveyAnswers",
    "PostbackStatus",
    "SurveyJob",
    "SurveyStatus",
    "SurveyStore",
]


class SurveyStatus(TextEnum):
    """Where one ticket's satisfaction callback stands (column ``status``)."""

    SCHEDULED = "scheduled"  # waiting for its due time (and the calling hours)
    SENT = "sent"  # the first survey turn reached the resident
    ANSWERED = "answered"
    CANCELLED = "cancelled"  # the ticket was reopened by staff before an answer
    FAILED = "failed"  # every delivery attempt failed
    OPTED_OUT = "opted_out"  # the resident asked not to be called back
    # Delivered every allowed time, never answered (JIESU_SURVEY_ANSWER_TIMEOUT each time).
    UNANSWERED = "unanswered"


class PostbackStatus(TextEnum):
    """Post-back of the answers onto the ticket (column ``postback``; NULL = nothing to post)."""

    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"  # refused for good (4xx)
    # Tried JIESU_SURVEY_POSTBACK_ATTEMPTS times without success (the answers still count).
    GAVE_UP = "gave_up"


SCHEDULED, SENT, ANSWERED = SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.ANSWERED
CANCELLED, FAILED = SurveyStatus.CANCELLED, SurveyStatus.FAILED
OPTED_OUT, UNANSWERED = SurveyStatus.OPTED_OUT, SurveyStatus.UNANSWERED
POSTBACK_PENDING, POSTBACK_DONE = PostbackStatus.PENDING, PostbackStatus.DONE
POSTBACK_REJECTED, POSTBACK_GAVE_UP = PostbackStatus.REJECTED, PostbackStatus.GAVE_UP
# A reopen stops these (a late answer must not close a ticket staff have reopened).
_CANCELLABLE = (SCHEDULED, SENT, UNANSWERED, FAILED)

metadata = sa.MetaData()
jobs_table = sa.Table(
    "survey_jobs",
    metadata,
    sa.Column("ticket_id", sa.String(60), primary_key=True),
    sa.Column("sender_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("channel_user", sa.String(200), nullable=False, index=True),
    sa.Column("category", sa.String(80), nullable=False, server_default=""),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.Column("resolved_at", sa.Float, nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", sa.Float, nullable=False, index=True),
    sa.Column("claimed_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("claim_token", sa.String(40), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("sent_at", sa.Float, nullable=True),
    sa.Column("answered_at", sa.Float, nullable=True),
    sa.Column("contacted", sa.String(10), nullable=True),
    sa.Column("resolved", sa.String(10), nullable=True),
    sa.Column("satisfaction", sa.String(10), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    # Durable post-back of the answers (added after the first release: see _migrate).
    sa.Column("postback", sa.String(10), nullable=True, index=True),
    sa.Column("postback_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("postback_due_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("postback_claimed_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("postback_token", sa.String(40), nullable=True),
    sa.Column("postback_error", sa.Text, nullable=True),
    # The ticket a co-reporter's job is about (NULL: the job's key is the ticket id).
    sa.Column("ticket", sa.String(60), nullable=True, index=True),
)
optouts_table = sa.Table(
    "survey_optouts",
    metadata,
    sa.Column("channel_user", sa.String(200), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)
pending_table = sa.Table(
    "survey_pending_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(200), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("taken_at", sa.Float, nullable=True),
)


@dataclass(frozen=True)
class NewSurvey:
    """What the scheduler knows about a resolved ticket."""

    ticket_id: str
    sender_id: str
    channel: str
    channel_user: str
    category: str = ""
    summary: str = ""
    submitted_at: float = 0.0
    #: For a co-reporter: the ticket, while ``ticket_id`` is the co-report's reference.
    ticket: str = ""


@dataclass(frozen=True)
class SurveyAnswers:
    """The resident's answers: ``yes``/``no``, 满意/基本满意/不满意, free-text reason."""

    contacted: str | None = None
    resolved: str | None = None
    satisfaction: str | None = None
    reason: str | None = None

    @property
    def unhappy(self) -> bool:
        """Unsatisfied or unsolved: the ticket goes back to the department."""
        return self.satisfaction == "不满意" or self.resolved == "no"


@dataclass(frozen=True)
class SurveyJob:
    ticket_id: str
    sender_id: str
    channel: str
    channel_user: str
    category: str
    summary: str
    submitted_at: float
    resolved_at: float
    status: SurveyStatus
    attempts: int
    due_at: float
    last_error: str | None
    sent_at: float | None
    answered_at: float | None
    answers: SurveyAnswers
    claim_token: str | None = None
    postback: PostbackStatus | None = None
    postback_attempts: int = 0
    postback_token: str | None = None
    ticket: str = ""

    @property
    def backend_ticket(self) -> str:
        """The ticket this survey is about (its answers are posted there)."""
        return self.ticket or self.ticket_id


def _job(row: Any) -> SurveyJob:
    return SurveyJob(
        ticket_id=row["ticket_id"],
        sender_id=row["sender_id"],
        channel=row["channel"],
        channel_user=row["channel_user"],
        category=row["category"],
        summary=row["summary"],
        submitted_at=row["submitted_at"],
        resolved_at=row["resolved_at"],
        status=SurveyStatus(row["status"]),
        attempts=row["attempts"],
        due_at=row["due_at"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
        answered_at=row["answered_at"],
        answers=SurveyAnswers(
            row["contacted"], row["resolved"], row["satisfaction"], row["reason"]
        ),
        claim_token=row["claim_token"],
        postback=PostbackStatus(row["postback"]) if row["postback"] else None,
        postback_attempts=row["postback_attempts"],
        postback_token=row["postback_token"],
        ticket=row["ticket"] or "",
    )


def _migrate(engine: Engine) -> None:
    """Add columns a database made by an older release lacks (``create_all`` never alters).

    Two processes may race here; a column another one just added is not an error.
    """
    have = {c["name"] for c in sa.inspect(engine).get_columns(jobs_table.name)}
    for column in jobs_table.columns:
        if column.name in have:
            continue
        ddl = column.type.compile(engine.dialect)
        default = column.server_default
        clause = f" NOT NULL DEFAULT {default.arg}" if default is not None else ""  # type: ignore[attr-defined]
        try:
            with engine.begin() as conn:
                conn.execute(
                    sa.text(f"ALTER TABLE {jobs_table.name} ADD COLUMN {column.name} {ddl}{clause}")
                )
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            if not _already_there(exc):
                raise
    _migrate_indexes(engine)


def _already_there(exc: Exception) -> bool:
    """The DDL lost a race with another process doing the same (SQLite or PostgreSQL wording)."""
    text = str(exc).lower()
    return "duplicate" in text or "already exists" in text


def _migrate_indexes(engine: Engine) -> None:
    """Create the indexes of columns :func:`_migrate` just added (``create_all`` skipped them).

    Without the index on ``postback`` every scheduler round scans the whole table
    for pending post-backs.  Idempotent, and safe when two processes race.
    """
    have = {ix["name"] for ix in sa.inspect(engine).get_indexes(jobs_table.name)}
    for index in jobs_table.indexes:
        if index.name in have:
            continue
        try:
            index.create(engine, checkfirst=True)
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            if not _already_there(exc):
                raise


def _reopened_by_its_answers(resolved_now: float) -> Any:
    """SQL condition: an answered job whose unhappy answers reopened the ticket.

    When such a ticket is resolved again (after its answers, with the post-back
    finished) the resident is surveyed again — the survey form promised
    "办结后会再次联系您".  A repeated event for the new resolution does not match
    (``resolved_at`` is then newer than the answers), so it never re-arms twice.
    A stale duplicate of the *first* resolution arriving after the answers would
    re-arm it (the backend's event has no resolution time to tell them apart).
    """
    c = jobs_table.c
    return sa.and_(
        c.status == ANSWERED,
        sa.or_(c.satisfaction == "不满意", c.resolved == "no"),
        c.answered_at > c.resolved_at,
        c.answered_at < resolved_now,
        sa.or_(c.postback.is_(None), c.postback != POSTBACK_PENDING),
    )


def _first(claims: Iterator[SurveyJob | None]) -> SurveyJob | None:
    """The first successful claim; later candidates are not even tried (lazy)."""
    return next((job for job in claims if job is not None), None)


class SurveyStore:
    """Survey tables in one database; share one per process."""

    def __init__(self, url: str):
        self.engine: Engine = make_engine(url)
        metadata.create_all(self.engine)
        _migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- jobs -------------------------------------------------------------------
    def schedule(self, new: NewSurvey, due_at: float, now: float | None = None) -> SurveyJob:
        """Create the ticket's job (once); a job cancelled by a reopen is armed again.

        A resident who opted out gets a job in ``opted_out`` (counted, never sent).
        """
        now = time.time() if now is None else now
        status = OPTED_OUT if self.is_opted_out(new.channel_user) else SCHEDULED
        values = {
            "ticket_id": new.ticket_id.upper(),
            "sender_id": new.sender_id,
            "channel": new.channel,
            "channel_user": new.channel_user,
            "category": new.category[:80],
            "summary": new.summary,
            "submitted_at": new.submitted_at or now,
            "resolved_at": now,
            "status": status,
            "attempts": 0,
            "due_at": due_at,
            "claimed_until": 0.0,
            "ticket": new.ticket.upper() or None,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(jobs_table.insert().values(**values))
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(
                    jobs_table.update()
                    .where(
                        jobs_table.c.ticket_id == values["ticket_id"],
                        sa.or_(jobs_table.c.status == CANCELLED, _reopened_by_its_answers(now)),
                    )
                    .values(
                        status=status,
                        attempts=0,
                        due_at=due_at,
                        resolved_at=now,
                        last_error=None,
                        claimed_until=0.0,
                    )
                )
        return self.get(new.ticket_id)

    def get(self, ticket_id: str) -> SurveyJob:
        """The job of ``ticket_id``.

        Raises:
            KeyError: No job for that ticket.
        """
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(jobs_table).where(jobs_table.c.ticket_id == ticket_id.upper())
                )
                .mappings()
                .first()
            )
        if row is None:
            raise KeyError(ticket_id)
        return _job(row)

    def find(self, ticket_id: str) -> SurveyJob | None:
        try:
            return self.get(ticket_id)
        except KeyError:
            return None

    def cancel(self, ticket_id: str, reason: str) -> bool:
        """Cancel a job not yet answered (ticket reopened); True if one was cancelled.

        Jobs given up as ``unanswered``/``failed`` are cancelled too: they still take a
        late answer (:meth:`record_answers`), and that answer would otherwise close a
        ticket staff have just reopened.  Resolved again, the ticket gets a new survey.
        """
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    sa.or_(
                        jobs_table.c.ticket_id == ticket_id.upper(),
                        jobs_table.c.ticket == ticket_id.upper(),
                    ),
                    jobs_table.c.status.in_(_CANCELLABLE),
                )
                .values(status=CANCELLED, last_error=reason[:500], claimed_until=0.0)
            )
        return bool(result.rowcount)

    def claim(self, ticket_id: str, now: float, lease_s: float) -> SurveyJob | None:
        """Take the lease on one due job, or None when another process holds it."""
        token = uuid.uuid4().hex
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == ticket_id,
                    jobs_table.c.status == SCHEDULED,
                    jobs_table.c.due_at <= now,  # not one another gateway just put off
                    jobs_table.c.claimed_until < now,
                )
                .values(claimed_until=now + lease_s, claim_token=token)
            )
        if result.rowcount != 1:
            return None
        job = self.get(ticket_id)
        return job if job.claim_token == token and job.status == SCHEDULED else None

    def claim_next(
        self, now: float, lease_s: float = 120.0, candidates: int = 10
    ) -> SurveyJob | None:
        """Claim the oldest due scheduled job, or None when nothing is due (or all are taken).

        One job at a time, right before it is worked: a lease taken for a whole batch
        would run out while earlier jobs are delivered, and another gateway would
        deliver the later ones a second time.  ``candidates`` ids are tried in order so
        that losing the race for the oldest one to another gateway is not "nothing due".
        """
        ids = self._ready_ids(
            jobs_table.c.status == SCHEDULED,
            jobs_table.c.due_at <= now,
            jobs_table.c.claimed_until < now,
            order_by=jobs_table.c.due_at,
            limit=candidates,
        )
        return _first(self.claim(ticket_id, now, lease_s) for ticket_id in ids)

    def _ready_ids(self, *conditions: Any, order_by: Any, limit: int) -> list[str]:
        """Ticket ids of the rows meeting ``conditions``, oldest ``order_by`` first.

        Only a candidate list: each id is then claimed with a conditional update,
        which is what makes two schedulers never take the same job.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.ticket_id).where(*conditions).order_by(order_by).limit(limit)
            )
            return [str(r[0]) for r in rows]

    def _update_claimed(self, job: SurveyJob, **values: Any) -> bool:
        """Update a job only while we still hold its claim (lost lease → no-op)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == job.ticket_id,
                    jobs_table.c.claim_token == job.claim_token,
                    jobs_table.c.status == SCHEDULED,
                )
                .values(claimed_until=0.0, **values)
            )
        return bool(result.rowcount)

    def release(self, job: SurveyJob) -> bool:
        """Give a claimed, untouched job back (the gateway is stopping)."""
        return self._update_claimed(job)

    def mark_sent(self, job: SurveyJob, now: float) -> bool:
        return self._update_claimed(
            job, status=SENT, attempts=job.attempts + 1, sent_at=now, last_error=None
        )

    def mark_retry(self, job: SurveyJob, error: str, due_at: float, count: bool = True) -> bool:
        """Back to the queue at ``due_at``; ``count`` = this was a real attempt."""
        return self._update_claimed(
            job,
            attempts=job.attempts + (1 if count else 0),
            due_at=due_at,
            last_error=error[:500],
        )

    def mark_failed(self, job: SurveyJob, error: str) -> bool:
        return self._update_claimed(
            job, status=FAILED, attempts=job.attempts + 1, last_error=error[:500]
        )

    def reschedule(self, ticket_id: str, due_at: float, max_attempts: int) -> SurveyJob:
        """The resident asked to be called later: back to ``scheduled`` (or failed when out of tries)."""
        job = self.get(ticket_id)
        status = FAILED if job.attempts >= max_attempts else SCHEDULED
        with self.engine.begin() as conn:
            conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == job.ticket_id,
                    jobs_table.c.status.in_([SENT, SCHEDULED]),
                )
                .values(status=status, due_at=due_at, claimed_until=0.0, last_error="稍后再访")
            )
        return self.get(ticket_id)

    def record_answers(self, ticket_id: str, answers: SurveyAnswers, now: float) -> SurveyJob:
        """Store the resident's answers (status ``answered``) and queue their post-back.

        Only once per job: a job already answered (or cancelled by a reopen, or opted
        out) is left as it is, so a repeated submit never posts twice.  A late answer to
        a job given up as ``unanswered``/``failed`` is still taken.
        """
        with self.engine.begin() as conn:
            conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == ticket_id.upper(),
                    jobs_table.c.status.notin_([ANSWERED, CANCELLED, OPTED_OUT]),
                )
                .values(
                    status=ANSWERED,
                    # An answer can beat the runner's own "sent" mark (a Telegram button
                    # pressed at once); an answered survey was delivered at least once.
                    attempts=sa.case((jobs_table.c.attempts < 1, 1), else_=jobs_table.c.attempts),
                    answered_at=now,
                    contacted=answers.contacted,
                    resolved=answers.resolved,
                    satisfaction=answers.satisfaction,
                    reason=(answers.reason or None) and answers.reason[:2000],
                    claimed_until=0.0,
                    postback=POSTBACK_PENDING,
                    postback_attempts=0,
                    postback_due_at=now,
                    postback_claimed_until=0.0,
                )
            )
        return self.get(ticket_id)

    def expire_unanswered(
        self, cutoff: float, max_attempts: int, next_due: Callable[[int], float]
    ) -> tuple[list[str], list[str]]:
        """Surveys delivered before ``cutoff`` and never answered: send again, or give up.

        A job with attempts left goes back to ``scheduled`` at ``next_due(attempts)``;
        one without becomes ``unanswered``.  Each row is changed only while it is still
        the same ``sent`` delivery, so gateways sweeping together act once.

        Returns:
            (ticket ids rescheduled, ticket ids given up).
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.ticket_id, jobs_table.c.attempts, jobs_table.c.sent_at)
                .where(jobs_table.c.status == SENT, jobs_table.c.sent_at < cutoff)
                .order_by(jobs_table.c.sent_at)
            ).all()
        again: list[str] = []
        given_up: list[str] = []
        for ticket_id, attempts, sent_at in rows:
            last = attempts >= max_attempts
            values: dict[str, Any] = (
                {"status": UNANSWERED}
                if last
                else {"status": SCHEDULED, "due_at": next_due(attempts), "claimed_until": 0.0}
            )
            with self.engine.begin() as conn:
                result = conn.execute(
                    jobs_table.update()
                    .where(
                        jobs_table.c.ticket_id == ticket_id,
                        jobs_table.c.status == SENT,
                        jobs_table.c.sent_at == sent_at,
                    )
                    .values(last_error="没有应答", **values)
                )
            if result.rowcount == 1:
                (given_up if last else again).append(str(ticket_id))
        return again, given_up

    # -- post-back of answers ---------------------------------------------------
    def claim_postback(self, ticket_id: str, now: float, lease_s: float) -> SurveyJob | None:
        """Take the lease on a pending post-back, or None when it is not ours to post.

        The attempt is counted here, with the lease, not after the POST: a process
        killed (or cancelled, or failing to write ``done``) after the POST leaves the
        count above zero, so whoever claims the row next reads the ticket before
        posting again.  ``postback_attempts`` of the returned job includes this one.
        """
        token = uuid.uuid4().hex
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == ticket_id.upper(),
                    jobs_table.c.postback == POSTBACK_PENDING,
                    jobs_table.c.postback_claimed_until < now,
                )
                .values(
                    postback_claimed_until=now + lease_s,
                    postback_token=token,
                    postback_attempts=jobs_table.c.postback_attempts + 1,
                )
            )
        if result.rowcount != 1:
            return None
        job = self.get(ticket_id)
        return job if job.postback_token == token and job.postback == POSTBACK_PENDING else None

    def claim_next_postback(
        self, now: float, lease_s: float = 60.0, candidates: int = 10
    ) -> SurveyJob | None:
        """Claim the post-back whose retry time came first, or None.

        One at a time, right before it is posted, for the reason given in
        :meth:`claim_next`.
        """
        ids = self._ready_ids(
            jobs_table.c.postback == POSTBACK_PENDING,
            jobs_table.c.postback_due_at <= now,
            jobs_table.c.postback_claimed_until < now,
            order_by=jobs_table.c.postback_due_at,
            limit=candidates,
        )
        return _first(self.claim_postback(ticket_id, now, lease_s) for ticket_id in ids)

    def _update_postback(self, job: SurveyJob, **values: Any) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.ticket_id == job.ticket_id,
                    jobs_table.c.postback == POSTBACK_PENDING,
                    jobs_table.c.postback_token == job.postback_token,
                )
                .values(postback_claimed_until=0.0, **values)
            )
        return bool(result.rowcount)

    # The attempt was counted by claim_postback; the marks below only settle it.
    def mark_posted(self, job: SurveyJob) -> bool:
        """The ticket carries the answers; never posted again."""
        return self._update_postback(job, postback=POSTBACK_DONE, postback_error=None)

    def mark_postback_retry(self, job: SurveyJob, error: str, due_at: float) -> bool:
        return self._update_postback(job, postback_due_at=due_at, postback_error=error[:500])

    def mark_postback_rejected(self, job: SurveyJob, error: str) -> bool:
        """The backend refused the post-back (4xx): resending the same body cannot help."""
        return self._update_postback(job, postback=POSTBACK_REJECTED, postback_error=error[:500])

    def mark_postback_gave_up(self, job: SurveyJob, error: str) -> bool:
        """Out of post-back attempts: stop retrying (the answers still count in the stats)."""
        return self._update_postback(job, postback=POSTBACK_GAVE_UP, postback_error=error[:500])

    def postback_counts(self) -> dict[str, int]:
        """How many answered jobs wait for / completed their post-back."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.postback, sa.func.count())
                .where(jobs_table.c.postback.is_not(None))
                .group_by(jobs_table.c.postback)
            ).all()
        return {str(k): int(v) for k, v in rows}

    def status_counts(self) -> dict[str, int]:
        """Jobs per status (for operators and the tests' bookkeeping)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.status, sa.func.count()).group_by(jobs_table.c.status)
            ).all()
        return {str(k): int(v) for k, v in rows}

    # -- opt-outs ---------------------------------------------------------------
    def opt_out(self, channel_user: str, now: float) -> int:
        """No more callbacks for this resident; returns how many jobs were stopped."""
        try:
            with self.engine.begin() as conn:
                conn.execute(optouts_table.insert().values(channel_user=channel_user, at=now))
        except IntegrityError:
            pass  # already opted out
        with self.engine.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.channel_user == channel_user,
                    jobs_table.c.status.in_([SCHEDULED, SENT]),
                )
                .values(status=OPTED_OUT, claimed_until=0.0)
            )
        return int(result.rowcount)

    def is_opted_out(self, channel_user: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(optouts_table.c.channel_user).where(
                    optouts_table.c.channel_user == channel_user
                )
            ).first()
        return row is not None

    # -- reporting --------------------------------------------------------------
    def jobs(
        self, resolved_from: float | None = None, resolved_to: float | None = None
    ) -> list[SurveyJob]:
        """All jobs whose ticket was resolved in ``[resolved_from, resolved_to)``."""
        q = sa.select(jobs_table).order_by(jobs_table.c.resolved_at)
        if resolved_from is not None:
            q = q.where(jobs_table.c.resolved_at >= resolved_from)
        if resolved_to is not None:
            q = q.where(jobs_table.c.resolved_at < resolved_to)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(q).mappings().all()]

    def known_ticket_ids(self, ticket_ids: list[str]) -> set[str]:
        if not ticket_ids:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.ticket_id).where(
                    jobs_table.c.ticket_id.in_([t.upper() for t in ticket_ids])
                )
            ).all()
        return {str(r[0]) for r in rows}

    # -- pending web messages ---------------------------------------------------
    def add_pending(
        self, sender_id: str, messages: Sequence[Mapping[str, Any]], now: float
    ) -> None:
        with self.engine.begin() as conn:
            for m in messages:
                conn.execute(
                    pending_table.insert().values(
                        sender_id=sender_id,
                        message=json.dumps(dict(m), ensure_ascii=False),
                        created_at=now,
                    )
                )

    def drop_pending(self, sender_id: str, now: float) -> int:
        """Withdraw survey turns the resident never fetched (a newer delivery replaces them)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                pending_table.update()
                .where(pending_table.c.sender_id == sender_id, pending_table.c.taken_at.is_(None))
                .values(taken_at=now)
            )
        return int(result.rowcount)

    def take_pending(self, sender_id: str, now: float) -> list[dict[str, Any]]:
        """Bot messages waiting for a web resident, oldest first; each is returned once."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(pending_table.c.id, pending_table.c.message)
                .where(pending_table.c.sender_id == sender_id, pending_table.c.taken_at.is_(None))
                .order_by(pending_table.c.id)
            ).all()
            taken = []
            for row_id, message in rows:
                result = conn.execute(
                    pending_table.update()
                    .where(pending_table.c.id == row_id, pending_table.c.taken_at.is_(None))
                    .values(taken_at=now)
                )
                if result.rowcount == 1:
                    taken.append(json.loads(message))
        return taken
