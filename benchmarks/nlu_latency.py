"""Per-message latency of the full NLU (entities + emergency + type + category) and load time.

Usage: ``.venv/bin/python benchmarks/nlu_latency.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    """Measure load time and p50/p95 latency over the hard cases."""
    started = time.perf_counter()
    import nlu
    from nlu.components.entity_extractor import extract_entities

    import_s = time.perf_counter() - started
    nlu.classify_category("暖气不热")
    extract_entities("我叫王小明，住朝阳区望京西园四区，昨天下午三点停水了，电话13800138000")
    load_s = time.perf_counter() - started
    cases = yaml.safe_load((REPO / "tests" / "nlu" / "hard_cases.yml").read_text("utf-8"))
    texts = [c["text"] for c in cases["cases"]]
    now = datetime.fromisoformat(cases["reference_now"])
    timings = []
    for text in texts * 3:
        t0 = time.perf_counter()
        extract_entities(text, now)
        nlu.detect_emergency(text)
        nlu.detect_request_type(text)
        nlu.classify_category(text)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"import nlu: {import_s:.2f} s; load (incl. model/dictionaries): {load_s:.2f} s")
    print(f"messages: {len(timings)}; p50 {statistics.median(timings):.1f} ms; p95 {p95:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
