"""Ticket-number extraction ("BJ20261125-000123", "JS-…")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._digits import DIGIT_CHARS, to_ascii_digits
from ._normalize import normalize_text
from ._settings import ticket_prefixes

__all__ = ["TicketSpan", "extract_ticket_ids", "find_ticket_ids"]

_SEP = r"[\s\-_－—·.]*"
_LOCAL = re.compile(r"(?<![A-Za-z])JS\s*[-_－—]\s*([A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)", re.I)


@dataclass(frozen=True)
class TicketSpan:
    """A ticket number found in normalised text.

    Attributes:
        value: Normalised ticket id.
        start: Start offset.
        end: End offset (exclusive).
    """

    value: str
    start: int
    end: int


def _compile(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    digit = f"[{DIGIT_CHARS}]"
    body = f"{digit}(?:{_SEP}{digit}){{13}}"
    return re.compile(rf"(?<![A-Za-z])({alt}){_SEP}({body})(?!\d)", re.I)


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _pattern() -> re.Pattern[str]:
    prefixes = ticket_prefixes()
    pat = _PATTERNS.get(prefixes)
    if pat is None:
        pat = _compile(prefixes)
        _PATTERNS[prefixes] = pat  # benign race: same value either way
    return pat


def find_ticket_ids(text: str) -> list[TicketSpan]:
    """Find ticket ids with offsets in normalised text.

    Args:
        text: Normalised text.

    Returns:
        Ticket spans in text order, without duplicates.
    """
    spans: list[TicketSpan] = []
    for m in _pattern().finditer(text):
        digits = to_ascii_digits(m.group(2))
        spans.append(TicketSpan(f"{m.group(1).upper()}{digits[:8]}-{digits[8:]}", *m.span()))
    for m in _LOCAL.finditer(text):
        spans.append(TicketSpan(f"JS-{m.group(1).upper()}", *m.span()))
    spans.sort(key=lambda s: s.start)
    seen: set[str] = set()
    unique = []
    for s in spans:
        if s.value not in seen:
            seen.add(s.value)
            unique.append(s)
    return unique


def extract_ticket_ids(text: str) -> list[str]:
    """Extract ticket numbers such as "BJ20261125-000123" or local "JS-…" references.

    The city prefix comes from ``JIESU_TICKET_PREFIX`` (default ``BJ``; several may
    be given comma-separated). Matching is case-insensitive and tolerates spaces or
    dashes between digits and digits spoken in characters.

    Args:
        text: The utterance.

    Returns:
        Normalised ticket ids (upper case, "PREFIXyyyymmdd-nnnnnn") in order.
    """
    return [s.value for s in find_ticket_ids(normalize_text(text))]
