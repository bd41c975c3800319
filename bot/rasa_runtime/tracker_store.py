"""Rasa's SQL tracker store, without re-reading the whole conversation every turn.

Rasa 3.6's ``SQLTrackerStore`` rebuilds the tracker on every message: it loads every
event of the conversation's latest session, JSON-decodes each and replays them
(``DialogueStateTracker.from_dict``); on save it counts the stored events again to
find the new ones.  py-spy put that at about a third of the Rasa server's CPU per
turn.

``CachedSQLTrackerStore`` keeps the tracker objects it saved in a bounded LRU and
hands the same object back on the next ``retrieve`` — but only after one cheap,
indexed query (``count(id), max(id)`` of the conversation's rows) shows that the
database holds exactly what this process last wrote.  Any other writer (a second
Rasa instance on the same PostgreSQL, a ``PUT /tracker/events``, an admin edit)
changes that pair, and the tracker is then rebuilt from the database the way
Rasa does it.  A tracker that was handed out and changed but not saved (a turn
that failed half-way) is never handed out again.  Rows are written exactly as
Rasa writes them, so the stock store reads this database, and the other way round.
Only trackers holding one session are cached (what Rasa's ``retrieve`` returns), and a
new model's domain (``PUT /model``) drops them.  One visible difference remains: Rasa's
``POST /conversations/<id>/execute`` fetches the tracker twice and, with the cache,
answers with the state after the action rather than before it.

Configure it in ``endpoints.yml`` (``type: bot.rasa_runtime.tracker_store.CachedSQLTrackerStore``,
same ``url`` as the SQL store); ``JIESU_TRACKER_CACHE_SIZE`` sets how many
conversations stay cached (default 2000, ``0`` turns the cache off).
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

__all__ = ["CachedSQLTrackerStore", "DEFAULT_CACHE_SIZE", "MAX_CACHED_EVENTS"]

log = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 2000
# A tracker object keeps the events of every session it lived through; past this
# length it is dropped from the cache and the next turn loads the latest session only.
MAX_CACHED_EVENTS = 2000


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    stored_len: int  # events of ``tracker`` already in the database
    row_count: int  # count(id) of the conversation's rows when last seen
    max_id: int | None  # max(id) of the conversation's rows when last seen
    domain: Any = None  # the domain the tracker's slots were built from


#: How long a tracker read or write waits for the database (a PostgreSQL restart ~3 s).
DB_WAIT_S = 15.0


async def _wait_out_restart(call: Any, what: str) -> Any:
    """Run ``call()`` (a coroutine factory); retry connection errors with backoff.

    Rasa wraps every tracker store in a ``FailSafeTrackerStore`` that, on any error,
    carries on with an *empty in-memory* tracker: during a database restart a resident's
    conversation would silently start again and its answers be lost (seen with
    ``benchmarks/load_scaleout.py --restart-postgres-after``).  Waiting out the restart
    keeps the conversation; after ``DB_WAIT_S`` the error goes to Rasa as before.
    """
    import asyncio

    delay, waited = 0.2, 0.0
    while True:
        try:
            return await call()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if waited >= DB_WAIT_S:
                raise
            log.warning("tracker store: %s failed (%s); again in %.1f s",
                        what, type(exc.orig).__name__, delay)  # fmt: skip
            await asyncio.sleep(delay)
            waited += delay
            delay = min(2.0, delay * 2)


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a verified in-process cache of tracker objects."""

    def __init__(self, *args: Any, cache_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_sqlite_connection_open()
        if cache_size is None:
            cache_size = os.environ.get("JIESU_TRACKER_CACHE_SIZE", DEFAULT_CACHE_SIZE)
        self.cache_size = max(0, int(cache_size))
        self._cache: OrderedDict[str, _Entry] = OrderedDict()

    def _keep_sqlite_connection_open(self) -> None:
        """Pool the SQLite connection instead of opening one per query.

        SQLAlchemy 1.4 gives file SQLite databases a ``NullPool``: every session
        opened, configured and closed its own connection (a tenth of a turn).
        All tracker-store calls run on the server's event-loop thread, one at a
        time, so one pooled connection serves them.
        """
        engine: Any = self.engine  # type: ignore[has-type]
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return
        engine.dispose()
        self.engine = sa.create_engine(
            engine.url,
            poolclass=sa.pool.QueuePool,
            pool_size=1,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # -- the version check --------------------------------------------------------

    def _row_version(self, sender_id: str) -> tuple[int, int | None]:
        """``(count(id), max(id))`` of the conversation's rows: changes on any write."""
        table = self.SQLEvent.__table__
        query = sa.select(sa.func.count(table.c.id), sa.func.max(table.c.id)).where(
            table.c.sender_id == sender_id
        )
        with self.session_scope() as session:
            count, max_id = session.execute(query).one()
        return int(count), max_id

    def _remember(self, sender_id: str, entry: _Entry) -> None:
        """Cache a tracker that looks exactly like the one Rasa would load.

        Rasa loads only the latest session; a tracker object that lived through a
        session start holds the earlier one too (other metadata, another
        ``/story``, and Rasa's own count-based save would mis-slice it).  Such a
        tracker is not kept: the next turn loads the new session from the database.
        """
        sessions = sum(isinstance(event, SessionStarted) for event in entry.tracker.events)
        if self.cache_size == 0 or sessions > 1 or len(entry.tracker.events) > MAX_CACHED_EVENTS:
            self._cache.pop(sender_id, None)
            return
        entry.domain = self.domain
        self._cache[sender_id] = entry
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    # -- TrackerStore API ---------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker, waiting out a database restart (see :func:`_wait_out_restart`)."""
        result: DialogueStateTracker | None = await _wait_out_restart(
            lambda: self._retrieve_cached(sender_id), f"retrieve {sender_id}"
        )
        return result

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every session's events (Rasa's HTTP API), waiting out a database restart."""
        result: DialogueStateTracker | None = await _wait_out_restart(
            lambda: super(CachedSQLTrackerStore, self).retrieve_full_tracker(conversation_id),
            f"retrieve the full tracker of {conversation_id}",
        )
        return result

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker, waiting out a database restart (see :func:`_wait_out_restart`)."""
        await _wait_out_restart(lambda: self._save_cached(tracker), f"save {tracker.sender_id}")

    async def _retrieve_cached(self, sender_id: str) -> DialogueStateTracker | None:
        """The cached tracker when the database still matches it, else Rasa's load."""
        if self.cache_size == 0 or self.event_broker is not None:
            return await super().retrieve(sender_id)
        version = self._row_version(sender_id)
        entry = self._cache.get(sender_id)
        if entry is not None:
            clean = len(entry.tracker.events) == entry.stored_len
            current = (entry.row_count, entry.max_id) == version and entry.domain is self.domain
            if clean and current:
                self._cache.move_to_end(sender_id)
                return entry.tracker
            if clean:  # someone else wrote, or a new model's domain: the object is stale
                self._cache.pop(sender_id, None)
            else:  # handed out and not saved: give this caller its own copy
                return await super().retrieve(sender_id)
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            # ``version`` was read before the load: a write in between makes the
            # next check miss, never makes a stale tracker look current.
            self._remember(sender_id, _Entry(tracker, len(tracker.events), *version))
        return tracker

    async def _save_cached(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events; fall back to Rasa's save when unsure."""
        sender_id = tracker.sender_id
        entry = self._cache.get(sender_id)
        if (
            self.cache_size == 0
            or self.event_broker is not None
            or entry is None
            or entry.tracker is not tracker
            or (entry.row_count, entry.max_id) != self._row_version(sender_id)
        ):
            self._cache.pop(sender_id, None)
            await super().save(tracker)
            return
        new_events = list(tracker.events)[entry.stored_len :]
        max_id = entry.max_id
        with self.session_scope() as session:
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
            session.commit()
        if ids:
            max_id = max(ids) if max_id is None else max(max_id, *ids)
        self._remember(
            sender_id, _Entry(tracker, len(tracker.events), entry.row_count + len(ids), max_id)
        )
        log.debug("tracker %s: %d new events stored", sender_id, len(ids))

    def _row(self, sender_id: str, event: Any) -> Any:
        """One ``events`` row, with exactly the columns ``SQLTrackerStore.save`` fills."""
        import json

        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )
