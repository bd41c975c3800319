"""The Telegram channel's durable state: what must survive a gateway restart.

* long button payloads behind ``#key`` callback data (an old keyboard still works);
* the phone number a resident shared with "share my number";
* keyboards already pressed (a second press is "已处理", also on another gateway).

Stored with the outbox's engine factory (``tickets/db.py``: SQLite with WAL, or
PostgreSQL for several gateways).  Methods block: call them in a thread.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tickets.db import make_engine

__all__ = ["TelegramState"]

_meta = sa.MetaData()
payloads_table = sa.Table(
    "tg_callback_payloads",
    _meta,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
phones_table = sa.Table(
    "tg_shared_phones",
    _meta,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
used_table = sa.Table(
    "tg_used_keyboards",
    _meta,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("message_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("used_at", sa.Float, nullable=False),
)


class TelegramState:
    """SQL tables of the Telegram channel (see the module docstring)."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url)
        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- button payloads ------------------------------------------------------
    def save_payloads(self, entries: dict[str, str]) -> None:
        """Keep ``key → payload`` (keys are content hashes: an existing key is the same)."""
        now = time.time()
        with self.engine.begin() as conn:
            known = {
                r[0]
                for r in conn.execute(
                    sa.select(payloads_table.c.key).where(payloads_table.c.key.in_(list(entries)))
                )
            }
            for key, payload in entries.items():
                if key in known:
                    continue
                try:
                    with conn.begin_nested():
                        conn.execute(
                            payloads_table.insert().values(key=key, payload=payload, created_at=now)
                        )
                except IntegrityError:  # another gateway stored it meanwhile
                    pass

    def payload(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(payloads_table.c.payload).where(payloads_table.c.key == key)
            ).first()
        return None if row is None else str(row[0])

    # -- shared phone numbers ---------------------------------------------------
    def save_phone(self, chat_id: int, phone: str) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                phones_table.update()
                .where(phones_table.c.chat_id == chat_id)
                .values(phone=phone, updated_at=time.time())
            )
            if updated.rowcount == 0:
                conn.execute(
                    phones_table.insert().values(
                        chat_id=chat_id, phone=phone, updated_at=time.time()
                    )
                )

    def phone(self, chat_id: int) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(phones_table.c.phone).where(phones_table.c.chat_id == chat_id)
            ).first()
        return None if row is None else str(row[0])

    # -- pressed keyboards ------------------------------------------------------
    def mark_used(self, chat_id: int, message_id: int) -> bool:
        """Record a press; False when the keyboard was pressed before (here or elsewhere)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    used_table.insert().values(
                        chat_id=chat_id, message_id=message_id, used_at=time.time()
                    )
                )
        except IntegrityError:
            return False
        return True

    def is_used(self, chat_id: int, message_id: int) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(used_table.c.used_at).where(
                    used_table.c.chat_id == chat_id, used_table.c.message_id == message_id
                )
            ).first()
        return row is not None
