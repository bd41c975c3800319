"""The staff console of the embedded desk, served by the gateway at ``/desk/``."""

from desk.console._app import COOKIE, PREFIX, Console
from desk.console._listing import PAGE_SIZE, ListPage, TicketFilter, list_tickets
from desk.console._reporters import MergeSplit, Reporter, reporters_of
from desk.console._sessions import Session, SessionStore
from desk.console._transcript import Turn, read_transcript

__all__ = [
    "COOKIE",
    "PAGE_SIZE",
    "PREFIX",
    "Console",
    "ListPage",
    "MergeSplit",
    "Reporter",
    "Session",
    "SessionStore",
    "TicketFilter",
    "Turn",
    "list_tickets",
    "read_transcript",
    "reporters_of",
]
