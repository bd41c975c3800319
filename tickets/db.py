"""SQLAlchemy engine factory shared by the outbox and the embedded desk.

One place decides how SQLite is opened (WAL, busy timeout) so that the
gateway and the action server can write to the same file from two
processes, and PostgreSQL URLs work unchanged for multi-instance setups.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["DB_RETRY_S", "in_thread_retrying", "make_engine", "is_sqlite", "utcnow_iso"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a call waits for the database to come back (a PostgreSQL restart takes ~3 s).
DB_RETRY_S = 15.0

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the folder and enable WAL."""
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            future=True,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return sa.create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


def utcnow_iso() -> str:
    """Current UTC time as ISO 8601 with offset (what we store in text columns)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def in_thread_retrying(fn: Callable[..., T], *args: Any, limit_s: float = DB_RETRY_S) -> T:
    """Run the blocking database call ``fn(*args)`` in a thread; while the database is
    unreachable (restarting, failing over), try again with backoff for up to ``limit_s``.

    Only connection-level errors are retried (``OperationalError``/``InterfaceError``: during
    a restart the connection is refused, so the statement never ran).  Use it for reads and
    keyed writes (a retry finds the row the first try stored); an unkeyed insert whose commit
    was lost with its connection could be stored twice.

    Raises:
        sqlalchemy.exc.OperationalError: still unreachable after ``limit_s``.
    """
    delay, waited = 0.2, 0.0
    while True:
        try:
            return await asyncio.to_thread(fn, *args)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if waited >= limit_s:
                raise
            log.warning(
                "database unavailable (%s); again in %.1f s", type(exc.orig).__name__, delay
            )
            await asyncio.sleep(delay)
            waited += delay
            delay = min(2.0, delay * 2)
