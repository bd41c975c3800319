"""Calling hours for the satisfaction callback: pure time arithmetic, no I/O.

Times are POSIX timestamps; the window is local wall-clock time in the
hotline's zone (``JIESU_SURVEY_HOURS=08:00-21:00`` in ``JIESU_TIMEZONE``).  A
window may wrap midnight (``20:00-02:00``); ``00:00-24:00`` is always open.
The clock is passed in by the caller, so tests use fixed timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

__all__ = ["CallingHours", "parse_hours", "retry_due"]

DAY_S = 86_400
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class CallingHours:
    """The daily window ``[start_s, end_s)`` in seconds after local midnight."""

    start_s: int
    end_s: int
    tz: tzinfo

    @property
    def always_open(self) -> bool:
        return self.start_s == 0 and self.end_s >= DAY_S

    def _second_of_day(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return (local - midnight).total_seconds()

    def is_open(self, ts: float) -> bool:
        """True when ``ts`` falls inside the calling window."""
        if self.always_open:
            return True
        sod = self._second_of_day(ts)
        if self.start_s < self.end_s:
            return self.start_s <= sod < self.end_s
        return sod >= self.start_s or sod < self.end_s  # wraps midnight

    def next_open(self, ts: float) -> float:
        """``ts`` itself when inside the window, else the next window opening."""
        if self.is_open(ts):
            return ts
        sod = self._second_of_day(ts)
        wait = (self.start_s - sod) % DAY_S
        local = datetime.fromtimestamp(ts, self.tz) + timedelta(seconds=wait)
        # Land exactly on the opening minute even across a UTC-offset change.
        opening = local.replace(
            hour=self.start_s // 3600, minute=(self.start_s % 3600) // 60, second=0, microsecond=0
        )
        return opening.timestamp()


def parse_hours(text: str, tz: tzinfo) -> CallingHours:
    """Parse ``HH:MM-HH:MM`` (``24:00`` allowed as an end).

    Raises:
        ValueError: Not that shape, or a time out of range, or an empty window.
    """
    match = _HOURS_RE.match(text)
    if not match:
        raise ValueError(f"calling hours must look like 08:00-21:00, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"calling hours out of range: {text!r}")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start == end:
        raise ValueError(f"calling hours window is empty: {text!r}")
    return CallingHours(start, end, tz)


def retry_due(hours: CallingHours, now: float, attempts: int, spacing_s: float) -> float:
    """When to try again after ``attempts`` tries: spacing grows linearly, inside the window."""
    return hours.next_open(now + spacing_s * max(1, attempts))
