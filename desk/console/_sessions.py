"""Staff sign-in sessions of the console, held server-side in the desk database.

The cookie carries a random token; the database keeps only its SHA-256, the session's
CSRF token and its expiry, so any gateway on the same desk database knows the session,
a restart keeps it, and signing out ends it everywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["SESSION_TTL_S", "Session", "SessionStore", "keys_match"]

SESSION_TTL_S = 12 * 3600

_metadata = sa.MetaData()
sessions_table = sa.Table(
    "desk_console_sessions",
    _metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)


def keys_match(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted key with the desk key."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    expires_at: float

    def csrf_ok(self, submitted: str) -> bool:
        return bool(submitted) and hmac.compare_digest(submitted.encode(), self.csrf.encode())


class SessionStore:
    """Synchronous; call from a thread in async code."""

    def __init__(self, engine: Engine, ttl_s: float = SESSION_TTL_S):
        self.engine = engine
        self.ttl_s = ttl_s
        _metadata.create_all(engine)

    def create(self, now: float | None = None) -> Session:
        now = time.time() if now is None else now
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24), now + self.ttl_s)
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_at < now))
            conn.execute(
                sessions_table.insert().values(
                    token_hash=_hash(session.token),
                    csrf=session.csrf,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return session

    def get(self, token: str, now: float | None = None) -> Session | None:
        if not token:
            return None
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions_table.c.csrf, sessions_table.c.expires_at).where(
                    sessions_table.c.token_hash == _hash(token),
                    sessions_table.c.expires_at > now,
                )
            ).first()
        return Session(token, row[0], row[1]) if row else None

    def delete(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.token_hash == _hash(token)))
