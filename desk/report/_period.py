"""Report periods: 日筛查 (day), 周派单 (week), 月统计 (month) and their windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from hotline.states import TextEnum

__all__ = ["Period", "Window", "window"]


class Period(TextEnum):
    """How far back a report looks; the previous period is as long, just before it."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def days(self) -> int:
        return {"day": 1, "week": 7, "month": 30}[self.value]


@dataclass(frozen=True)
class Window:
    """``[start, end)`` is the period, ``[prev_start, start)`` the one before (timestamps)."""

    period: Period
    start: float
    end: float
    prev_start: float
    tz: tzinfo

    def label(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M")

    @property
    def title(self) -> str:
        return f"{self.label(self.start)} — {self.label(self.end)}"


def window(period: Period, end: float, tz: tzinfo) -> Window:
    """The ``period`` ending at ``end`` and the one before it."""
    length = timedelta(days=period.days).total_seconds()
    return Window(period, end - length, end, end - 2 * length, tz)
