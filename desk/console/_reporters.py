"""Co-reporters and merge/split as the console sees them — the one place to wire the store.

Duplicate joining (co-reporters on a ticket) and staff merge/split are the desk store's
business (issue 14, part 1).  The console only needs:

* :func:`reporters_of` — everyone who reported a ticket.  It uses the ticket's
  ``reporters`` (a list of dicts with ``name``/``phone``/``channel``/``text``/``at``) when
  the store provides one (an attribute of :class:`desk.store.Ticket` or
  ``attributes["reporters"]``), else the ticket's own contact as its only reporter;
* a :class:`MergeSplit` — two synchronous calls the console runs in a thread.  Until the
  store offers them the console shows the merge/split forms disabled, and their routes
  answer 501.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from desk.store import Ticket

__all__ = ["MergeSplit", "Reporter", "reporters_of"]


@dataclass(frozen=True)
class Reporter:
    """One resident who reported the problem."""

    name: str
    phone: str
    channel: str
    text: str
    at: str


class MergeSplit(Protocol):
    """What the store must offer for the console's merge and split buttons."""

    def merge(self, source_id: str, into_id: str, actor: str) -> Ticket:
        """Join ticket ``source_id`` into ``into_id`` (its reporters and words kept)."""

    def split(self, ticket_id: str, reporter_index: int, actor: str) -> Ticket:
        """Move reporter ``reporter_index`` of ``ticket_id`` out to a new ticket; return it."""


def _as_list(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return []
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []


def reporters_of(ticket: Ticket) -> list[Reporter]:
    """Every reporter of ``ticket``, the first one first."""
    listed = _as_list(getattr(ticket, "reporters", None) or ticket.attributes.get("reporters"))
    if listed:
        return [
            Reporter(
                name=str(r.get("name") or f"{r.get('last_name') or ''}{r.get('first_name') or ''}"),
                phone=str(r.get("phone") or ""),
                channel=str(r.get("channel") or ""),
                text=str(r.get("text") or r.get("description") or ""),
                at=str(r.get("at") or ""),
            )
            for r in listed
        ]
    return [
        Reporter(
            name=f"{ticket.last_name or ''}{ticket.first_name or ''}",
            phone=ticket.phone or "",
            channel=str(ticket.attributes.get("channel") or ""),
            text=ticket.description,
            at=str(ticket.history[0]["at"]) if ticket.history else "",
        )
    ]
