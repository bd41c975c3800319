"""Select the history model's settings by 5-fold CV on the 70 % training part only.

Usage: ``.venv/bin/python benchmarks/nlu_history_select.py [--quick] [--round 1|2] [--curve]``

Takes the same seeded split as ``split_evaluate`` (``random.Random(42)``, 70/30) of the
TipDM dev file, never looks at the 30 % part, and prints the 5-fold CV accuracy and
macro-F1 of each candidate (features × classifier) on the 70 % part. The chosen setting
lives in ``nlu/_text_model.py`` (``feature_blocks``, ``base_classifier``, ``fit_text_model``).

Round 1 chose the current setting. Round 2 (issue 3, second attempt at the 0.92 target)
tries what the first round left out: longer char n-grams, document-frequency caps,
truncation, the title field, salutation stripping, jieba search-mode words, NB-SVM,
Complement NB, per-view ensembles, LSA, k-NN, the built-in examples restricted to the
seven classes, taxonomy keyword counts, jionlp's pretrained LDA topics (the only
pretrained text knowledge installed) and training-label noise filtering. A candidate
replaces the chosen one only if it beats it by more than the CV noise (~0.008, one
standard error on 1,527 messages); none did. ``--curve`` prints the learning curve of the
chosen setting instead (each CV training fold subsampled to 40-100 %), to judge how much
more data the target would need.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu._datasets import read_labelled  # noqa: E402
from nlu._features import (  # noqa: E402
    _PUNCT,
    _STOPWORDS,
    MAX_CHARS,
    get_tokenizer,
    head_text,
    prepare_text,
    word_unigrams,
)
from nlu._normalize import normalize_text  # noqa: E402

TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"
#: Standard error of an accuracy near 0.9 on 1,527 messages: smaller gains are noise.
NOISE = 0.008

BASE: dict[str, Any] = {"char": (1, 2, 2), "head": True, "clf": ("ridge", 1.0)}

# (name, config); char = (min n, max n, min_df); head = char 1-2 grams of the first 40 chars
ROUND1: list[tuple[str, dict[str, Any]]] = [
    ("previous: char1-2 + words, SVM C=0.5", {"char": (1, 2, 2), "clf": ("svm", 0.5)}),
    ("char1-3 + words, SVM C=0.5", {"char": (1, 3, 2), "clf": ("svm", 0.5)}),
    ("char1-2 + words, SVM C=1", {"char": (1, 2, 2), "clf": ("svm", 1.0)}),
    ("char1-2 + words, LogReg C=20", {"char": (1, 2, 2), "clf": ("lr", 20.0)}),
    ("char1-2 + words, SGD modified_huber", {"char": (1, 2, 2), "clf": ("sgd", 1e-4)}),
    ("char1-2 + words + head, SVM C=0.5", {"char": (1, 2, 2), "head": True, "clf": ("svm", 0.5)}),
    ("char1-2 + words + head, ridge a=1", BASE),
    ("char1-2 + words + head, ridge a=3", {**BASE, "clf": ("ridge", 3.0)}),
    (
        "char1-2 + words + head, ridge a=1, calibrated (3-fold ensemble)",
        {**BASE, "calibrate": "ensemble"},
    ),
    (
        "char1-2 + words + head, ridge a=1, calibrated (one model + CV sigmoid)",
        {**BASE, "calibrate": "single"},
    ),
    (
        "same + built-in examples (weight 0.3, gov-class labels)",
        {**BASE, "builtin": 0.3, "builtin_other": True},
    ),
]

ROUND2: list[tuple[str, dict[str, Any]]] = [
    ("chosen, uncalibrated (reference)", BASE),
    ("char1-3 + words + head", {**BASE, "char": (1, 3, 2)}),
    ("char1-4 + words + head", {**BASE, "char": (1, 4, 2)}),
    ("char2-4 + words + head", {**BASE, "char": (2, 4, 2)}),
    ("char1-2 max_df 0.5 + words + head", {**BASE, "max_df": 0.5}),
    ("reads 300 chars", {**BASE, "cap": (300, 0)}),
    ("reads 3,000 chars", {**BASE, "cap": (3000, 0)}),
    ("reads first 600 + last 300 chars", {**BASE, "cap": (600, 300)}),
    ("head = title when present, else first 40 chars", {**BASE, "head": "title"}),
    ("head without salutation (尊敬的…领导，您好)", {**BASE, "head": "nosal"}),
    ("jieba search-mode words", {**BASE, "words": "search"}),
    ("ridge a=2", {**BASE, "clf": ("ridge", 2.0)}),
    ("ridge, square-root balanced classes", {**BASE, "clf": ("ridge_sqrt", 1.0)}),
    ("Complement NB a=0.1", {**BASE, "clf": ("cnb", 0.1)}),
    ("NB-SVM (log-count ratios, LinearSVC C=0.3)", {**BASE, "clf": ("nbsvm", 0.3)}),
    ("soft vote: ridge + NB-SVM", {**BASE, "vote": ["ridge", "nbsvm"]}),
    ("soft vote: ridge + Complement NB", {**BASE, "vote": ["ridge", "cnb"]}),
    ("soft vote: ridge + SVM + LogReg", {**BASE, "vote": ["ridge", "svm", "lr"]}),
    ("per-view ridges (char / words / head) averaged", {**BASE, "views": True}),
    ("+ LSA (300 dims, weight 1)", {**BASE, "lsa": 300}),
    ("+ 10-NN vote (weight 0.3)", {**BASE, "vote": ["ridge", "knn"], "vote_weights": [1, 0.3]}),
    ("+ built-in examples, 7 classes only, weight 0.05", {**BASE, "builtin": 0.05}),
    ("+ built-in examples, 7 classes only, weight 0.2", {**BASE, "builtin": 0.2}),
    ("+ taxonomy keyword counts per class (weight 0.1)", {**BASE, "keywords": 0.1}),
    ("+ jionlp's 100 LDA topics of the words (weight 0.6)", {**BASE, "topics": 0.6}),
    ("drop training messages misfit in inner CV (margin < -1)", {**BASE, "denoise": 1.0}),
]
QUICK = {
    "previous: char1-2 + words, SVM C=0.5",
    "char1-2 + words + head, ridge a=1",
    "char1-2 + words + head, ridge a=1, calibrated (one model + CV sigmoid)",
    "per-view ridges (char / words / head) averaged",
}

_SALUTATION = re.compile(
    r"^(?:(?:尊敬的|敬爱的|亲爱的)?[^，。！：:,!]{0,12}?"
    r"(?:领导|书记|市长|局长|县长|区长|主任|同志|工作人员|负责人|部门|政府)们?(?:你们|您)?好?"
    r"[，。！：:,!\s]*)?(?:(?:你们|您|大家)好[，。！：:,!\s]*)?"
)


def _search_words(text: str) -> list[str]:
    return [
        w
        for w in get_tokenizer().lcut_for_search(text)
        if w.strip() and not _PUNCT.match(w) and w not in _STOPWORDS
    ]


def _no_salutation_head(text: str) -> str:
    return head_text(_SALUTATION.sub("", text, count=1))


def _prepare(text: str, cap: tuple[int, int] | None) -> str:
    """``prepare_text`` with another length rule (first N chars, optionally + last M)."""
    if cap is None:
        return prepare_text(text)
    first, last = cap
    full = re.sub(r"\d+", "0", normalize_text(text).lower())
    if last and len(full) > first + last:
        return full[:first] + "。" + full[-last:]
    return full[:first]


class _NBSVM:
    """One-vs-rest LinearSVC on features scaled by the class's log-count ratio."""

    def __init__(self, c: float) -> None:
        self.c = c

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> _NBSVM:
        import numpy as np
        from sklearn.svm import LinearSVC

        self.classes_ = np.unique(y)
        binary = x.copy()
        binary.data[:] = 1.0
        self.ratios, self.models = [], []
        for cls in self.classes_:
            pos = np.asarray(binary[y == cls].sum(0)).ravel() + 1.0
            neg = np.asarray(binary[y != cls].sum(0)).ravel() + 1.0
            ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
            model = LinearSVC(C=self.c, class_weight="balanced")
            model.fit(x.multiply(ratio).tocsr(), (y == cls).astype(int))
            self.ratios.append(ratio)
            self.models.append(model)
        return self

    def decision_function(self, x: Any) -> Any:
        import numpy as np

        return np.column_stack(
            [
                m.decision_function(x.multiply(r).tocsr())
                for r, m in zip(self.ratios, self.models, strict=True)
            ]
        )


