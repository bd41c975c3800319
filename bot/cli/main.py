"""The ``jiesu`` command.

Subcommands: ``up`` (whole stack), ``gateway``, ``train``, ``chat``,
``desk`` (staff: list/show/resolve/status/serve), ``outbox``, ``survey`` (stats,
run-due), ``report`` (day/week/month), ``rasa-test``,
``eval-nlu``, ``import-history``, ``speech fetch-model``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bot.gateway.log_masking import install_masking_log_handler
from hotline.config import PROJECT_ROOT, Config, load_config
from tickets.log_privacy import install_masked_log_records

__all__ = ["main"]

# Ctrl-C: give open chat requests this long, not aiohttp's default 60 s.
SHUTDOWN_TIMEOUT_S = 5.0


def _setup_logging(cfg: Config) -> None:
    logging.basicConfig(
        level=getattr(logging, cfg.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_masking_log_handler()
    install_masked_log_records()  # tracebacks too (tickets/log_privacy.py)


def cmd_up(args: argparse.Namespace, cfg: Config) -> int:
    """Train if needed, start Rasa + action server, then serve the gateway here."""
    from aiohttp import web

    from bot.cli.model_cache import ensure_model
    from bot.cli.supervisor import Stack
    from bot.gateway.app import build_app

    cfg = _secure(cfg)
    model = Path(os.environ["JIESU_MODEL"]) if os.environ.get("JIESU_MODEL") else ensure_model()
    stack = Stack(cfg, model, rasa_workers=args.rasa_workers)
    servers = "the Rasa server" if args.rasa_workers == 1 else f"{args.rasa_workers} Rasa servers"
    print(f"starting {servers} and the action server …", flush=True)
    stack.start()
    try:
        # The gateway runs here; the supervisor thread restarts Rasa and the action server.
        cfg = dataclasses.replace(
            cfg, rasa_token=stack.rasa_token, rasa_url=",".join(stack.rasa_urls)
        )
        app = build_app(cfg)

        async def announce(_app: web.Application) -> None:
            print(
                f"\nJiesu is ready: open http://{cfg.host}:{cfg.port}/ to chat "
                f"(desk: http://{cfg.host}:{cfg.port}/open311/v2/requests.json; "
                f"logs: {cfg.data_dir / 'logs'}). Ctrl-C stops everything.\n",
                flush=True,
            )

        app.on_startup.append(announce)  # type: ignore[arg-type]
        web.run_app(
            app, host=cfg.host, port=cfg.port, print=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
    finally:
        print("stopping …", flush=True)
        stack.stop()
    return 0


def _secure(cfg: Config) -> Config:
    from bot.cli.secure import secure_config
    from hotline.secret_keys import InsecureExposure

    try:
        return secure_config(cfg)
    except InsecureExposure as exc:
        raise SystemExit(str(exc)) from exc


def cmd_gateway(args: argparse.Namespace, cfg: Config) -> int:
    from aiohttp import web

    from bot.gateway.app import build_app

    cfg = _secure(cfg)
    web.run_app(
        build_app(cfg),
        host=cfg.host,
        port=cfg.port,
        print=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    return 0


def cmd_train(args: argparse.Namespace, cfg: Config) -> int:
    from bot.cli.model_cache import ensure_model

    print(ensure_model(force=args.force))
    return 0


def cmd_rasa_test(args: argparse.Namespace, cfg: Config) -> int:
    import subprocess

    from bot.cli.model_cache import ensure_model
    from bot.cli.supervisor import rasa_env

    model = ensure_model()
    out = cfg.data_dir / "rasa-test-results"
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        "tests/test_conversations.yml",
        "--out",
        str(out),
        "--fail-on-prediction-errors",
    ]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=rasa_env(cfg)).returncode


def cmd_chat(args: argparse.Namespace, cfg: Config) -> int:
    from bot.cli.chat_terminal import run_terminal_chat

    url = args.url or f"http://127.0.0.1:{cfg.port}"
    return asyncio.run(run_terminal_chat(url, args.sender))


def _desk_call(cfg: Config, method: str, path: str, data: dict[str, str] | None = None) -> object:
    base = cfg.effective_open311_url
    params = {"api_key": cfg.effective_open311_api_key}
    url = f"{base}/{path}"
    body = None
    if method == "GET":
        url += "?" + urllib.parse.urlencode(params)
    else:
        body = urllib.parse.urlencode({**(data or {}), **params}).encode()
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"desk answered HTTP {exc.code}: {detail}") from exc
    except urllib.error.URLError as exc:
        raise SystemExit(f"cannot reach the ticket desk at {base}: {exc.reason}") from exc


def cmd_desk(args: argparse.Namespace, cfg: Config) -> int:
    if args.desk_cmd == "serve":
        from bot.cli.desk_server import serve_desk

        serve_desk(_secure(cfg), args.port)
        return 0
    if args.desk_cmd == "list":
        query = f"requests.json?status={args.status}" if args.status else "requests.json"
        tickets = _desk_call(cfg, "GET", query)
        for t in tickets:  # type: ignore[attr-defined]
            print(
                f"{t['service_request_id']}  {t.get('detailed_status', t['status']):<11} "
                f"{t.get('service_name', '')}  {str(t.get('description', ''))[:40]}"
            )
        return 0
    if args.desk_cmd == "show":
        print(
            json.dumps(
                _desk_call(cfg, "GET", f"requests/{args.ticket}.json"), ensure_ascii=False, indent=2
            )
        )
        return 0
    status = "resolved" if args.desk_cmd == "resolve" else args.status
    result = _desk_call(
        cfg,
        "POST",
        f"requests/{args.ticket}/status.json",
        {"status": status, "note": args.note or "", "actor": "jiesu-cli"},
    )
    ticket = result[0]  # type: ignore[index]
    print(f"{ticket['service_request_id']} → {ticket['detailed_status']}")
    return 0


def cmd_outbox(args: argparse.Namespace, cfg: Config) -> int:
    from tickets.outbox import Outbox

    outbox = Outbox(cfg.effective_outbox_db_url, tz=cfg.tz)
    print(json.dumps(outbox.counts(), ensure_ascii=False))
    return 0


def cmd_survey(args: argparse.Namespace, cfg: Config) -> int:
    """``survey stats`` reads the survey tables; ``survey run-due`` asks the gateway."""
    if args.survey_cmd == "run-due":
        url = f"http://127.0.0.1:{cfg.port}/api/survey/run-due"
        req = urllib.request.Request(
            url, data=b"", method="POST", headers={"X-Api-Key": cfg.desk_api_key}
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                print(resp.read().decode())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"gateway answered HTTP {exc.code}: {exc.read().decode()}") from exc
        except urllib.error.URLError as exc:
            raise SystemExit(f"cannot reach the gateway at {url}: {exc.reason}") from exc
        return 0
    from datetime import date

    from tickets.survey.stats import compute_stats, day_range, format_stats
    from tickets.survey.store import SurveyStore

    start = date.fromisoformat(args.date_from) if args.date_from else None
    end = date.fromisoformat(args.date_to) if args.date_to else None
    lo, hi = day_range(start, end, cfg.tz)
    store = SurveyStore(cfg.effective_outbox_db_url)
    try:
        stats = compute_stats(store.jobs(lo, hi))
    finally:
        store.close()
    if args.json:
        print(json.dumps(stats.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_stats(stats))
    return 0


def cmd_report(args: argparse.Namespace, cfg: Config) -> int:
    """``jiesu report --period day|week|month``: HTML + PNG charts + JSON, or JSON on stdout."""
    from datetime import datetime

    from desk.report import Period, make_report, write_report
    from desk.store import DeskStore
    from tickets.survey.store import SurveyStore

    if not cfg.embedded_desk:
        raise SystemExit("jiesu report reads the embedded desk; JIESU_OPEN311_URL is set")
    end = datetime.fromisoformat(args.end).replace(tzinfo=cfg.tz).timestamp() if args.end else None
    desk = DeskStore(cfg.effective_desk_db_url, cfg.ticket_prefix, cfg.tz)
    survey = SurveyStore(cfg.effective_outbox_db_url)
    try:
        report = make_report(desk.engine, survey, Period(args.period), cfg.tz, end)
    finally:
        desk.close()
        survey.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    files = write_report(report, Path(args.out) if args.out else cfg.data_dir / "reports")
    print(files.html)
    return 0


def cmd_eval_nlu(argv: list[str]) -> int:
    from nlu.evaluation import main as eval_main

    return eval_main(argv)


def cmd_import_history(argv: list[str]) -> int:
    from nlu.history_import import main as import_main

    return import_main(argv)


def cmd_speech(argv: list[str]) -> int:
    if argv[:1] == ["fetch-model"]:
        from speech.model_fetch import main as fetch_main

        return fetch_main(argv[1:])
    if argv[:1] == ["transcribe"]:
        from speech.transcribe import main as transcribe_main

        return transcribe_main(argv[1:])
    print(
        "usage: jiesu speech fetch-model [--large] [--dir DIR]\n"
        "       jiesu speech transcribe FILE [--json] [--engine auto|vosk|whisper] [--model M]"
        " [--beam N]",
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jiesu", description="Jiesu 12345 hotline intake assistant")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="train if needed and run the whole stack")
    up.add_argument(
        "--rasa-workers",
        type=int,
        default=1,
        metavar="N",
        help="Rasa servers to run (ports JIESU_RASA_PORT, +1, …); conversations stick to one",
    )
    sub.add_parser("gateway", help="run only the gateway (channels, desk, outbox)")
    t = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    t.add_argument("--force", action="store_true")
    sub.add_parser("rasa-test", help="rasa test on tests/test_conversations.yml")
    c = sub.add_parser("chat", help="chat in the terminal with a running stack")
    c.add_argument("--url", default="")
    c.add_argument("--sender", default="")
    d = sub.add_parser("desk", help="ticket desk staff commands")
    dsub = d.add_subparsers(dest="desk_cmd", required=True)
    dl = dsub.add_parser("list")
    dl.add_argument("--status", default="")
    ds = dsub.add_parser("show")
    ds.add_argument("ticket")
    dr = dsub.add_parser("resolve")
    dr.add_argument("ticket")
    dr.add_argument("--note", default="")
    dst = dsub.add_parser("status")
    dst.add_argument("ticket")
    dst.add_argument("status", choices=["open", "in_progress", "resolved", "closed", "reopened"])
    dst.add_argument("--note", default="")
    dsv = dsub.add_parser("serve", help="run the desk alone (a stand-alone ticket backend)")
    dsv.add_argument("--port", type=int, default=8311)
    sub.add_parser("outbox", help="count outbox entries by delivery status")
    sv = sub.add_parser("survey", help="satisfaction callback: stats, run due jobs")
    svsub = sv.add_subparsers(dest="survey_cmd", required=True)
    svs = svsub.add_parser("stats", help="response, resolution and satisfaction rates")
    svs.add_argument("--from", dest="date_from", default="", help="YYYY-MM-DD (resolved on/after)")
    svs.add_argument("--to", dest="date_to", default="", help="YYYY-MM-DD (resolved on/before)")
    svs.add_argument("--json", action="store_true")
    svsub.add_parser("run-due", help="ask the running gateway to run due survey jobs now")
    rp = sub.add_parser("report", help="day/week/month report of the embedded desk (HTML, JSON)")
    rp.add_argument("--period", choices=["day", "week", "month"], default="week")
    rp.add_argument("--out", default="", help="folder for the HTML, charts and JSON (var/reports)")
    rp.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    rp.add_argument("--end", default="", help="local end of the period, YYYY-MM-DD[THH:MM] (now)")
    for name in ("eval-nlu", "import-history", "speech"):
        sub.add_parser(name, add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = {
        "eval-nlu": cmd_eval_nlu,
        "import-history": cmd_import_history,
        "speech": cmd_speech,
    }
    if argv and argv[0] in passthrough:
        return passthrough[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    cfg = load_config()
    _setup_logging(cfg)
    handlers = {
        "up": cmd_up,
        "gateway": cmd_gateway,
        "train": cmd_train,
        "rasa-test": cmd_rasa_test,
        "chat": cmd_chat,
        "desk": cmd_desk,
        "outbox": cmd_outbox,
        "survey": cmd_survey,
        "report": cmd_report,
    }
    return handlers[args.cmd](args, cfg)


if __name__ == "__main__":
    raise SystemExit(main())
