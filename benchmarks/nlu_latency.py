"""NLU latency per turn and load time (issue 13 targets), on this machine.

Usage: ``.venv/bin/python benchmarks/nlu_latency.py``

Three paths, over the 312 hard cases × 3 passes (312 distinct texts cycle through the
encoder's 256-entry memo, so every classifying turn really runs the encoder):

- baseline: the issue-3 per-message work (entities + emergency + TF-IDF category), i.e.
  what every turn cost before the encoder existed;
- non-classifying turn: what the Rasa pipeline does on every turn now (the same: the
  CategoryClassifier component scores without the encoder);
- classifying turn: that plus the fused category and the request type with the encoder
  (``action_start_complaint`` / the description answer).

Figures are printed absolute and as a ratio to the baseline of the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _measure(texts: list[str], turn: Callable[[str], object]) -> tuple[float, float]:
    timings = []
    for text in texts:
        t0 = time.perf_counter()
        turn(text)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> int:
    """Measure load time and p50/p95 latency of the three paths."""
    started = time.perf_counter()
    import nlu
    from nlu._classifier import get_model
    from nlu.components.entity_extractor import extract_entities
    from nlu.encoders import default_encoder

    import_s = time.perf_counter() - started
    model = get_model()
    nlu.classify_category("暖气不热")
    nlu.classify_request_type("暖气不热")
    extract_entities("我叫王小明，住朝阳区望京西园四区，昨天下午三点停水了，电话13800138000")
    load_s = time.perf_counter() - started
    cases = yaml.safe_load((REPO / "tests" / "nlu" / "hard_cases.yml").read_text("utf-8"))
    texts = [c["text"] for c in cases["cases"]] * 3
    now = datetime.fromisoformat(cases["reference_now"])

    def every_turn(text: str) -> None:
        extract_entities(text, now)
        nlu.detect_emergency(text)
        model.predict(text, encode=False)

    def classifying(text: str) -> None:
        every_turn(text)
        model.predict(text)
        nlu.classify_request_type(text)

    _measure(texts[: len(texts) // 3], every_turn)  # warm-up pass (caches, jionlp), not counted
    base = _measure(texts, every_turn)
    plain = _measure(texts, every_turn)
    full = _measure(texts, classifying)
    encoder = default_encoder()
    print(f"machine: 2 shared cores; encoder {encoder.info.name} {encoder.info.version}")
    print(
        f"import nlu: {import_s:.2f} s; load (dictionaries, category + request-type "
        f"models, encoder weights, first calls): {load_s:.2f} s (target <= 15 s)"
    )
    print(f"turns: {len(texts)} per path; fusion weight {model.head.weight if model.head else 0}")
    for name, (p50, p95), target in (
        ("baseline (issue-3 work per message)", base, None),
        ("non-classifying turn", plain, 20.0),
        ("classifying turn (encoder, fused category + request type)", full, 150.0),
    ):
        goal = f"; target p95 <= {target:.0f} ms" if target else ""
        print(
            f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; p95 ratio to baseline "
            f"{p95 / base[1]:.2f}{goal}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