def _classifier(kind: str, value: float, labels: Any = None) -> Any:
    from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import LinearSVC

    if kind == "svm":
        return LinearSVC(C=value, class_weight="balanced")
    if kind == "lr":
        return LogisticRegression(C=value, class_weight="balanced", max_iter=2000)
    if kind == "sgd":
        return SGDClassifier(
            loss="modified_huber", alpha=value, class_weight="balanced", random_state=0
        )
    if kind == "cnb":
        return ComplementNB(alpha=value)
    if kind == "nbsvm":
        return _NBSVM(value)
    if kind == "knn":
        return KNeighborsClassifier(int(value), metric="cosine", weights="distance")
    if kind == "ridge_sqrt":
        from collections import Counter

        counts = Counter(labels)
        weights = {k: (len(labels) / (len(counts) * n)) ** 0.5 for k, n in counts.items()}
        return RidgeClassifier(alpha=value, class_weight=weights)
    return RidgeClassifier(alpha=value, class_weight="balanced")


_VOTE_SETTINGS = {"ridge": 1.0, "svm": 0.5, "lr": 30.0, "cnb": 0.1, "nbsvm": 0.3, "knn": 10}


def _vectorisers(cfg: dict[str, Any], titles: dict[str, str]) -> list[list[Any]]:
    """The TF-IDF blocks of a candidate, grouped by view (char, words, head)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    lo, hi, min_df = cfg["char"]
    words = _search_words if cfg.get("words") == "search" else word_unigrams
    views = [
        [
            TfidfVectorizer(
                analyzer="char",
                ngram_range=(lo, hi),
                sublinear_tf=True,
                min_df=min_df,
                max_df=cfg.get("max_df", 1.0),
            )
        ],
        [TfidfVectorizer(analyzer=words, sublinear_tf=True)],
    ]
    head = cfg.get("head")
    if head:
        pre = head_text
        if head == "nosal":
            pre = _no_salutation_head
        elif head == "title":

            def pre(text: str) -> str:
                return titles.get(text) or head_text(text)

        views.append(
            [
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    preprocessor=pre,
                )
            ]
        )
    return views


def _zscore(scores: Any) -> Any:
    centred = scores - scores.mean(axis=1, keepdims=True)
    return centred / (centred.std(axis=1, keepdims=True) + 1e-9)


def _scores(model: Any, x: Any) -> Any:
    import numpy as np

    if hasattr(model, "decision_function"):
        return model.decision_function(x)
    return np.log(model.predict_proba(x) + 1e-9)


class _Fold:
    """Features of one CV fold (fitted on its training texts only)."""

    def __init__(self, cfg: dict[str, Any], train: list[str], test: list[str], ctx: Any) -> None:
        from scipy.sparse import csr_matrix, hstack

        self.views_train, self.views_test = [], []
        for view in _vectorisers(cfg, ctx["titles"]):
            self.views_train.append(hstack([v.fit_transform(train) for v in view], format="csr"))
            self.views_test.append(hstack([v.transform(test) for v in view], format="csr"))
        self.train = hstack(self.views_train, format="csr")
        self.test = hstack(self.views_test, format="csr")
        if cfg.get("lsa"):
            from sklearn.decomposition import TruncatedSVD
            from sklearn.preprocessing import normalize

            svd = TruncatedSVD(cfg["lsa"], random_state=0).fit(self.train)
            self.train = hstack([self.train, csr_matrix(normalize(svd.transform(self.train)))])
            self.test = hstack([self.test, csr_matrix(normalize(svd.transform(self.test)))])
        if cfg.get("keywords"):
            counts_train, counts_test = ctx["keyword_counts"](train), ctx["keyword_counts"](test)
            scale = cfg["keywords"] / (counts_train.std(axis=0) + 1e-9)
            self.train = hstack([self.train, csr_matrix(counts_train * scale)])
            self.test = hstack([self.test, csr_matrix(counts_test * scale)])
        if cfg.get("topics"):
            topics_train, topics_test = ctx["topics"](train), ctx["topics"](test)
            centre = topics_train.mean(axis=0)
            self.train = hstack([self.train, csr_matrix((topics_train - centre) * cfg["topics"])])
            self.test = hstack([self.test, csr_matrix((topics_test - centre) * cfg["topics"])])
        self.train, self.test = self.train.tocsr(), self.test.tocsr()


def _predict(cfg: dict[str, Any], fold: _Fold, y: Any, weights: Any) -> Any:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV

    if cfg.get("views"):
        total = 0
        for a, b in zip(fold.views_train, fold.views_test, strict=True):
            model = _classifier(*cfg["clf"]).fit(a, y)
            total = total + _zscore(model.decision_function(b))
        return model.classes_[np.argmax(total, axis=1)]
    if cfg.get("vote"):
        total = 0
        vote_weights = cfg.get("vote_weights") or [1.0] * len(cfg["vote"])
        for kind, weight in zip(cfg["vote"], vote_weights, strict=True):
            model = _classifier(kind, _VOTE_SETTINGS[kind]).fit(fold.train, y)
            total = total + weight * _zscore(_scores(model, fold.test))
        return model.classes_[np.argmax(total, axis=1)]
    kind, value = cfg["clf"]
    model = _classifier(kind, value, labels=list(y))
    if cfg.get("calibrate"):
        model = CalibratedClassifierCV(
            model, cv=3, method="sigmoid", ensemble=cfg["calibrate"] == "ensemble"
        )
        model.fit(fold.train, y)
        return model.predict(fold.test)
    model.fit(fold.train, y, sample_weight=weights)
    if hasattr(model, "predict"):
        return model.predict(fold.test)
    return model.classes_[np.argmax(model.decision_function(fold.test), axis=1)]


def _denoise(fold: _Fold, y: Any, margin: float) -> Any:
    """Mask of training messages kept: those not clearly misfit by an inner 5-fold CV."""
    import numpy as np
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros((len(y), len(np.unique(y))))
    inner = StratifiedKFold(n_splits=5, shuffle=True, random_state=1)
    for a, b in inner.split(np.zeros(len(y)), y):
        model = RidgeClassifier(alpha=1.0, class_weight="balanced").fit(fold.train[a], y[a])
        scores[b] = _zscore(model.decision_function(fold.train[b]))
    gold = np.searchsorted(model.classes_, y)
    own = scores[np.arange(len(y)), gold]
    scores[np.arange(len(y)), gold] = -np.inf
    return own - scores.max(axis=1) > -margin


def _cv(cfg: dict[str, Any], texts: list[str], labels: list[str], ctx: Any) -> tuple[float, float]:
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    prepared = ctx["prepared"](cfg.get("cap"))
    y = np.asarray(labels, dtype=object)
    accs, f1s = [], []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for train, test in folds.split(texts, y):
        tr_x, tr_y = [prepared[i] for i in train], list(y[train])
        weights = None
        if cfg.get("builtin"):
            extra_x, extra_y = ctx["builtin"](cfg.get("builtin_other", False))
            tr_x, tr_y = tr_x + extra_x, tr_y + extra_y
            weights = np.r_[np.ones(len(train)), np.full(len(extra_x), cfg["builtin"])]
        fold = _Fold(cfg, tr_x, [prepared[i] for i in test], ctx)
        tr_arr = np.asarray(tr_y, dtype=object)
        if cfg.get("denoise"):
            keep = _denoise(fold, tr_arr, cfg["denoise"])
            fold.train, tr_arr = fold.train[keep], tr_arr[keep]
        pred = _predict(cfg, fold, tr_arr, weights)
        accs.append(accuracy_score(y[test], pred))
        f1s.append(f1_score(y[test], pred, average="macro"))
    return round(float(np.mean(accs)), 4), round(float(np.mean(f1s)), 4)


def _learning_curve(texts: list[str], labels: list[str], ctx: Any) -> None:
    """CV figures of the chosen (uncalibrated) setting on subsamples of each training fold."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    prepared = ctx["prepared"](None)
    y = np.asarray(labels, dtype=object)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=42).split(texts, y))
    for share in (0.4, 0.6, 0.8, 1.0):
        accs, f1s = [], []
        for train, test in folds:
            sub = np.random.RandomState(0).choice(train, int(len(train) * share), replace=False)
            fold = _Fold(BASE, [prepared[i] for i in sub], [prepared[i] for i in test], ctx)
            pred = _predict(BASE, fold, y[sub], None)
            accs.append(accuracy_score(y[test], pred))
            f1s.append(f1_score(y[test], pred, average="macro"))
        row: dict[str, float] = {"train_messages": int(len(folds[0][0]) * share)}
        row["cv5_accuracy"] = round(float(np.mean(accs)), 4)
        row["cv5_macro_f1"] = round(float(np.mean(f1s)), 4)
        print(json.dumps(row), flush=True)


