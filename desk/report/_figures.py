"""The report's figures, computed from a :class:`ReportInput` (pure functions).

The 三率 are :class:`tickets.survey.stats.Rates` — the definitions ``jiesu survey stats``
uses — grouped by responsible unit and by channel instead of by category.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from desk.report._data import UNKNOWN, ReportInput, ReportTicket
from desk.report._period import Window
from desk.report._topics import DEFAULT_THRESHOLD, Topic, rising_topics
from tickets.survey.stats import COUNTED, Rates
from tickets.survey.store import SurveyJob

__all__ = ["OverdueTicket", "Report", "build_report", "rates_by"]

OVERDUE_LISTED = 50


@dataclass(frozen=True)
class OverdueTicket:
    """An unresolved ticket past its promised deadline."""

    service_request_id: str
    category: str
    agency: str
    status: str
    hours_overdue: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_request_id": self.service_request_id,
            "category": self.category,
            "agency": self.agency,
            "status": self.status,
            "hours_overdue": round(self.hours_overdue, 1),
        }


@dataclass
class Report:
    """Every figure of one report."""

    window: Window
    new_tickets: int = 0
    previous_tickets: int = 0
    by_category_district: dict[str, dict[str, int]] = field(default_factory=dict)
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_channel: dict[str, tuple[int, int]] = field(default_factory=dict)
    topics: list[Topic] = field(default_factory=list)
    rates_overall: Rates = field(default_factory=Rates)
    rates_by_agency: dict[str, Rates] = field(default_factory=dict)
    rates_by_channel: dict[str, Rates] = field(default_factory=dict)
    overdue_count: int = 0
    overdue_by_agency: dict[str, int] = field(default_factory=dict)
    overdue: list[OverdueTicket] = field(default_factory=list)
    resolved: int = 0
    resolved_late: int = 0
    resolved_by_agency: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return round(1 - self.resolved_late / self.resolved, 4) if self.resolved else None

    def as_dict(self) -> dict[str, Any]:
        w = self.window
        return {
            "period": str(w.period),
            "from": w.label(w.start),
            "to": w.label(w.end),
            "previous_from": w.label(w.prev_start),
            "new_tickets": self.new_tickets,
            "previous_tickets": self.previous_tickets,
            "by_category_district": self.by_category_district,
            "by_category": {
                k: {"current": c, "previous": p} for k, (c, p) in self.by_category.items()
            },
            "by_channel": {
                k: {"current": c, "previous": p} for k, (c, p) in self.by_channel.items()
            },
            "rising_topics": [t.as_dict() for t in self.topics],
            "rates": {
                "overall": self.rates_overall.as_dict(),
                "by_agency": {k: v.as_dict() for k, v in self.rates_by_agency.items()},
                "by_channel": {k: v.as_dict() for k, v in self.rates_by_channel.items()},
            },
            "overdue": {
                "count": self.overdue_count,
                "by_agency": self.overdue_by_agency,
                "oldest": [o.as_dict() for o in self.overdue],
            },
            "resolved": {
                "count": self.resolved,
                "late": self.resolved_late,
                "on_time_rate": self.on_time_rate,
                "by_agency": {
                    k: {"resolved": n, "late": late}
                    for k, (n, late) in self.resolved_by_agency.items()
                },
            },
        }


def rates_by(jobs: Iterable[SurveyJob], key: Callable[[SurveyJob], str]) -> dict[str, Rates]:
    """The 三率 counts of ``jobs`` grouped by ``key`` (counted jobs only, like the stats)."""
    groups: dict[str, Rates] = {}
    for job in jobs:
        if job.status in COUNTED:
            groups.setdefault(key(job) or UNKNOWN, Rates()).add(job)
    return dict(sorted(groups.items()))


def _current_previous(
    tickets: Iterable[ReportTicket], start: float, key: Callable[[ReportTicket], str]
) -> dict[str, tuple[int, int]]:
    cur: Counter[str] = Counter()
    prev: Counter[str] = Counter()
    for t in tickets:
        (cur if t.requested_at >= start else prev)[key(t)] += 1
    names = sorted(set(cur) | set(prev), key=lambda k: (-cur[k], -prev[k], k))
    return {k: (cur[k], prev[k]) for k in names}


def build_report(data: ReportInput, window: Window, topic_threshold: float | None = None) -> Report:
    """All figures for ``window`` from ``data``."""
    report = Report(window=window)
    current = [t for t in data.tickets if window.start <= t.requested_at < window.end]
    report.new_tickets = len(current)
    report.previous_tickets = sum(t.requested_at < window.start for t in data.tickets)
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for t in current:
        grid[t.category][t.district] += 1
    order = sorted(grid, key=lambda k: (-sum(grid[k].values()), k))
    report.by_category_district = {k: dict(grid[k].most_common()) for k in order}
    report.by_category = _current_previous(data.tickets, window.start, lambda t: t.category)
    report.by_channel = _current_previous(data.tickets, window.start, lambda t: t.channel)
    report.topics = rising_topics(
        data.tickets, window.start, threshold=topic_threshold or DEFAULT_THRESHOLD
    )
    for job in data.jobs:
        report.rates_overall.add(job)
    report.rates_by_agency = rates_by(
        data.jobs, lambda j: data.agency_of.get(j.ticket_id.upper(), UNKNOWN)
    )
    report.rates_by_channel = rates_by(data.jobs, lambda j: j.channel)
    late = sorted(
        (
            OverdueTicket(
                t.service_request_id,
                t.category,
                t.agency,
                t.status,
                (window.end - (t.expected_at or window.end)) / 3600,
            )
            for t in data.overdue
        ),
        key=lambda o: (-o.hours_overdue, o.service_request_id),
    )
    report.overdue_count = len(late)
    report.overdue_by_agency = dict(Counter(o.agency for o in late).most_common())
    report.overdue = late[:OVERDUE_LISTED]
    report.resolved = len(data.resolutions)
    report.resolved_late = sum(r.late for r in data.resolutions)
    done: Counter[str] = Counter(r.agency for r in data.resolutions)
    slow: Counter[str] = Counter(r.agency for r in data.resolutions if r.late)
    report.resolved_by_agency = {k: (n, slow[k]) for k, n in done.most_common()}
    return report
