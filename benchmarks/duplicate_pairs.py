"""Compose the labelled pair set of the duplicate matcher from hand-written problems.

``benchmarks/data/duplicate_problems.yml`` holds problems (a taxonomy leaf and three
descriptions in different words) and places (three ways of naming each, and a point).
This script writes ``benchmarks/data/duplicate_pairs.jsonl`` (seeded, so the same
file every run): one pair per line, ``same`` true only for the same problem at the same
place.  Kinds: ``paraphrase`` / ``paraphrase_coords`` (same problem, other words, same
place by name or within ~100 m), ``elsewhere`` / ``elsewhere_coords`` (same problem at
another place), ``same_place_other_problem`` (same category and place, other problem),
``other_category`` (same place, another category).

    python benchmarks/duplicate_pairs.py            # the evaluation set
    python benchmarks/duplicate_pairs.py --tune     # the tuning set
    python benchmarks/duplicate_pairs.py --dev      # the development set (round 1's hold-out)
    python benchmarks/duplicate_pairs.py --dev2     # development set 2 (round 2's hold-out)
    python benchmarks/duplicate_pairs.py --holdout  # the hold-out set (written after the model)
    python benchmarks/duplicate_pairs.py --blind 4  # blind set 4 (or 5): written by someone who
                                                    # never saw the lexicon or the other sets

Two sets, never mixed: the **evaluation** set (``duplicate_problems.yml`` →
``duplicate_pairs.jsonl``) only measures; the **tuning** set (``duplicate_problems_tune.yml``
→ ``duplicate_pairs_tune.jsonl``: other problems, other words, other places) is the only one
the pair model (:mod:`nlu.pair_model`) is fitted and its threshold chosen on.
"""

from __future__ import annotations

import argparse
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
TUNE_SOURCE = DATA / "duplicate_problems_tune.yml"
TUNE_PAIRS = DATA / "duplicate_pairs_tune.jsonl"
TUNE_SEED = 2020
DEV_SOURCE = DATA / "duplicate_problems_dev.yml"
DEV_PAIRS = DATA / "duplicate_pairs_dev.jsonl"
DEV_SEED = 7
DEV2_SOURCE = DATA / "duplicate_problems_dev2.yml"
DEV2_PAIRS = DATA / "duplicate_pairs_dev2.jsonl"
DEV2_SEED = 11
HOLDOUT_SOURCE = DATA / "duplicate_problems_holdout.yml"
HOLDOUT_PAIRS = DATA / "duplicate_pairs_holdout.jsonl"
HOLDOUT_SEED = 13
#: Blind hold-outs: round → seed (``duplicate_problems_blind<N>.yml`` → ``…pairs_blind<N>.jsonl``).
BLIND_SEEDS = {4: 17, 5: 19, 6: 23, 7: 29, 8: 31, 9: 37, 10: 41, 11: 43, 12: 47, 13: 53}


def blind_files(round_: int) -> tuple[Path, Path]:
    """Problems file and pairs file of blind hold-out ``round_``."""
    return (
        DATA / f"duplicate_problems_blind{round_}.yml",
        DATA / f"duplicate_pairs_blind{round_}.jsonl",
    )


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


def compose(seed: int = SEED, source: Path = SOURCE) -> list[dict[str, Any]]:
    src = yaml.safe_load(source.read_text(encoding="utf-8"))
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tune", action="store_true", help="write the tuning set instead")
    ap.add_argument("--dev", action="store_true", help="write the development set instead")
    ap.add_argument("--dev2", action="store_true", help="write the development set 2 instead")
    ap.add_argument("--holdout", action="store_true", help="write the hold-out set instead")
    ap.add_argument("--blind", type=int, choices=sorted(BLIND_SEEDS), help="a blind hold-out")
    ap.add_argument("--source", type=Path, help="with --blind: read the problems from here")
    args = ap.parse_args()
    source, out, seed = (SOURCE, PAIRS, SEED)
    if args.tune:
        source, out, seed = (TUNE_SOURCE, TUNE_PAIRS, TUNE_SEED)
    elif args.dev:
        source, out, seed = (DEV_SOURCE, DEV_PAIRS, DEV_SEED)
    elif args.dev2:
        source, out, seed = (DEV2_SOURCE, DEV2_PAIRS, DEV2_SEED)
    elif args.holdout:
        source, out, seed = (HOLDOUT_SOURCE, HOLDOUT_PAIRS, HOLDOUT_SEED)
    elif args.blind:
        source, out = blind_files(args.blind)
        source, seed = args.source or source, BLIND_SEEDS[args.blind]
    pairs = compose(seed, source)
    with out.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair["kind"]] = kinds.get(pair["kind"], 0) + 1
    print(f"{len(pairs)} pairs → {out}: {kinds}")


if __name__ == "__main__":
    main()
