"""Compose the labelled pair set of the duplicate matcher from hand-written problems.

``benchmarks/data/duplicate_problems.yml`` holds problems (a taxonomy leaf and three
descriptions in different words) and places (three ways of naming each, and a point).
This script writes ``benchmarks/data/duplicate_pairs.jsonl`` (seeded, so the same
file every run): one pair per line, ``same`` true only for the same problem at the same
place.  Kinds: ``paraphrase`` / ``paraphrase_coords`` (same problem, other words, same
place by name or within ~100 m), ``elsewhere`` / ``elsewhere_coords`` (same problem at
another place), ``same_place_other_problem`` (same category and place, other problem),
``other_category`` (same place, another category).

    python benchmarks/duplicate_pairs.py
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
SOURCE = DATA / "duplicate_problems.yml"
PAIRS = DATA / "duplicate_pairs.jsonl"
SEED = 14


def _report(
    rng: random.Random, problem: dict[str, Any], say: str, place: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """One side of a pair: the words as a resident would type them, and the location slot."""
    address = kw.get("address", rng.choice(place["says"]))
    form = rng.randrange(3)
    if kw.get("coords_only"):
        description, address = say, None
    elif form == 0:
        description = f"{address}{say}"
    elif form == 1:
        description = f"{say}，地点在{address}"
    else:
        description = say
    out: dict[str, Any] = {"category": problem["category"], "description": description}
    out["address"] = address
    if kw.get("coords"):
        lat, lon = kw["coords"]
        out["lat"], out["long"] = round(lat, 6), round(lon, 6)
    return out


def _near(rng: random.Random, place: dict[str, Any]) -> tuple[float, float]:
    """A point within about 100 m of the place."""
    return place["lat"] + rng.uniform(-6e-4, 6e-4), place["long"] + rng.uniform(-6e-4, 6e-4)


def compose(seed: int = SEED) -> list[dict[str, Any]]:
    src = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    problems, places = src["problems"], src["places"]
    rng = random.Random(seed)
    pairs: list[dict[str, Any]] = []

    def add(kind: str, same: bool, a: dict[str, Any], b: dict[str, Any]) -> None:
        pairs.append({"kind": kind, "same": same, "a": a, "b": b})

    for p in problems:
        here = rng.choice(places)
        for i, j in itertools.combinations(range(3), 2):
            w1, w2 = rng.sample(here["says"], 2)
            add("paraphrase", True, _report(rng, p, p["says"][i], here, address=w1),
                _report(rng, p, p["says"][j], here, address=w2))  # fmt: skip
        i, j = rng.sample(range(3), 2)
        add("paraphrase_coords", True,
            _report(rng, p, p["says"][i], here, coords=_near(rng, here), coords_only=True),
            _report(rng, p, p["says"][j], here, coords=_near(rng, here)))  # fmt: skip
        for _ in range(2):
            there = rng.choice([q for q in places if q["id"] != here["id"]])
            i, j = rng.sample(range(3), 2)
            add("elsewhere", False, _report(rng, p, p["says"][i], here),
                _report(rng, p, p["says"][j], there))  # fmt: skip
        there = rng.choice([q for q in places if q["id"] != here["id"]])
        i, j = rng.sample(range(3), 2)
        add("elsewhere_coords", False,
            _report(rng, p, p["says"][i], here, coords=_near(rng, here), coords_only=True),
            _report(rng, p, p["says"][j], there, coords=_near(rng, there), coords_only=True))  # fmt: skip
        others = [q for q in problems if q["category"] != p["category"]]
        for q in rng.sample(others, 2):
            add("other_category", False, _report(rng, p, rng.choice(p["says"]), here),
                _report(rng, q, rng.choice(q["says"]), here))  # fmt: skip
    for p, q in itertools.combinations(problems, 2):
        if p["category"] != q["category"]:
            continue
        for _ in range(3):
            here = rng.choice(places)
            add("same_place_other_problem", False,
                _report(rng, p, rng.choice(p["says"]), here),
                _report(rng, q, rng.choice(q["says"]), here))  # fmt: skip
    return pairs


def main() -> None:
    pairs = compose()
    with PAIRS.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair["kind"]] = kinds.get(pair["kind"], 0) + 1
    print(f"{len(pairs)} pairs → {PAIRS}: {kinds}")


if __name__ == "__main__":
    main()
