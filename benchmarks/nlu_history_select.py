"""Select the history model's settings by 5-fold CV on the 70 % training part only.

Usage: ``.venv/bin/python benchmarks/nlu_history_select.py [--quick]``

Takes the same seeded split as ``split_evaluate`` (``random.Random(42)``, 70/30) of the
TipDM dev file, never looks at the 30 % part, and prints the 5-fold CV accuracy and
macro-F1 of each candidate (features × classifier) on the 70 % part. The chosen setting
lives in ``nlu/_classifier.py`` (``_feature_blocks``, ``_base_classifier``, ``_fit_estimator``).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu._datasets import read_labelled  # noqa: E402
from nlu._features import head_text, prepare_text, word_unigrams  # noqa: E402

TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"

# (name, config); char = (min n, max n, min_df); head = char 1-2 grams of the first 40 chars
CANDIDATES: list[tuple[str, dict[str, Any]]] = [
    ("previous: char1-2 + words, SVM C=0.5", {"char": (1, 2, 2), "clf": ("svm", 0.5)}),
    ("char1-3 + words, SVM C=0.5", {"char": (1, 3, 2), "clf": ("svm", 0.5)}),
    ("char1-2 + words, SVM C=1", {"char": (1, 2, 2), "clf": ("svm", 1.0)}),
    ("char1-2 + words, LogReg C=20", {"char": (1, 2, 2), "clf": ("lr", 20.0)}),
    ("char1-2 + words, SGD modified_huber", {"char": (1, 2, 2), "clf": ("sgd", 1e-4)}),
    ("char1-2 + words + head, SVM C=0.5", {"char": (1, 2, 2), "head": True, "clf": ("svm", 0.5)}),
    ("char1-2 + words + head, ridge a=1", {"char": (1, 2, 2), "head": True, "clf": ("ridge", 1.0)}),
    ("char1-2 + words + head, ridge a=3", {"char": (1, 2, 2), "head": True, "clf": ("ridge", 3.0)}),
    (
        "char1-2 + words + head, ridge a=1, calibrated (3-fold ensemble)",
        {"char": (1, 2, 2), "head": True, "clf": ("ridge", 1.0), "calibrate": "ensemble"},
    ),
    (
        "char1-2 + words + head, ridge a=1, calibrated (one model + CV sigmoid)",
        {"char": (1, 2, 2), "head": True, "clf": ("ridge", 1.0), "calibrate": "single"},
    ),
    (
        "same + built-in examples (weight 0.3, gov-class labels)",
        {"char": (1, 2, 2), "head": True, "clf": ("ridge", 1.0), "builtin": 0.3},
    ),
]
QUICK = {0, 6, 9}


def _classifier(kind: str, value: float) -> Any:
    from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
    from sklearn.svm import LinearSVC

    if kind == "svm":
        return LinearSVC(C=value, class_weight="balanced")
    if kind == "lr":
        return LogisticRegression(C=value, class_weight="balanced", max_iter=2000)
    if kind == "sgd":
        return SGDClassifier(
            loss="modified_huber", alpha=value, class_weight="balanced", random_state=0
        )
    return RidgeClassifier(alpha=value, class_weight="balanced")


def _features(cfg: dict[str, Any], train: list[str], test: list[str]) -> tuple[Any, Any]:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    lo, hi, min_df = cfg["char"]
    vectorisers = [
        TfidfVectorizer(analyzer="char", ngram_range=(lo, hi), sublinear_tf=True, min_df=min_df),
        TfidfVectorizer(analyzer=word_unigrams, sublinear_tf=True),
    ]
    if cfg.get("head"):
        vectorisers.append(
            TfidfVectorizer(
                analyzer="char",
                ngram_range=(1, 2),
                sublinear_tf=True,
                min_df=2,
                preprocessor=head_text,
            )
        )
    a = hstack([v.fit_transform(train) for v in vectorisers], format="csr")
    b = hstack([v.transform(test) for v in vectorisers], format="csr")
    return a, b


def _cv(
    cfg: dict[str, Any], texts: list[str], labels: list[str], extra: Any
) -> tuple[float, float]:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels, dtype=object)
    accs, f1s = [], []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for train, test in folds.split(texts, y):
        tr_x, tr_y = [texts[i] for i in train], list(y[train])
        weights = None
        if cfg.get("builtin"):
            tr_x, tr_y = tr_x + extra[0], tr_y + extra[1]
            weights = np.r_[np.ones(len(train)), np.full(len(extra[0]), cfg["builtin"])]
        a, b = _features(cfg, tr_x, [texts[i] for i in test])
        model = _classifier(*cfg["clf"])
        if cfg.get("calibrate"):
            model = CalibratedClassifierCV(
                model, cv=3, method="sigmoid", ensemble=cfg["calibrate"] == "ensemble"
            )
            model.fit(a, np.asarray(tr_y, dtype=object))
        else:
            model.fit(a, np.asarray(tr_y, dtype=object), sample_weight=weights)
        pred = model.predict(b)
        accs.append(accuracy_score(y[test], pred))
        f1s.append(f1_score(y[test], pred, average="macro"))
    return round(float(np.mean(accs)), 4), round(float(np.mean(f1s)), 4)


def main(argv: list[str]) -> int:
    """Print the CV figures of each candidate as JSON lines."""
    if not TIPDM.is_file():
        print(f"{TIPDM} not found; nothing to select on")
        return 0
    from nlu._classifier import builtin_training_set
    from nlu._taxonomy import load_taxonomy

    texts, labels = read_labelled(TIPDM, "full_text", "label")
    order = list(range(len(texts)))
    random.Random(42).shuffle(order)
    train = order[: int(len(order) * 0.7)]  # the 30 % after the cut is never read here
    x = [prepare_text(texts[i]) for i in train]
    y = [labels[i] for i in train]
    tax = load_taxonomy()
    b_texts, b_paths = builtin_training_set()
    extra = (
        [prepare_text(t) for t in b_texts],
        [tax.get(p).gov_class for p in b_paths],  # type: ignore[union-attr]
    )
    for index, (name, cfg) in enumerate(CANDIDATES):
        if "--quick" in argv and index not in QUICK:
            continue
        started = time.monotonic()
        acc, f1 = _cv(cfg, x, y, extra)
        row = {"candidate": name, "cv5_accuracy": acc, "cv5_macro_f1": f1}
        row["seconds"] = round(time.monotonic() - started)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
