"""Late fusion of the TF-IDF scorer with a linear probe on sentence embeddings.

The probe is a multinomial logistic regression on the encoder's vector of the text. The
two calibrated distributions are combined as a weighted geometric mean,
``p ∝ p_text^(1-w) · p_probe^w``; ``w`` is chosen by cross-validation on the training
data only (out-of-fold probabilities of both parts, see ``choose_weight``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FUSION_WEIGHTS", "EncoderHead", "choose_weight", "fit_head", "fuse"]

#: Candidate weights of the probe (0 = TF-IDF alone).
FUSION_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
#: Inverse regularisation of the probe (5-fold CV on the TipDM 70 % part: C=4).
PROBE_C = 4.0
_EPS = 1e-9


@dataclass
class EncoderHead:
    """A fitted probe and its fusion weight, bound to one encoder.

    Attributes:
        encoder: ``EncoderInfo.as_dict()`` of the encoder it was trained on.
        coef: ``(classes, dim)`` weights.
        intercept: ``(classes,)`` biases.
        weight: Fusion weight ``w`` (0 disables the probe).
        chosen_by: How ``weight`` was chosen (CV accuracy of each candidate).
    """

    encoder: dict[str, Any]
    coef: Any
    intercept: Any
    weight: float
    chosen_by: dict[str, float]

    def proba(self, vectors: Any) -> Any:
        """Probe probabilities of embedded texts (rows sum to 1)."""
        from scipy.special import softmax

        return softmax(vectors @ self.coef.T + self.intercept, axis=1)

    def combine(self, text_proba: Any, vectors: Any) -> Any:
        """Fused probabilities of the TF-IDF part's output and the texts' vectors."""
        if self.weight <= 0:
            return text_proba
        return fuse(text_proba, self.proba(vectors), self.weight)


def fuse(text_proba: Any, probe_proba: Any, weight: float) -> Any:
    """Weighted geometric mean of two distributions, renormalised.

    Args:
        text_proba: ``(n, classes)`` TF-IDF probabilities.
        probe_proba: ``(n, classes)`` probe probabilities, same column order.
        weight: Share of the probe, in ``[0, 1]``.

    Returns:
        ``(n, classes)`` probabilities.
    """
    import numpy as np
    from scipy.special import softmax

    logits = (1.0 - weight) * np.log(text_proba + _EPS) + weight * np.log(probe_proba + _EPS)
    return softmax(logits, axis=1)


def _probe(c: float = PROBE_C) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


def fit_head(
    vectors: Any,
    labels: Any,
    classes: Sequence[str],
    encoder: dict[str, Any],
    weight: float,
    chosen_by: dict[str, float],
) -> EncoderHead:
    """Fit the probe on all training vectors.

    Args:
        vectors: ``(n, dim)`` embeddings of the training texts.
        labels: Their labels.
        classes: The TF-IDF model's class order (the probe's columns follow it).
        encoder: Identity of the encoder that produced ``vectors``.
        weight: Fusion weight from ``choose_weight``.
        chosen_by: The CV figures behind ``weight``.

    Returns:
        The head.

    Raises:
        ValueError: If the probe's classes differ from ``classes``.
    """
    import numpy as np

    model = _probe().fit(vectors, labels)
    if [str(c) for c in model.classes_] != [str(c) for c in classes]:
        raise ValueError("probe classes differ from the text model's")
    return EncoderHead(
        dict(encoder),
        np.asarray(model.coef_, dtype=np.float32),
        np.asarray(model.intercept_, dtype=np.float32),
        float(weight),
        dict(chosen_by),
    )


def choose_weight(
    vectors: Any,
    labels: Any,
    fit_text: Callable[[Any], Callable[[Any], Any]],
    *,
    folds: int = 3,
    seed: int = 0,
    group: Callable[[str], str] | None = None,
) -> tuple[float, dict[str, float]]:
    """Pick the fusion weight by ``folds``-fold CV on the training data.

    Args:
        vectors: ``(n, dim)`` embeddings of the training texts.
        labels: ``(n,)`` labels (numpy object array).
        fit_text: Called with training indices; returns a function mapping test indices
            to the TF-IDF part's probabilities (columns in sorted label order).
        folds: Number of folds.
        seed: Shuffle seed.
        group: Maps a label to the unit whose accuracy counts (e.g. its gov class);
            default: the label itself.

    Returns:
        The weight with the best out-of-fold accuracy (ties: the smaller weight) and the
        accuracy of every candidate, keyed ``"w=0.1"``.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    classes = np.unique(labels)
    n = len(labels)
    text_oof = np.zeros((n, len(classes)))
    probe_oof = np.zeros((n, len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(n), labels):
        predict = fit_text(train)
        fold_classes = np.unique(labels[train])
        columns = np.searchsorted(classes, fold_classes)
        text_oof[np.ix_(test, columns)] = predict(test)
        probe = _probe().fit(vectors[train], labels[train])
        probe_oof[np.ix_(test, np.searchsorted(classes, probe.classes_))] = probe.predict_proba(
            vectors[test]
        )
    unit = group or (lambda label: label)
    gold = np.array([unit(str(label)) for label in labels], dtype=object)
    mapped = np.array([unit(str(c)) for c in classes], dtype=object)
    figures: dict[str, float] = {}
    best, best_acc = 0.0, -1.0
    for weight in FUSION_WEIGHTS:
        proba = fuse(text_oof, probe_oof, weight) if weight else text_oof
        if group is None:
            pred = mapped[proba.argmax(axis=1)]
        else:  # the unit with most probability mass (as CategoryModel decides)
            units = sorted(set(mapped))
            mass = np.column_stack([proba[:, mapped == u].sum(axis=1) for u in units])
            pred = np.array(units, dtype=object)[mass.argmax(axis=1)]
        acc = float((pred == gold).mean())
        figures[f"w={weight:.1f}"] = round(acc, 4)
        if acc > best_acc + 1e-9:
            best, best_acc = weight, acc
    return best, figures
