"""A ticket's conversation, read from Rasa's SQL tracker store (table ``events``).

Tickets record the conversation's sender id in ``attributes["conversation_id"]``
(``web:…``, ``tg:…``, ``tel:…``).  The console only reads the table Rasa writes, with its
own engine, and never imports Rasa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["Turn", "read_transcript"]

MAX_EVENTS = 2000
_events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)


@dataclass(frozen=True)
class Turn:
    """One message of the conversation: ``who`` is ``resident`` or ``bot``."""

    who: str
    text: str
    at: float | None


def read_transcript(engine: Engine | None, sender_id: str) -> list[Turn] | None:
    """Resident and bot messages in order; None when the tracker store cannot be read."""
    if engine is None or not sender_id:
        return None
    q = (
        sa.select(_events.c.type_name, _events.c.timestamp, _events.c.data)
        .where(_events.c.sender_id == sender_id, _events.c.type_name.in_(("user", "bot")))
        .order_by(_events.c.id)
        .limit(MAX_EVENTS)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(q).all()
    except SQLAlchemyError:
        return None
    turns = []
    for type_name, ts, data in rows:
        try:
            event = json.loads(data or "{}")
        except json.JSONDecodeError:
            continue
        text = str(event.get("text") or "")
        buttons = event.get("data", {}).get("buttons") if type_name == "bot" else None
        if buttons:
            text += "  [" + " | ".join(str(b.get("title", "")) for b in buttons) + "]"
        if text:
            turns.append(Turn("resident" if type_name == "user" else "bot", text, ts))
    return turns
