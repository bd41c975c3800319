"""p95 of the staff console's pages with 10,000 tickets in the desk (target ≤ 200 ms).

Usage: ``.venv/bin/python benchmarks/console_speed.py [--tickets 10000] [--n 200] [--pg URL]``

Builds the real gateway (``bot.gateway.app.build_app``) on a temporary data dir (or a
PostgreSQL database with ``--pg``), fills the desk with :mod:`desk.synthetic` tickets and
survey jobs, writes 200 conversations with Rasa's own SQL tracker store, signs in and times
sequential requests over loopback HTTP: the ticket list, a filtered list (channel +
district + overdue), a ticket page (transcript, history, reporters, survey), and as the
baseline measured in the same run the public Open311 ``GET requests/{id}.json`` of the
same ticket (one indexed read, JSON out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PORT = 22300  # the console helper's port range
CONVERSATIONS = 200


async def _conversations(db_url: str, senders: list[str]) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    if db_url.startswith("sqlite"):
        store = SQLTrackerStore(dialect="sqlite", db=db_url.split("///", 1)[1])
    else:
        from sqlalchemy.engine import make_url

        u = make_url(db_url)
        store = SQLTrackerStore(dialect="postgresql", host=u.host, port=u.port, db=u.database,
                                username=u.username, password=u.password)  # fmt: skip
    for sender in senders:
        events = []
        for i in range(6):
            events += [
                UserUttered(f"第{i}句：小区门口井盖丢了"),
                BotUttered(f"好的，第{i}个问题？"),
            ]
        await store.save(DialogueStateTracker.from_events(sender, events))


def _pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


async def _time(http: aiohttp.ClientSession, urls: list[str]) -> list[float]:
    out = []
    for url in urls:
        t0 = time.perf_counter()
        async with http.get(url) as resp:
            await resp.read()
            assert resp.status == 200, (url, resp.status)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main_async(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.gateway.app import build_app
    from bot.gateway.app_keys import DESK_STORE
    from desk.synthetic import generate
    from hotline.config import load_config
    from tickets.survey.store import SurveyStore

    tmp = Path(tempfile.mkdtemp(prefix="jiesu-console-bench-"))
    env = {**os.environ, "JIESU_DATA_DIR": str(tmp), "JIESU_DESK_API_KEY": "bench-key",
           "JIESU_SIP_PORT": "0", "TELEGRAM_BOT_TOKEN": "", "JIESU_PORT": str(PORT),
           "JIESU_SURVEY_TICK": "3600", "JIESU_OUTBOX_POLL": "3600", "JIESU_LOG_LEVEL": "WARNING"}  # fmt: skip
    for name in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
        env.pop(name, None)
    if args.pg:
        env.update(JIESU_DB_URL=args.pg, JIESU_DESK_DB_URL=args.pg, JIESU_TRACKER_URL=args.pg)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("JIESU_", "TELEGRAM_"))})
    cfg = load_config(env)
    app = build_app(cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    try:
        desk = app[DESK_STORE]
        survey = SurveyStore(cfg.effective_outbox_db_url)
        t0 = time.perf_counter()
        generate(desk.engine, survey.engine, args.tickets, now=time.time(), tz=cfg.tz)
        survey.close()
        tickets = desk.list(limit=CONVERSATIONS)
        await _conversations(
            cfg.effective_tracker_url, [str(t.attributes["conversation_id"]) for t in tickets]
        )
        fill_s = time.perf_counter() - t0
        base = f"http://127.0.0.1:{PORT}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.post(f"{base}/desk/login", data={"api_key": "bench-key"}) as r:
                assert r.status == 200
            rng = random.Random(7)
            srids = [t.service_request_id for t in tickets]
            n = args.n
            lists = [f"{base}/desk/tickets?page={rng.randint(1, 200)}" for _ in range(n)]
            filtered = [
                f"{base}/desk/tickets?channel={rng.choice(['web', 'telegram', 'phone'])}"
                f"&district={rng.choice(['朝阳区', '海淀区', '丰台区'])}&overdue=1"
                for _ in range(n)
            ]
            pages = [f"{base}/desk/tickets/{rng.choice(srids)}" for _ in range(n)]
            open311 = [
                u.replace("/desk/tickets/", "/open311/v2/requests/") + ".json" for u in pages
            ]
            await _time(http, lists[:10] + filtered[:10] + pages[:10] + open311[:10])  # warm-up
            results = {
                "Open311 GET requests/{id}.json (baseline)": await _time(http, open311),
                "ticket list (page of 50)": await _time(http, lists),
                "filtered list (channel+district+overdue)": await _time(http, filtered),
                "ticket page (transcript, history, survey)": await _time(http, pages),
            }
            week = f"{base}/desk/reports?period=week"
            report_first = (await _time(http, [week]))[0]
            report_cached = await _time(http, [week] * 20)
    finally:
        await runner.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"machine: {platform.node()} ({os.cpu_count()} cores); database: "
          f"{'PostgreSQL' if args.pg else 'SQLite'}; {args.tickets} tickets, "
          f"{CONVERSATIONS} conversations in the tracker store; fill {fill_s:.1f} s; "
          f"{args.n} sequential requests each")  # fmt: skip
    base_p95 = _pct(next(iter(results.values())), 95)
    worst = 0.0
    for name, ms in results.items():
        p50, p95 = statistics.median(ms), _pct(ms, 95)
        if "baseline" not in name:
            worst = max(worst, p95)
        print(
            f"{name:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({p95 / base_p95:4.1f}x baseline p95)"
        )
    print(f"report page (week, charts inline): first {report_first:.0f} ms, then cached "
          f"(60 s) p95 {_pct(report_cached, 95):.1f} ms; not a list/ticket page, no target")  # fmt: skip
    print(
        f"slowest console p95: {worst:.1f} ms; target 200 ms: {'met' if worst <= 200 else 'MISSED'}"
    )
    return 0 if worst <= 200 else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--pg", default="", help="PostgreSQL URL of an empty database")
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