def _context(texts: list[str], titles: list[str]) -> dict[str, Any]:
    """Lazily built extras shared by the candidates (prepared texts, built-in data ...)."""
    import numpy as np

    from nlu._classifier import builtin_training_set
    from nlu._taxonomy import load_taxonomy

    tax = load_taxonomy()
    classes = sorted({leaf.gov_class for leaf in tax.leaves} - {"其他"})
    keywords = {
        c: [k.lower() for leaf in tax.leaves if leaf.gov_class == c for k in leaf.keywords]
        for c in classes
    }
    cache: dict[Any, list[str]] = {}

    def prepared(cap: tuple[int, int] | None) -> list[str]:
        if cap not in cache:
            cache[cap] = [_prepare(t, cap) for t in texts]
        return cache[cap]

    def builtin(keep_other: bool) -> tuple[list[str], list[str]]:
        b_texts, b_paths = builtin_training_set()
        pairs = [(t, tax.get(p).gov_class) for t, p in zip(b_texts, b_paths, strict=True)]  # type: ignore[union-attr]
        return (
            [prepare_text(t) for t, g in pairs if keep_other or g in classes],
            [g for _, g in pairs if keep_other or g in classes],
        )

    def keyword_counts(batch: list[str]) -> Any:
        return np.array(
            [[np.log1p(sum(t.count(k) for k in keywords[c])) for c in classes] for t in batch]
        )

    topic_weights: dict[str, dict[str, float]] = {}

    def topics(batch: list[str]) -> Any:
        """Mean p(topic | word) over each text's words (jionlp's pretrained LDA, 100 topics)."""
        from sklearn.preprocessing import normalize

        if not topic_weights:
            import jionlp

            source = Path(jionlp.__file__).parent / "dictionary" / "topic_word_weight.json"
            topic_weights.update(json.loads(source.read_text(encoding="utf-8")))
        out = np.zeros((len(batch), 100))
        for row, text in enumerate(batch):
            for word in word_unigrams(text):
                for topic, weight in topic_weights.get(word, {}).items():
                    out[row, int(topic)] += weight
        return normalize(out)

    title_of = {
        prepare_text(t): prepare_text(ti)[:MAX_CHARS]
        for t, ti in zip(texts, titles, strict=True)
        if ti
    }
    return {
        "prepared": prepared,
        "builtin": builtin,
        "keyword_counts": keyword_counts,
        "topics": topics,
        "titles": title_of,
    }


