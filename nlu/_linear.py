"""A compact, fast form of "TF-IDF blocks → calibrated one-vs-rest linear classifier".

scikit-learn's ``CalibratedClassifierCV`` predicts with one Python call per class and
fold (66 leaves × 3 folds ≈ 200 sigmoid calls per message) and ``FeatureUnion`` goes
through joblib for every message. ``LinearTextModel`` keeps the fitted vectorisers and
stacks the folds' weights and Platt parameters into arrays, so a prediction is one sparse
product plus a few vectorised operations — the same numbers, several times faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["Block", "LinearTextModel", "TextModel"]

#: A feature block: (fitted vectoriser with ``transform``, weight).
Block = tuple[Any, float]
#: Up to this many texts are scored without sparse matrices (one-message latency path).
_FAST_MAX_TEXTS = 4


class _FastBlock(NamedTuple):
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: Any
    weight: float
    offset: int
    sublinear: bool


class TextModel:
    """Weighted TF-IDF blocks in front of any fitted probabilistic classifier.

    Attributes:
        classes_: Class labels in column order.
    """

    def __init__(self, blocks: Sequence[Block], estimator: Any) -> None:
        """Build from fitted parts.

        Args:
            blocks: Fitted vectorisers and their weights, in feature order.
            estimator: Fitted classifier with ``predict_proba`` and ``classes_``.
        """
        self.blocks = [(vec, float(weight)) for vec, weight in blocks]
        self.estimator = estimator
        self.classes_ = estimator.classes_

    def transform(self, texts: Sequence[str]) -> Any:
        """The weighted, stacked TF-IDF matrix of ``texts`` (CSR)."""
        from scipy.sparse import hstack

        parts = []
        for vec, weight in self.blocks:
            part = vec.transform(texts)
            parts.append(part * weight if weight != 1.0 else part)
        return hstack(parts, format="csr")

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """Class probabilities (rows sum to 1).

        Args:
            texts: Prepared texts.

        Returns:
            A ``(len(texts), len(classes_))`` array.
        """
        return self.estimator.predict_proba(self.transform(texts))

    def predict(self, texts: Sequence[str]) -> Any:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]


class LinearTextModel(TextModel):
    """Vectorisers plus stacked sigmoid-calibrated linear classifiers.

    Equivalent to ``CalibratedClassifierCV(linear, method="sigmoid").predict_proba`` on
    the weighted horizontal stack of the blocks' TF-IDF matrices (multi-class only).

    Attributes:
        classes_: Class labels in column order.
    """

    def __init__(self, blocks: Sequence[Block], calibrated: Any) -> None:
        """Build from fitted parts.

        Args:
            blocks: Fitted vectorisers and their weights, in feature order.
            calibrated: A fitted ``CalibratedClassifierCV`` (sigmoid, linear base model
                with ``coef_``/``intercept_``, at least three classes).

        Raises:
            ValueError: If the calibrated model or the blocks are not of that form.
        """
        import numpy as np

        super().__init__(blocks, calibrated)
        n_classes = len(self.classes_)
        if n_classes < 3:
            raise ValueError("LinearTextModel needs at least three classes")
        if any(vec.norm != "l2" or not vec.use_idf for vec, _ in self.blocks):
            raise ValueError("LinearTextModel needs l2-normalised TF-IDF blocks")
        weights, intercepts, slopes, offsets = [], [], [], []
        for fold in calibrated.calibrated_classifiers_:
            base = getattr(fold, "base_estimator", None)
            base = fold.estimator if base is None else base
            columns = np.searchsorted(self.classes_, base.classes_)
            if len(columns) != n_classes or not np.array_equal(columns, np.arange(n_classes)):
                raise ValueError("a calibration fold lacks classes; keep the sklearn model")
            if not all(hasattr(c, "a_") for c in fold.calibrators):
                raise ValueError("only sigmoid calibration can be compacted")
            weights.append(np.asarray(base.coef_, dtype=np.float64))
            intercepts.append(np.asarray(base.intercept_, dtype=np.float64))
            slopes.append([c.a_ for c in fold.calibrators])
            offsets.append([c.b_ for c in fold.calibrators])
        self.folds = len(weights)
        # (features, folds * classes), so that a sparse row times it is one product
        self.coef = np.ascontiguousarray(np.vstack(weights).T)
        self.intercept = np.concatenate(intercepts)
        self.slope = np.asarray(slopes, dtype=np.float64).ravel()
        self.offset = np.asarray(offsets, dtype=np.float64).ravel()
        self.estimator = None  # the arrays above replace it (smaller file, faster load)
        self._fast: list[_FastBlock] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fast"] = None  # rebuilt on first use
        return state

    def _fast_blocks(self) -> list[_FastBlock]:
        fast: list[_FastBlock] | None = getattr(self, "_fast", None)
        if fast is None:
            import numpy as np

            fast, offset = [], 0
            for vec, weight in self.blocks:
                idf = np.asarray(vec.idf_, dtype=np.float64)
                analyzer = vec.build_analyzer()
                sublinear = bool(vec.sublinear_tf)
                fast.append(_FastBlock(analyzer, vec.vocabulary_, idf, weight, offset, sublinear))
                offset += len(idf)
            self._fast = fast
        return fast

    def _row_scores(self, text: str) -> Any:
        """Scores of one text without building sparse matrices (same numbers as sklearn's
        ``TfidfVectorizer(norm="l2", use_idf=True)`` followed by the product)."""
        import numpy as np

        indices: list[int] = []
        values: list[float] = []
        for block in self._fast_blocks():
            counts: dict[int, int] = {}
            vocabulary = block.vocabulary
            for feature in block.analyzer(text):
                column = vocabulary.get(feature)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if block.sublinear:
                tf = np.log(tf) + 1.0
            weighted = tf * block.idf[columns]
            norm = float(np.sqrt(np.dot(weighted, weighted)))
            if norm:
                weighted *= block.weight / norm
            indices.extend((columns + block.offset).tolist())
            values.extend(weighted.tolist())
        if not indices:
            return np.zeros(self.coef.shape[1])
        return np.asarray(values) @ self.coef[indices]

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """Calibrated class probabilities (rows sum to 1).

        Args:
            texts: Prepared texts.

        Returns:
            A ``(len(texts), len(classes_))`` array.
        """
        import numpy as np
        from scipy.special import expit

        if len(texts) <= _FAST_MAX_TEXTS:
            scores = np.vstack([self._row_scores(text) for text in texts])
        else:
            scores = self.transform(texts) @ self.coef
        scores += self.intercept
        proba = expit(-(self.slope * scores + self.offset))
        n_classes = len(self.classes_)
        proba = proba.reshape(len(texts), self.folds, n_classes)
        total = proba.sum(axis=2, keepdims=True)
        uniform = np.full_like(proba, 1.0 / n_classes)
        proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba.mean(axis=1)
