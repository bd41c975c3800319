"""Resident messages that arrived while Rasa was down, kept in SQL until Rasa takes them.

When Rasa does not answer, the web and Telegram channels reply the busy message and
:class:`HeldTurns` keeps the resident's words (SQLite or PostgreSQL, the outbox's
database), so a crash of Rasa — or of the gateway itself — loses nothing:

* the resident's next message first replays what is held for that sender, in order,
  then sends the new one (the same words sent again are not sent twice);
* a background task (:func:`replay_loop`) replays held turns as soon as Rasa is ready;
  the answers are pushed to the resident's channel (Telegram) or kept for the web page,
  which fetches them with ``GET /api/chat/pending`` or gets them with its next reply.

Turns of one sender are serialised by :attr:`HeldTurns.locks`, so Rasa sees them in the
order the resident wrote them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from aiohttp import web

from bot.gateway.rasa_client import BotMessage, RasaUnavailable
from hotline.channels import Channel, channel_of_sender
from tickets.db import make_engine

__all__ = [
    "GAVE_UP_REPLY",
    "HELD_TURNS",
    "MAX_REPLAY_ATTEMPTS",
    "Deliver",
    "HeldTurn",
    "HeldTurns",
    "SenderLocks",
    "StackDown",
    "TurnSender",
    "push_parked",
    "replay_held",
    "replay_loop",
    "replay_round",
    "send_once",
]

log = logging.getLogger("jiesu.held_turns")

_meta = sa.MetaData()
held_table = sa.Table(
    "held_turns",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(160), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # Set when Rasa took the turn; ``answers`` then holds replies not yet delivered.
    sa.Column("replayed_at", sa.Float, nullable=True, index=True),
    sa.Column("answers", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
    # The answers go out by a push channel (Telegram): the replay task retries them.
    sa.Column("push", sa.Boolean, nullable=False, default=False),
    # Replays that failed while Rasa was up (the turn itself makes it fail).
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    # The send timed out (or the connection broke) after the request went out: Rasa may
    # have processed it, so the tracker is asked before it is sent again (exactly once).
    sa.Column("uncertain", sa.Boolean, nullable=False, default=False),
    # When the last failed replay was (the next waits 1, 2, 4, 8 s: a restarting database
    # or action server must not use up the tries in a few seconds).
    sa.Column("failed_at", sa.Float, nullable=True),
)

#: Replays of one turn that may fail while Rasa answers others; then the resident is told.
MAX_REPLAY_ATTEMPTS = 5
GAVE_UP_REPLY = "抱歉，您刚才的这条消息系统没能处理。请换个说法再发一次，或直接拨打12345。"


@dataclass(frozen=True)
class HeldTurn:
    """One resident message Rasa has not processed yet."""

    id: int
    sender_id: str
    text: str
    metadata: dict[str, Any]
    created_at: float
    uncertain: bool = False
    attempts: int = 0
    failed_at: float | None = None

    def due(self, now: float) -> bool:
        """May be tried now: never failed, or its backoff after the last failure is over."""
        if not self.attempts or self.failed_at is None:
            return True
        return now >= self.failed_at + min(30.0, 2.0 ** (self.attempts - 1))


class SenderLocks:
    """One :class:`asyncio.Lock` per sender, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, sender: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(sender, asyncio.Lock())
        self._users[sender] = self._users.get(sender, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[sender] -= 1
            if self._users[sender] == 0:
                del self._users[sender]
                del self._locks[sender]


class HeldTurns:
    """The durable store of held turns (blocking methods: call them in a thread)."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url)
        _meta.create_all(self.engine)
        self.locks = SenderLocks()
        # Turns replayed by the background task so far (tests and /healthz watch it).
        self.background_replays = 0
        self._replayed = asyncio.Condition()

    async def note_background_replay(self) -> None:
        async with self._replayed:
            self.background_replays += 1
            self._replayed.notify_all()

    async def wait_background_replays(self, count: int) -> None:
        """Return once the background task has replayed ``count`` turns in all."""
        async with self._replayed:
            await self._replayed.wait_for(lambda: self.background_replays >= count)

    def close(self) -> None:
        self.engine.dispose()

    def hold(
        self,
        sender_id: str,
        text: str,
        metadata: dict[str, Any],
        now: float,
        uncertain: bool = False,
    ) -> int:
        """Keep one message for ``sender_id``; returns its id.

        ``uncertain``: Rasa may have processed it already (see :func:`send_once`).
        """
        with self.engine.begin() as conn:
            result = conn.execute(
                held_table.insert().values(
                    sender_id=sender_id,
                    text=text,
                    metadata=json.dumps(metadata, ensure_ascii=False, default=str),
                    created_at=now,
                    uncertain=uncertain,
                )
            )
        return int(result.inserted_primary_key[0])

    def waiting(self, sender_id: str) -> list[HeldTurn]:
        """Turns of ``sender_id`` Rasa has not taken, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(held_table)
                .where(held_table.c.sender_id == sender_id, held_table.c.replayed_at.is_(None))
                .order_by(held_table.c.id)
            ).all()
        return [
            HeldTurn(
                r.id,
                r.sender_id,
                r.text,
                json.loads(r.metadata),
                r.created_at,
                bool(r.uncertain),
                int(r.attempts or 0),
                r.failed_at,
            )
            for r in rows
        ]

    def senders_waiting(self, limit: int = 500) -> list[str]:
        """Senders with turns to replay, the longest waiting first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(held_table.c.sender_id, sa.func.min(held_table.c.id).label("first"))
                .where(held_table.c.replayed_at.is_(None))
                .group_by(held_table.c.sender_id)
                .order_by("first")
                .limit(limit)
            ).all()
        return [str(r[0]) for r in rows]

    def replayed(
        self,
        turn_id: int,
        answers: Sequence[BotMessage] | None,
        now: float,
        push: bool = False,
    ) -> None:
        """Rasa took the turn; ``answers`` are kept when they still have to be delivered."""
        values: dict[str, Any] = {"replayed_at": now}
        if answers:
            values["answers"] = json.dumps(list(answers), ensure_ascii=False)
            values["push"] = push
        else:
            values["delivered_at"] = now
        with self.engine.begin() as conn:
            conn.execute(held_table.update().where(held_table.c.id == turn_id).values(**values))

    def failed(self, turn_id: int) -> int:
        """Count one failed replay of ``turn_id``; how many there were."""
        with self.engine.begin() as conn:
            conn.execute(
                held_table.update()
                .where(held_table.c.id == turn_id)
                .values(attempts=held_table.c.attempts + 1, failed_at=time.time())
            )
            return int(
                conn.execute(
                    sa.select(held_table.c.attempts).where(held_table.c.id == turn_id)
                ).scalar_one()
            )

    def park(self, sender_id: str, answers: Sequence[BotMessage], now: float) -> None:
        """Keep replies a push channel could not deliver; the replay task sends them later."""
        with self.engine.begin() as conn:
            conn.execute(
                held_table.insert().values(
                    sender_id=sender_id,
                    text="",
                    metadata="{}",
                    created_at=now,
                    replayed_at=now,
                    answers=json.dumps(list(answers), ensure_ascii=False),
                    push=True,
                )
            )

    def senders_to_push(self, limit: int = 500) -> list[str]:
        """Senders with undelivered answers for a push channel, the oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(held_table.c.sender_id, sa.func.min(held_table.c.id).label("first"))
                .where(
                    held_table.c.push.is_(True),
                    held_table.c.answers.is_not(None),
                    held_table.c.delivered_at.is_(None),
                )
                .group_by(held_table.c.sender_id)
                .order_by("first")
                .limit(limit)
            ).all()
        return [str(r[0]) for r in rows]

    def take_answers(self, sender_id: str, now: float) -> list[BotMessage]:
        """Replies to replayed turns not delivered yet, oldest first; each returned once."""
        out: list[BotMessage] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(held_table.c.id, held_table.c.answers)
                .where(
                    held_table.c.sender_id == sender_id,
                    held_table.c.answers.is_not(None),
                    held_table.c.delivered_at.is_(None),
                )
                .order_by(held_table.c.id)
            ).all()
            for row_id, answers in rows:
                result = conn.execute(
                    held_table.update()
                    .where(held_table.c.id == row_id, held_table.c.delivered_at.is_(None))
                    .values(delivered_at=now)
                )
                if result.rowcount == 1:
                    out.extend(json.loads(answers))
        return out

    def counts(self) -> dict[str, int]:
        """``waiting`` (not replayed) and ``undelivered`` (answers not yet delivered)."""
        with self.engine.connect() as conn:
            waiting = conn.execute(
                sa.select(sa.func.count()).where(held_table.c.replayed_at.is_(None))
            ).scalar_one()
            undelivered = conn.execute(
                sa.select(sa.func.count()).where(
                    held_table.c.answers.is_not(None), held_table.c.delivered_at.is_(None)
                )
            ).scalar_one()
        return {"waiting": int(waiting), "undelivered": int(undelivered)}