def main(argv: list[str]) -> int:
    """Print the CV figures of each candidate as JSON lines."""
    if not TIPDM.is_file():
        print(f"{TIPDM} not found; nothing to select on")
        return 0
    texts, labels = read_labelled(TIPDM, "full_text", "label")
    with TIPDM.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    titles = [str(r.get("title") or "") for r in rows]
    if len(titles) != len(texts):  # read_labelled skipped rows: titles would not line up
        titles = [""] * len(texts)
    order = list(range(len(texts)))
    random.Random(42).shuffle(order)
    train = order[: int(len(order) * 0.7)]  # the 30 % after the cut is never read here
    x = [texts[i] for i in train]
    y = [labels[i] for i in train]
    ctx = _context(x, [titles[i] for i in train])
    if "--curve" in argv:
        _learning_curve(x, y, ctx)
        return 0
    rounds = {"1": ROUND1, "2": ROUND2}
    chosen = argv[argv.index("--round") + 1] if "--round" in argv else "12"
    for number, candidates in rounds.items():
        if number not in chosen:
            continue
        for name, cfg in candidates:
            if "--quick" in argv and name not in QUICK:
                continue
            started = time.monotonic()
            acc, f1 = _cv(cfg, x, y, ctx)
            row = {"round": int(number), "candidate": name, "cv5_accuracy": acc}
            row["cv5_macro_f1"] = f1
            row["seconds"] = round(time.monotonic() - started)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
