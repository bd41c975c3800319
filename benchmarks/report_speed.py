"""Time ``jiesu report --period week`` on 10,000 synthetic tickets (target ≤ 30 s).

Usage: ``.venv/bin/python benchmarks/report_speed.py [--tickets 10000] [--pg URL] [--keep]``

Fills a fresh desk (SQLite in a temporary folder, or a PostgreSQL database with ``--pg``)
and survey store with :mod:`desk.synthetic` tickets (texts from taxonomy words), then runs
the real command in a subprocess, as staff would.  Baseline, measured in the same run: one
``SELECT *`` of every ticket row (the read no report can avoid) and the bare interpreter
start-up of ``jiesu --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--pg", default="", help="PostgreSQL URL of an empty database")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and report")
    args = ap.parse_args()

    from desk.store import DeskStore, tickets_table
    from desk.synthetic import generate
    from hotline.timezone import hotline_tz
    from tickets.survey.store import SurveyStore

    tmp = Path(tempfile.mkdtemp(prefix="jiesu-report-bench-"))
    desk_url = args.pg or f"sqlite:///{tmp / 'desk.db'}"
    outbox_url = args.pg or f"sqlite:///{tmp / 'jiesu.db'}"
    tz = hotline_tz()
    desk, survey = DeskStore(desk_url, tz=tz), SurveyStore(outbox_url)
    t0 = time.perf_counter()
    summary = generate(desk.engine, survey.engine, args.tickets, now=time.time(), tz=tz)
    fill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with desk.engine.connect() as conn:
        rows = len(conn.execute(sa.select(tickets_table)).all())
    select_s = time.perf_counter() - t0
    desk.close()
    survey.close()

    env = {**os.environ, "PYTHONPATH": str(REPO), "JIESU_DATA_DIR": str(tmp),
           "JIESU_DESK_DB_URL": desk_url, "JIESU_DB_URL": outbox_url}  # fmt: skip
    env.pop("JIESU_OPEN311_URL", None)
    jiesu = [sys.executable, "-m", "bot.cli.main"]
    help_s, _ = _run([*jiesu, "--help"], env)
    report_s, out = _run([*jiesu, "report", "--period", "week", "--out", str(tmp / "out")], env)
    json_s, data = _run([*jiesu, "report", "--period", "week", "--json"], env)
    figures = json.loads(data)
    print(f"machine: {platform.node()} ({os.cpu_count()} cores, {platform.processor() or 'cpu'})")
    print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}; tickets: {rows} "
          f"({summary.hotspot_tickets} in hotspots), survey jobs: {summary.survey_jobs}; "
          f"fill {fill_s:.1f} s")  # fmt: skip
    print(f"week: {figures['new_tickets']} new, {figures['previous_tickets']} previous, "
          f"{len(figures['rising_topics'])} rising topics, {figures['overdue']['count']} overdue")  # fmt: skip
    top = figures["rising_topics"][0] if figures["rising_topics"] else None
    if top:
        print(f"top topic: {top['label']!r} size {top['size']} growth {top['growth']:+d}")
    print(f"baseline SELECT * of {rows} rows: {select_s:.2f} s; `jiesu --help`: {help_s:.2f} s")
    print(f"jiesu report --period week (HTML+charts): {report_s:.2f} s "
          f"= {report_s / select_s:.1f}x the SELECT, {report_s / help_s:.1f}x the start-up; "
          f"target 30 s: {'met' if report_s <= 30 else 'MISSED'}")  # fmt: skip
    print(f"jiesu report --period week --json: {json_s:.2f} s")
    if args.keep:
        print(f"report: {out.strip()}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if report_s <= 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
