"""≥ 10,000 hostile requests per gateway endpoint: counts by status, 5xx and hangs.

The same Hypothesis strategies as ``tests/bot/test_hostile_http.py`` (raw bytes, any JSON,
the expected fields with any values, any content type, right and wrong keys;
``tests/auxil/hostile.py``), against the real gateway app with the fake Rasa and the fake
Bot API server, over a real socket.  Prints one JSON object: per endpoint, how many
requests, the count of each status, 5xx, hangs (no answer in 15 s), 4xx without a JSON
reason, and requests per second.

    PYTHONPATH=. .venv/bin/python benchmarks/fuzz_endpoints.py [--examples 10000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.auxil.hostile import ENDPOINTS, GatewayThread, Request, clear_error  # noqa: E402


def fuzz(gw: GatewayThread, endpoint: Any, examples: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    bad: list[str] = []
    unclear = hangs = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(req=endpoint.requests)
    def run(req: Request) -> None:
        nonlocal unclear, hangs
        try:
            status, body, ctype = gw.send(req)
        except TimeoutError:
            hangs += 1
            return
        statuses[status] += 1
        if status >= 500 and len(bad) < 5:
            bad.append(f"{req!r} → {status} {body[:120]!r}")
        if (
            400 <= status < 500
            and status not in (404, 405)
            and not clear_error(status, body, ctype)
        ):
            unclear += 1

    t0 = time.monotonic()
    run()
    elapsed = time.monotonic() - t0
    total = sum(statuses.values()) + hangs
    return {
        "requests": total,
        "by_status": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "hangs": hangs,
        "4xx_without_json_reason": unclear,
        "requests_per_s": round(total / elapsed, 1) if elapsed else None,
        "first_5xx": bad,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--examples", type=int, default=10_000, help="requests per endpoint")
    p.add_argument("--only", default="", help="substring of one endpoint's name")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)  # a warning per refused request otherwise
    out: dict[str, Any] = {"machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"}
    with tempfile.TemporaryDirectory(prefix="jiesu-fuzz-") as tmp:
        gw = GatewayThread(Path(tmp))
        gw.start()
        try:
            for endpoint in ENDPOINTS:
                if args.only and args.only not in endpoint.name:
                    continue
                out[endpoint.name] = fuzz(gw, endpoint, args.examples)
                print(f"{endpoint.name}: {out[endpoint.name]['by_status']}", file=sys.stderr)
        finally:
            gw.stop()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