HELD_TURNS = web.AppKey("held_turns", HeldTurns)


#: How far before the hold a turn Rasa took late may be in the tracker (the send's timeout
#: started before the hold; Rasa stamps the user event when the turn starts).
UNCERTAIN_WINDOW_S = 300.0


async def send_once(rasa: TurnSender, sender: str, turn: HeldTurn) -> list[BotMessage]:
    """Send a held turn, unless Rasa already processed it (then its replies from the tracker).

    Only an ``uncertain`` turn (its first send timed out after the request went out) is
    looked up: a turn Rasa refused was never processed.
    """
    if turn.uncertain:
        done = await rasa.processed_since(sender, turn.text, turn.created_at - UNCERTAIN_WINDOW_S)
        if done is not None:
            log.info("held turn %s of %s was processed before; not sent again", turn.id, sender)
            return done
    return await rasa.send(sender, turn.text, turn.metadata)


async def replay_held(
    held: HeldTurns, rasa: TurnSender, sender: str, turns: Sequence[HeldTurn]
) -> list[BotMessage]:
    """Send ``turns`` to Rasa in order (caller holds the sender's lock); their replies.

    Each turn is marked replayed as soon as Rasa answered it, so a failure half-way
    keeps only the rest.

    Raises:
        RasaUnavailable: Rasa stopped answering; the remaining turns stay held.
    """
    out: list[BotMessage] = []
    for turn in turns:
        replies = await send_once(rasa, sender, turn)
        await asyncio.to_thread(held.replayed, turn.id, None, time.time())
        log.info("replayed held turn %s of %s (%d replies)", turn.id, sender, len(replies))
        out.extend(replies)
    return out


