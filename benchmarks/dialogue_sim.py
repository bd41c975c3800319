"""Simulated residents against the real stack: rate per invariant and per behaviour.

    python benchmarks/dialogue_sim.py --conversations 2000 [--seed N] [--tipdm PATH]
        [--jobs K] [--gateway URL --rasa URL --desk-key KEY --rasa-token T] [--out DIR]

Without ``--gateway`` the stack is started here (temporary data dir, the model
from ``JIESU_MODEL`` or the newest ``models/jiesu-*.tar.gz``).  Failing
conversations go to ``DIR/failures.jsonl`` and ``DIR/failures.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.sim.driver import (  # noqa: E402
    Conversation,
    StackUrls,
    every_tipdm_opening,
    find_model,
    population,
    run_many,
    start_stack,
)
from tests.sim.invariants import INVARIANTS, Check, check_all, transcript  # noqa: E402
from tests.sim.openings import default_tipdm_path  # noqa: E402
from tests.sim.residents import TURN_BUDGET_DOC  # noqa: E402


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tipdm", type=Path, default=default_tipdm_path())
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument(
        "--all-tipdm",
        action="store_true",
        help="every TipDM message once, as the opening of a plain resident (ignores --conversations)",
    )
    p.add_argument("--gateway", help="a running gateway, e.g. http://127.0.0.1:8080")
    p.add_argument("--rasa", help="its Rasa server, e.g. http://127.0.0.1:5005")
    p.add_argument("--desk-key", default="sim-desk-key")
    p.add_argument(
        "--rasa-token",
        default=os.environ.get("JIESU_RASA_TOKEN", ""),
        help="Rasa's --auth-token (default: JIESU_RASA_TOKEN)",
    )
    p.add_argument("--out", type=Path, default=ROOT / "results" / "dialogue_sim")
    return p.parse_args(argv)


def _rate(ok: int, n: int) -> str:
    return f"{ok}/{n} = {100 * ok / n:5.1f} %" if n else "—"


def report(convs: list[Conversation], results: list[list[Check]], seconds: float) -> str:
    lines = []
    n = len(convs)
    turns = sum(len(c.turns) for c in convs)
    lat = sorted(t.ms for c in convs for t in c.turns)
    p50 = lat[len(lat) // 2] if lat else 0.0
    p95 = lat[int(len(lat) * 0.95)] if lat else 0.0
    lines.append(
        f"{n} conversations, {turns} turns in {seconds:.1f} s "
        f"(turn latency p50 {p50:.0f} ms, p95 {p95:.0f} ms)"
    )
    all_ok = sum(all(c.ok for c in r) for r in results)
    lines.append(f"all invariants: {_rate(all_ok, n)}")
    lines.append("\nper invariant:")
    for name in INVARIANTS:
        ok = sum(next(c.ok for c in r if c.name == name) for r in results)
        lines.append(f"  {name:16s} {_rate(ok, n)}")
    by_label: dict[str, list[list[Check]]] = defaultdict(list)
    for conv, r in zip(convs, results, strict=True):
        for label in [*conv.labels, f"source:{conv.opening.source.value}"] + (
            ["emergency"] if conv.expect.emergency else []
        ):
            by_label[label].append(r)
    lines.append("\nper behaviour / style / source (all invariants; then the failing ones):")
    for label in sorted(by_label):
        rs = by_label[label]
        ok = sum(all(c.ok for c in r) for r in rs)
        fails: dict[str, int] = defaultdict(int)
        for r in rs:
            for c in r:
                if not c.ok:
                    fails[c.name] += 1
        worst = ", ".join(f"{k} {v}" for k, v in sorted(fails.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {label:20s} {_rate(ok, len(rs))}   {worst}")
    ended: dict[str, int] = defaultdict(int)
    for conv in convs:
        ended[conv.ended.split(":")[0]] += 1
    lines.append("\nended: " + ", ".join(f"{k} {v}" for k, v in sorted(ended.items())))
    return "\n".join(lines)


def write_failures(out: Path, convs: list[Conversation], results: list[list[Check]]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with (
        (out / "failures.jsonl").open("w", encoding="utf-8") as js,
        (out / "failures.txt").open("w", encoding="utf-8") as txt,
    ):
        for conv, r in zip(convs, results, strict=True):
            bad = [c for c in r if not c.ok]
            if not bad:
                continue
            n += 1
            row = {
                "index": conv.index,
                "conversation_id": conv.conversation_id,
                "opening": conv.opening.id,
                "labels": conv.labels,
                "failed": {c.name: c.detail for c in bad},
                "expect": asdict(conv.expect),
                "ended": conv.ended,
                "turns": [
                    {
                        "user": t.user,
                        "pressed": t.pressed,
                        "by": t.by,
                        "status": t.status,
                        "bot": t.bot,
                        "asked": t.asked.name,
                        "ms": round(t.ms, 1),
                    }
                    for t in conv.turns
                ],  # fmt: skip
                "tickets": conv.tickets,
            }
            js.write(json.dumps(row, ensure_ascii=False) + "\n")
            txt.write("FAILED " + "; ".join(f"{c.name}: {c.detail}" for c in bad) + "\n")
            txt.write(transcript(conv) + "\n\n")
    return n


async def _run(urls: StackUrls, args: argparse.Namespace) -> None:
    if args.all_tipdm:
        scenarios = every_tipdm_opening(args.seed, args.tipdm)
    else:
        scenarios = population(args.conversations, args.seed, args.tipdm)
    t0 = time.perf_counter()
    convs = await run_many(urls, scenarios, jobs=args.jobs)
    seconds = time.perf_counter() - t0
    results = [check_all(c) for c in convs]
    print(report(convs, results, seconds))
    n = write_failures(args.out, convs, results)
    print(f"\n{n} failing conversations written to {args.out}/failures.{{jsonl,txt}}")
    print("\n" + TURN_BUDGET_DOC)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    if not args.tipdm.is_file():
        print(f"(no TipDM file at {args.tipdm}: hard cases only)")
    if args.gateway:
        if not args.rasa:
            sys.exit("--gateway needs --rasa (the tracker tells which field is asked)")
        asyncio.run(
            _run(
                StackUrls(
                    args.gateway.rstrip("/"), args.rasa.rstrip("/"), args.desk_key, args.rasa_token
                ),
                args,
            )
        )
        return
    with tempfile.TemporaryDirectory(prefix="jiesu-sim-") as tmp:
        t0 = time.perf_counter()
        with start_stack(Path(tmp), find_model(ROOT), args.desk_key) as urls:
            print(f"stack up in {time.perf_counter() - t0:.0f} s")
            asyncio.run(_run(urls, args))


if __name__ == "__main__":
    main()
