"""Print the NLU category figures on the TipDM 2020 dev file (when present).

Usage: ``.venv/bin/python benchmarks/nlu_eval.py [--no-cv]``

1. Built-in model (trained only on Jiesu's own examples) → gov_class accuracy/macro-F1.
2. History model trained on a seeded random 70 % of the file → accuracy/macro-F1 on 30 %.
3. 5-fold cross-validation of the history model (skip with ``--no-cv``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu._classifier import builtin_model  # noqa: E402
from nlu._datasets import read_labelled  # noqa: E402
from nlu.evaluation import evaluate  # noqa: E402
from nlu.history_import import cross_validate, split_evaluate  # noqa: E402

TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"


def main(argv: list[str]) -> int:
    """Run the evaluations and print a JSON summary."""
    if not TIPDM.is_file():
        print(f"{TIPDM} not found; nothing to evaluate")
        return 0
    texts, labels = read_labelled(TIPDM, "full_text", "label")
    gov = evaluate(builtin_model(), texts, labels)["gov_class"]
    out: dict[str, object] = {
        "builtin_gov_class": {"accuracy": gov["accuracy"], "macro_f1": gov["macro_f1"]},
    }
    split = split_evaluate(texts, labels)
    out["history_70_30"] = {"accuracy": split["accuracy"], "macro_f1": split["macro_f1"]}
    if "--no-cv" not in argv:
        out["history_cv5"] = cross_validate(texts, labels)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
