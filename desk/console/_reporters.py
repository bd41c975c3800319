"""Co-reporters and merge/split as the console sees them — the one place the store is wired.

* :func:`reporters_of` — everyone who reported a ticket: its filer (the ticket's own
  contact and words), then its co-reporters (:attr:`desk.store.Ticket.co_reporters`,
  joined at intake or by a merge, :mod:`desk.coreporters`);
* :class:`MergeSplit` — the two synchronous calls behind the console's merge and split
  buttons, run in a thread; :class:`StoreMergeSplit` is the desk store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from desk.api import DeskApi
from desk.coreporters import merge, split
from desk.store import Ticket

__all__ = ["MergeSplit", "Reporter", "StoreMergeSplit", "reporters_of"]


@dataclass(frozen=True)
class Reporter:
    """One resident who reported the problem."""

    name: str
    phone: str
    channel: str
    text: str
    at: str
    #: The co-reporter's row (``None`` for the filer, who cannot be split off).
    reporter_id: int | None = None


class MergeSplit(Protocol):
    """What the store must offer for the console's merge and split buttons."""

    def merge(self, source_id: str, into_id: str, actor: str) -> Ticket:
        """Join ticket ``source_id`` into ``into_id`` (its reporters and words kept)."""

    def split(self, ticket_id: str, reporter_id: int, actor: str) -> Ticket:
        """Give co-reporter ``reporter_id`` of ``ticket_id`` a ticket of their own; return it."""


class StoreMergeSplit:
    """:class:`MergeSplit` on the embedded desk's store (:mod:`desk.coreporters`).

    Reads the store from the desk API at each call (the gateway opens it at start-up).
    """

    def __init__(self, desk_api: DeskApi) -> None:
        self.desk_api = desk_api

    def merge(self, source_id: str, into_id: str, actor: str) -> Ticket:
        return merge(self.desk_api.store, into_id, source_id, actor)

    def split(self, ticket_id: str, reporter_id: int, actor: str) -> Ticket:
        return split(self.desk_api.store, ticket_id, reporter_id, actor)


def reporters_of(ticket: Ticket) -> list[Reporter]:
    """Every reporter of ``ticket``: the filer first, then the co-reporters in join order."""
    filer = Reporter(
        name=f"{ticket.last_name or ''}{ticket.first_name or ''}",
        phone=ticket.phone or "",
        channel=str(ticket.attributes.get("channel") or ""),
        text=ticket.description,
        at=str(ticket.history[0]["at"]) if ticket.history else "",
    )
    return [filer] + [
        Reporter(
            name=f"{r.last_name or ''}{r.first_name or ''}",
            phone=r.phone or "",
            channel=str(r.attributes.get("channel") or ""),
            text=r.description,
            at=str(r.added_at),
            reporter_id=r.reporter_id,
        )
        for r in ticket.co_reporters
    ]
