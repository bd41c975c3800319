"""Emergency levels on real written citizen messages, and the detector's latency.

Reads the TipDM 2020 dev file at run time (never stored in the repository) and prints the
share of messages that get ADVICE (target <= 1 %) and FLAG, the rules that decided, and
every ADVICE message (first 80 characters) for a human to judge. Then times
``assess_emergency`` on the short hand-written cases (target < 1 ms per message).

Usage: ``.venv/bin/python benchmarks/emergency_eval.py [--data PATH] [--field full_text]``
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"
CASES = REPO / "tests" / "nlu" / "emergency_cases.yml"
ADVICE_TARGET = 0.01


def _texts(path: Path, field: str) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [str(json.loads(line).get(field) or "") for line in fh if line.strip()]


def _report_file(path: Path, field: str, show_flag: int) -> bool:
    from nlu import EmergencyLevel, assess_emergency

    texts = _texts(path, field)
    results = [assess_emergency(t) for t in texts]
    levels = collections.Counter(r.level for r in results)
    n = len(texts)
    advice = levels[EmergencyLevel.ADVICE]
    flag = levels[EmergencyLevel.FLAG]
    print(f"{path.name} ({field}): {n} messages")
    print(f"  ADVICE {advice} ({advice / n:.2%}, target <= {ADVICE_TARGET:.0%})")
    print(f"  FLAG   {flag} ({flag / n:.2%})")
    print(f"  NONE   {levels[EmergencyLevel.NONE]}")
    rules = collections.Counter(
        (r.level.name, r.reason.split(":")[0]) for r in results if r.reason != "no-cue"
    )
    print("  deciding rule (messages with a cue):")
    for (level, rule), count in sorted(rules.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"    {level:6} {rule:24} {count}")
    print("  ADVICE messages:")
    for text, r in zip(texts, results, strict=True):
        if r.level is EmergencyLevel.ADVICE:
            print(f"    [{r.kind} {r.matched} {r.reason}] {text[:80]}")
    if show_flag:
        print(f"  first {show_flag} FLAG messages:")
        shown = 0
        for text, r in zip(texts, results, strict=True):
            if r.level is EmergencyLevel.FLAG and shown < show_flag:
                print(f"    [{r.kind} {r.matched} {r.reason}] {text[:80]}")
                shown += 1
    return advice / n <= ADVICE_TARGET


def _percentiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return (
        f"mean {statistics.mean(values):.0f}, p50 {statistics.median(values):.0f}, p95 {p95:.0f} us"
    )


def _report_latency(rounds: int) -> None:
    from nlu import assess_emergency, normalize_text
    from nlu._emergency import _verdicts

    cases = yaml.safe_load(CASES.read_text("utf-8"))
    texts = [c["text"] for c in cases["advice"]] + cases["flag"] + cases["none"]
    norms = [normalize_text(t) for t in texts]  # also loads OpenCC
    wall: list[float] = []
    cpu: list[float] = []
    rules_cpu: list[float] = []
    for _ in range(rounds):
        for text, norm in zip(texts, norms, strict=True):
            c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            assess_emergency(text)
            w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            _verdicts(norm)
            c2 = time.thread_time_ns()
            wall.append((w1 - w0) / 1e3)
            cpu.append((c1 - c0) / 1e3)
            rules_cpu.append((c2 - c1) / 1e3)
    mean_chars = statistics.mean(len(t) for t in texts)
    print(
        f"latency of assess_emergency, {len(wall)} calls on short messages ({mean_chars:.0f} chars):"
    )
    print(f"  wall time (incl. normalize_text): {_percentiles(wall)}")
    print(f"  CPU time  (incl. normalize_text): {_percentiles(cpu)}  (target < 1000 us)")
    print(f"  CPU time of the rules alone:       {_percentiles(rules_cpu)}")


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 1 if the ADVICE rate misses its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled JSONL file")
    parser.add_argument("--field", default="full_text", help="text field (full_text, text)")
    parser.add_argument("--show-flag", type=int, default=0, help="also list N FLAG messages")
    parser.add_argument("--rounds", type=int, default=5, help="latency: passes over the cases")
    args = parser.parse_args(argv)
    ok = True
    if args.data.is_file():
        ok = _report_file(args.data, args.field, args.show_flag)
    else:
        print(f"{args.data} absent: skipping the real-message check")
    _report_latency(args.rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
