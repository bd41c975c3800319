"""Run a report end to end: read the databases, compute, draw, write files."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from sqlalchemy.engine import Engine

from desk.report._charts import render_charts
from desk.report._data import load_input
from desk.report._figures import Report, build_report
from desk.report._html import report_document
from desk.report._period import Period, window
from tickets.survey.store import SurveyStore

__all__ = ["ReportFiles", "make_report", "write_report"]


def make_report(
    desk_engine: Engine,
    survey: SurveyStore | None,
    period: Period,
    tz: tzinfo,
    end: float | None = None,
) -> Report:
    """The figures of ``period`` ending at ``end`` (default: now)."""
    w = window(period, time.time() if end is None else end, tz)
    return build_report(load_input(desk_engine, survey, w.prev_start, w.start, w.end), w)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    charts: tuple[Path, ...]


def write_report(report: Report, out_dir: Path) -> ReportFiles:
    """``report-<period>.html`` with its PNG charts and ``report-<period>.json`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report.window.period}"
    names: dict[str, str] = {}
    paths: list[Path] = []
    for name, png in render_charts(report).items():
        path = out_dir / f"{stem}-{name}.png"
        path.write_bytes(png)
        names[name] = path.name
        paths.append(path)
    html = out_dir / f"{stem}.html"
    html.write_text(report_document(report, names), encoding="utf-8")
    data = out_dir / f"{stem}.json"
    data.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return ReportFiles(html, data, tuple(paths))