class StackDown(RasaUnavailable):
    """Rasa could not take the turn because part of the stack is down (not the turn's
    fault: the replay waits and does not count an attempt)."""


class TurnSender(Protocol):
    """What replays need from Rasa (``RasaClient``, or one that also checks the actions)."""

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]: ...

    async def processed_since(
        self, sender: str, text: str, since: float
    ) -> list[BotMessage] | None: ...

    async def ready(self) -> bool: ...


#: Pushes replies to a sender's channel; False when they must wait (web page, channel down).
Deliver = Callable[[str, list[BotMessage]], Awaitable[bool]]


async def push_parked(held: HeldTurns, deliver: Deliver) -> int:
    """Send again the replies a push channel could not deliver; how many senders got theirs."""
    done = 0
    for sender in await asyncio.to_thread(held.senders_to_push):
        async with held.locks.hold(sender):
            answers = await asyncio.to_thread(held.take_answers, sender, time.time())
            if not answers:
                continue
            if await deliver(sender, answers):
                done += 1
                log.info("delivered %d parked replies to %s", len(answers), sender)
            else:
                await asyncio.to_thread(held.park, sender, answers, time.time())
    return done


async def replay_round(held: HeldTurns, rasa: TurnSender, deliver: Deliver) -> int:
    """Replay every waiting sender once Rasa is ready; the number of turns replayed."""
    await push_parked(held, deliver)
    senders = await asyncio.to_thread(held.senders_waiting)
    if not senders or not await rasa.ready():
        return 0
    done = 0
    for sender in senders:
        async with held.locks.hold(sender):
            turns = await asyncio.to_thread(held.waiting, sender)
            for turn in turns:
                if not turn.due(time.time()):
                    break  # backing off after a failure; this sender's later turns wait too
                try:
                    replies = await send_once(rasa, sender, turn)
                except RasaUnavailable as exc:
                    if isinstance(exc, StackDown) or not await rasa.ready():
                        log.info("replay paused, Rasa unavailable: %s", exc)
                        return done
                    # Rasa is up but fails on this turn: count it, let the others go on.
                    tries = await asyncio.to_thread(held.failed, turn.id)
                    if tries < MAX_REPLAY_ATTEMPTS:
                        log.warning(
                            "held turn %s of %s failed (%d): %s", turn.id, sender, tries, exc
                        )
                        break  # this sender's later turns wait behind it
                    log.error("giving up held turn %s of %s after %d tries", turn.id, sender, tries)
                    replies = [{"text": GAVE_UP_REPLY}]
                delivered = bool(replies) and await deliver(sender, replies)
                await asyncio.to_thread(
                    held.replayed,
                    turn.id,
                    None if delivered else replies,
                    time.time(),
                    channel_of_sender(sender) is not Channel.WEB,
                )
                done += 1
                await held.note_background_replay()
                log.info("replayed held turn %s of %s in the background", turn.id, sender)
    return done


async def replay_loop(held: HeldTurns, rasa: TurnSender, deliver: Deliver, every_s: float) -> None:
    """Run :func:`replay_round` every ``every_s`` seconds until cancelled."""
    while True:
        try:
            await replay_round(held, rasa, deliver)
        except Exception:  # a bad round must not end the loop
            log.exception("replay of held turns failed")
        await asyncio.sleep(every_s)
