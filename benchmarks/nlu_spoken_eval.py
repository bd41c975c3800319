"""Issue 13 figures on the evaluation-only spoken set and the TipDM dev file.

Usage: ``.venv/bin/python benchmarks/nlu_spoken_eval.py [--no-tipdm]``

Prints, for the built-in category model, gov-class accuracy / macro-F1 with the TF-IDF
part alone and with the fused sentence-embedding probe (the shipped model), on
``tests/nlu/spoken_eval.yml`` (written for evaluation only) and on TipDM (read at run
time, never stored); and request-type accuracy, macro-F1 and the confusion matrix on the
spoken set, without and with the encoder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu import classify_request_type  # noqa: E402
from nlu._classifier import builtin_model  # noqa: E402
from nlu._datasets import read_labelled  # noqa: E402
from nlu._metrics import Report, classification_report  # noqa: E402

CASES = REPO / "tests" / "nlu" / "spoken_eval.yml"
TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"


def _print_confusion(report: Report) -> None:
    labels = report["labels"]
    print("    gold \\ pred " + " ".join(f"{label:>4}" for label in labels))
    for label, row in zip(labels, report["confusion"], strict=True):
        print(f"    {label:>11} " + " ".join(f"{n:>6}" for n in row))
    for label, c in report["per_class"].items():
        print(
            f"    {label}: P {c['precision']:.2f} R {c['recall']:.2f} F1 {c['f1']:.2f} (n={c['support']})"
        )


def _gov(texts: list[str], gold: list[str], name: str) -> None:
    model = builtin_model()
    for encode in (False, True):
        preds = model.predict_many(texts, encode=encode)
        rep = classification_report(gold, [p.gov_class for p in preds])
        part = "TF-IDF + encoder probe (shipped)" if encode else "TF-IDF alone"
        print(
            f"  {name}: built-in gov class, {part}: acc {rep['accuracy']:.3f} macro-F1 {rep['macro_f1']:.3f} (n={rep['n']})"
        )


def main(argv: list[str]) -> int:
    """Print the figures."""
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    labelled = [(t, g) for t, g, _ in cases if g]
    print(f"spoken set: {len(cases)} utterances, {len(labelled)} with a gov class")
    model = builtin_model()
    print(
        f"  built-in model: fusion weight {model.head.weight if model.head else 0} "
        f"(3-fold CV on its training texts: {model.head.chosen_by if model.head else {}})"
    )
    _gov([t for t, _ in labelled], [g for _, g in labelled], "spoken")
    if "--no-tipdm" not in argv and TIPDM.is_file():
        texts, labels = read_labelled(TIPDM, "full_text", "label")
        _gov(texts, labels, "TipDM")
    gold = [t for _, _, t in cases]
    for encode in (False, True):
        rep = classification_report(
            gold, [classify_request_type(t, encode=encode).type for t, _, _ in cases]
        )
        part = "with encoder (shipped)" if encode else "without encoder"
        print(f"  request type, {part}: acc {rep['accuracy']:.3f} macro-F1 {rep['macro_f1']:.3f}")
        if encode:
            _print_confusion(rep)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
