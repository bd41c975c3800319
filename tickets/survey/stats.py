"""Survey figures: 回访率, 响应率, 解决率, 满意率 — overall and per category.

Counted over tickets resolved in a date range (hotline time zone):

* ``surveyed``: jobs that were due and tried (sent, answered, unanswered, failed, opted out);
* ``answered``: surveys the resident completed; ``answer_rate`` = answered / surveyed;
* ``response_rate`` (响应率) = contacted / answered;
* ``resolution_rate`` (解决率) = solved / answered;
* ``satisfaction_rate`` (满意率) = (满意 + 基本满意) / answered.

Jobs still scheduled and jobs cancelled by a reopen are not counted.  Pure
functions over :class:`SurveyJob` rows, so tests and the CLI share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from tickets.survey.store import ANSWERED, FAILED, OPTED_OUT, SENT, UNANSWERED, SurveyJob

__all__ = ["Rates", "SurveyStats", "compute_stats", "day_range", "format_stats"]

COUNTED = (SENT, ANSWERED, UNANSWERED, FAILED, OPTED_OUT)


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


@dataclass
class Rates:
    """Counts for one group of tickets."""

    surveyed: int = 0
    answered: int = 0
    contacted: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    unsatisfied: int = 0

    def add(self, job: SurveyJob) -> None:
        if job.status not in COUNTED:
            return
        self.surveyed += 1
        if job.status != ANSWERED:
            return
        a = job.answers
        self.answered += 1
        self.contacted += a.contacted == "yes"
        self.solved += a.resolved == "yes"
        self.satisfied += a.satisfaction == "满意"
        self.basically_satisfied += a.satisfaction == "基本满意"
        self.unsatisfied += a.satisfaction == "不满意"

    def as_dict(self) -> dict[str, Any]:
        return {
            "surveyed": self.surveyed,
            "answered": self.answered,
            "answer_rate": _rate(self.answered, self.surveyed),
            "response_rate": _rate(self.contacted, self.answered),
            "resolution_rate": _rate(self.solved, self.answered),
            "satisfaction_rate": _rate(self.satisfied + self.basically_satisfied, self.answered),
            "satisfied": self.satisfied,
            "basically_satisfied": self.basically_satisfied,
            "unsatisfied": self.unsatisfied,
        }


@dataclass
class SurveyStats:
    overall: Rates = field(default_factory=Rates)
    by_category: dict[str, Rates] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "by_category": {k: v.as_dict() for k, v in sorted(self.by_category.items())},
        }


def compute_stats(jobs: Iterable[SurveyJob]) -> SurveyStats:
    """Rates over ``jobs`` (see the module docstring for the definitions)."""
    stats = SurveyStats()
    for job in jobs:
        stats.overall.add(job)
        if job.status in COUNTED:
            stats.by_category.setdefault(job.category or "其他", Rates()).add(job)
    return stats


def day_range(
    start: date | None, end: date | None, tz: tzinfo
) -> tuple[float | None, float | None]:
    """``[start 00:00, end+1 00:00)`` local time as timestamps (either side open)."""
    lo = datetime.combine(start, time(0), tz).timestamp() if start else None
    hi = datetime.combine(end + timedelta(days=1), time(0), tz).timestamp() if end else None
    return lo, hi


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def format_stats(stats: SurveyStats) -> str:
    """A plain-text table for ``jiesu survey stats``."""
    head = f"{'类别':<10}{'回访':>6}{'完成':>6}{'完成率':>9}{'响应率':>9}{'解决率':>9}{'满意率':>9}"
    lines = [head]
    rows = [("全部", stats.overall), *sorted(stats.by_category.items())]
    for name, r in rows:
        d = r.as_dict()
        lines.append(
            f"{name:<10}{r.surveyed:>6}{r.answered:>6}{_pct(d['answer_rate']):>9}"
            f"{_pct(d['response_rate']):>9}{_pct(d['resolution_rate']):>9}"
            f"{_pct(d['satisfaction_rate']):>9}"
        )
    return "\n".join(lines)
