"""The TF-IDF part of every Jiesu text classifier: feature blocks, linear model, calibration.

One ``kind`` per model: ``"builtin"`` (category, hand-written examples), ``"history"``
(category, a city's tickets; chosen by 5-fold CV on the TipDM training part,
``benchmarks/nlu_history_select.py``) and ``"request_type"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._features import head_text, word_ngrams, word_unigrams
from ._linear import Block, LinearTextModel, TextModel

__all__ = ["HISTORY_RIDGE_ALPHA", "base_classifier", "feature_blocks", "fit_text_model"]

#: Regularisation of the history model's ridge classifier (5-fold CV on training data).
HISTORY_RIDGE_ALPHA = 1.0


def feature_blocks(kind: str) -> list[Block]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if kind == "request_type":
        from ._request_type import cue_features

        # a few hundred hand-written utterances: char and word n-grams plus cue groups
        return [
            (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), 1.0),
            (TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True), 1.0),
            (TfidfVectorizer(analyzer=cue_features), 1.0),
        ]
    if kind == "builtin":
        # tiny hand-written data: keep rare n-grams, use word bigrams too
        return [
            (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), 1.0),
            (TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True), 1.0),
        ]
    # thousands of real tickets: char 1-2 grams + words, plus the opening characters
    # (the title or first sentence) as a block of their own; chosen by 5-fold CV on the
    # training part only (benchmarks/nlu_history_select.py)
    return [
        (TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2), 1.0),
        (TfidfVectorizer(analyzer=word_unigrams, sublinear_tf=True), 1.0),
        (
            TfidfVectorizer(
                analyzer="char",
                ngram_range=(1, 2),
                sublinear_tf=True,
                min_df=2,
                preprocessor=head_text,
            ),
            1.0,
        ),
    ]


def base_classifier(kind: str) -> Any:
    if kind in ("builtin", "request_type"):
        from sklearn.svm import LinearSVC

        return LinearSVC(C=0.5, class_weight="balanced", random_state=0)
    from sklearn.linear_model import RidgeClassifier

    return RidgeClassifier(alpha=HISTORY_RIDGE_ALPHA, class_weight="balanced")


def fit_text_model(kind: str, prepared: Sequence[str], labels: Any) -> TextModel:
    """Fit the TF-IDF blocks and a sigmoid-calibrated (3-fold) linear classifier.

    Args:
        kind: ``"builtin"``, ``"history"`` or ``"request_type"`` (feature blocks and
            classifier of that model).
        prepared: Prepared texts (``prepare_text``).
        labels: Their labels (numpy array).

    Returns:
        The fitted text model.
    """
    from scipy.sparse import hstack
    from sklearn.calibration import CalibratedClassifierCV

    blocks = feature_blocks(kind)
    parts = []
    for vec, weight in blocks:
        part = vec.fit_transform(prepared)
        parts.append(part * weight if weight != 1.0 else part)
    features = hstack(parts, format="csr")
    # built-in: average of the 3 fold models; history: one model fitted on all the data,
    # sigmoids fitted on its 3-fold out-of-fold scores (better by CV on real tickets)
    calibrated = CalibratedClassifierCV(
        base_classifier(kind), cv=3, method="sigmoid", ensemble=kind != "history"
    )
    calibrated.fit(features, labels)
    try:
        return LinearTextModel(blocks, calibrated)
    except ValueError:  # two classes, or a fold without some class
        return TextModel(blocks, calibrated)
