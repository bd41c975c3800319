"""Category classifier: TF-IDF (char + jieba word n-grams) and a linear model."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._features import encoder_text, prepare_text
from ._fusion import EncoderHead, choose_weight, fit_head
from ._lazy import Lazy
from ._linear import TextModel
from ._settings import (
    DATA_DIR,
    TAXONOMY_FILE,
    category_min_confidence,
    category_model_path,
    models_dir,
)
from ._taxonomy import Taxonomy, load_taxonomy
from ._text_model import fit_text_model
from ._types import CategoryLeaf, CategoryPrediction
from .encoders import EncoderError, SentenceEncoder, default_encoder, encoder_by_name

__all__ = [
    "LOW_CONFIDENCE_THRESHOLD",
    "CategoryModel",
    "ModelError",
    "builtin_training_set",
    "classify_category",
    "fit_text_model",
    "get_model",
    "train_model",
]

logger = logging.getLogger(__name__)

#: Predictions whose leaf confidence is below this are flagged ``low_confidence``
#: (the dialogue then asks the resident or lets staff choose).
LOW_CONFIDENCE_THRESHOLD = category_min_confidence()
#: Bump when features or model change, to invalidate cached built-in models.
MODEL_VERSION = 5
EXAMPLES_GLOB = "category_examples*.yml"
#: Fewest examples per class for choosing the fusion weight by 3-fold CV (each CV
#: training part must still allow the 3-fold sigmoid calibration).
_MIN_CV_EXAMPLES = 6


class ModelError(RuntimeError):
    """A category model cannot be trained, loaded or saved.

    Attributes:
        path: The model file concerned, if any.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class CategoryModel:
    """A trained classifier with the taxonomy (possibly extended) it predicts into.

    Attributes:
        taxonomy: The taxonomy, including leaves added from history labels.
        labels: Leaf paths (``class›leaf``) in the classifier's column order.
        estimator: The fitted text model (``nlu._linear.TextModel``; older files hold a
            scikit-learn pipeline), with ``predict_proba`` over prepared texts.
        meta: Provenance (source, number of examples, creation time, version; ``encoder``
            names the sentence encoder of ``head``).
        head: The sentence-embedding probe fused with the TF-IDF scores (None: TF-IDF
            only, as in models written before issue 13).
    """

    taxonomy: Taxonomy
    labels: list[str]
    estimator: Any
    meta: dict[str, Any] = field(default_factory=dict)
    head: EncoderHead | None = None

    @property
    def uses_encoder(self) -> bool:
        """True if predictions embed the text (the probe has a non-zero weight)."""
        head = getattr(self, "head", None)
        return head is not None and head.weight > 0

    def scores(self, texts: Sequence[str], *, encode: bool = True) -> Any:
        """Probability-like scores per label.

        Args:
            texts: Raw texts.
            encode: Fuse the sentence-embedding probe in (when the model has one); False
                gives the TF-IDF part alone (no encoder call).

        Returns:
            A ``(len(texts), len(labels))`` numpy array whose rows sum to 1.
        """
        proba = self.estimator.predict_proba([prepare_text(t) for t in texts])
        if encode and self.uses_encoder:
            assert self.head is not None
            proba = self.head.combine(
                proba, _encoder_for(self.head).encode([encoder_text(t) for t in texts])
            )
        return proba

    def predict_many(
        self, texts: Sequence[str], *, encode: bool = True
    ) -> list[CategoryPrediction]:
        """Classify several texts at once.

        Args:
            texts: Raw texts.
            encode: See ``scores``.

        Returns:
            One prediction per text.
        """
        if not texts:
            return []
        matrix = self.scores(texts, encode=encode)
        fused = encode and self.uses_encoder
        return [self._prediction(row, fused) for row in matrix]

    def predict(self, text: str, *, encode: bool = True) -> CategoryPrediction:
        """Classify one complaint (the whole text).

        Args:
            text: Raw text.
            encode: Fuse the sentence-embedding probe in (the classifying turn); False
                scores with the TF-IDF part alone (cheap; ``fused`` is then False).

        Returns:
            The prediction; empty text gives the 其他 leaf with confidence 0.
        """
        prepared = prepare_text(text) if isinstance(text, str) else ""
        if not prepared.strip():
            other = self.taxonomy.other
            return CategoryPrediction(
                other.name, other.gov_class, other.service_code, 0.0, ((other.name, 0.0),), True
            )
        return self.predict_many([text], encode=encode)[0]

    def _prediction(self, row: Any, fused: bool = False) -> CategoryPrediction:
        leaves = [self._leaf(label) for label in self.labels]
        by_class: dict[str, float] = {}
        for leaf, score in zip(leaves, row, strict=True):
            by_class[leaf.gov_class] = by_class.get(leaf.gov_class, 0.0) + float(score)
        # the class with most mass wins; then its best leaf (keeps leaf and class coherent)
        gov_class = max(by_class, key=lambda c: by_class[c])
        ranked = sorted(range(len(leaves)), key=lambda i: float(row[i]), reverse=True)
        best = next(i for i in ranked if leaves[i].gov_class == gov_class)
        leaf = leaves[best]
        confidence = round(float(row[best]), 4)
        top3 = tuple((leaves[i].name, round(float(row[i]), 4)) for i in ranked[:3])
        return CategoryPrediction(
            leaf=leaf.name,
            gov_class=leaf.gov_class,
            service_code=leaf.service_code,
            confidence=confidence,
            top3=top3,
            low_confidence=confidence < LOW_CONFIDENCE_THRESHOLD,
            fused=fused,
        )

    def _leaf(self, label: str) -> CategoryLeaf:
        leaf = self.taxonomy.get(label)
        return leaf if leaf is not None else self.taxonomy.other

    def save(self, path: Path) -> None:
        """Write the model atomically with joblib.

        Args:
            path: Target file.

        Raises:
            ModelError: If the file cannot be written.
        """
        import joblib

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            joblib.dump(self, tmp, compress=3)
            tmp.replace(path)
        except OSError as exc:
            raise ModelError(f"cannot write model {path}: {exc}", path) from exc

    @staticmethod
    def load(path: Path) -> CategoryModel:
        """Load a model written by ``save``.

        Args:
            path: Model file.

        Returns:
            The model.

        Raises:
            ModelError: If the file is missing or not a Jiesu category model.
        """
        import joblib

        try:
            model = joblib.load(path)
        except Exception as exc:  # joblib raises many kinds (EOFError, pickle errors ...)
            raise ModelError(f"cannot load category model {path}: {exc}", path) from exc
        if not isinstance(model, CategoryModel):
            raise ModelError(f"{path} is not a Jiesu category model", path)
        head = getattr(model, "head", None)
        if head is None:
            model.head = None  # a model file written before issue 13: TF-IDF only
        elif head.weight > 0:
            _check_encoder(head, path)
        return model


def _encoder_for(head: EncoderHead) -> SentenceEncoder:
    return encoder_by_name(str(head.encoder.get("name", "")))


def _prefetch_encoder(model: CategoryModel) -> CategoryModel:
    """Read the encoder's weights in a background thread while the rest loads."""
    if model.uses_encoder and model.head is not None:
        load = getattr(_encoder_for(model.head), "load", None)
        if callable(load):
            threading.Thread(target=load, name="encoder-load", daemon=True).start()
    return model


def _check_encoder(head: EncoderHead, path: Path) -> None:
    """Refuse a model trained on another encoder's vectors (name, version or weights)."""
    try:
        info = _encoder_for(head).info.as_dict()
    except EncoderError as exc:
        raise ModelError(f"{path}: its sentence encoder is unavailable: {exc}", path) from exc
    wanted = {k: head.encoder.get(k) for k in ("name", "version", "sha256", "dim")}
    if wanted != info:
        raise ModelError(
            f"{path} was trained with encoder {wanted}, this process has {info}; "
            "retrain it (jiesu import-history) with the installed encoder",
            path,
        )


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    taxonomy: Taxonomy,
    *,
    kind: str = "history",
    meta: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    encoder: SentenceEncoder | None | bool = True,
) -> CategoryModel:
    """Train a category model.

    Args:
        texts: Training texts.
        labels: Leaf paths (``class›leaf``) known to ``taxonomy``, one per text.
        taxonomy: Taxonomy the labels belong to.
        kind: ``"builtin"`` (tiny data: keep rare n-grams) or ``"history"``.
        meta: Extra provenance stored with the model.
        progress: Called with short progress messages.
        encoder: The sentence encoder for the fused probe: True = ``default_encoder()``,
            False/None = TF-IDF only. Its weight is chosen by 3-fold CV on ``texts``.

    Returns:
        The trained model.

    Raises:
        ModelError: If there are fewer than two labels or too few examples, or the
            encoder cannot be loaded.
    """
    say = progress or (lambda _msg: None)
    if len(texts) != len(labels):
        raise ModelError("texts and labels differ in length")
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        raise ModelError("need at least two different labels to train")
    small = [label for label, n in counts.items() if n < 3]
    if small:
        raise ModelError(f"labels with fewer than 3 examples: {', '.join(sorted(small)[:10])}")
    started = time.monotonic()
    say(f"preparing {len(texts)} texts in {len(counts)} classes")
    prepared = [prepare_text(t) for t in texts]
    say("fitting TF-IDF features and a linear classifier (3-fold calibrated)")
    import numpy as np

    y = np.asarray(labels, dtype=object)
    estimator = fit_text_model(kind, prepared, y)
    info: dict[str, Any] = {
        "kind": kind,
        "examples": len(texts),
        "classes": len(counts),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "version": MODEL_VERSION,
    }
    head = None
    chosen = default_encoder() if encoder is True else (encoder or None)
    if chosen is not None:
        head = _fit_head(kind, chosen, texts, prepared, y, estimator, say)
        info["encoder"] = dict(head.encoder, weight=head.weight)
    say(f"trained in {time.monotonic() - started:.1f} s")
    info.update(meta or {})
    return CategoryModel(taxonomy, [str(c) for c in estimator.classes_], estimator, info, head)


def _fit_head(
    kind: str,
    encoder: SentenceEncoder,
    texts: Sequence[str],
    prepared: Sequence[str],
    labels: Any,
    estimator: TextModel,
    say: Callable[[str], None],
) -> EncoderHead:
    """Embed the training texts, choose the fusion weight by CV, fit the probe."""
    import numpy as np

    try:
        identity = encoder.info.as_dict()
        say(f"embedding {len(texts)} texts with {identity['name']}")
        vectors = np.vstack(
            [
                encoder.encode([encoder_text(t) for t in texts[i : i + 64]])
                for i in range(0, len(texts), 64)
            ]
        )
    except EncoderError as exc:
        raise ModelError(f"sentence encoder unavailable: {exc}") from exc

    def fit_text(train: Any) -> Callable[[Any], Any]:
        part = fit_text_model(kind, [prepared[i] for i in train], labels[train])
        return lambda test: part.predict_proba([prepared[i] for i in test])

    smallest = min(np.unique(labels, return_counts=True)[1])
    if smallest < _MIN_CV_EXAMPLES:  # a CV fold could not calibrate: TF-IDF alone
        say(f"a class has only {smallest} examples: no probe weight can be chosen by CV")
        weight, figures = 0.0, {"min_class_examples": float(smallest)}
    else:
        say("choosing the fusion weight by 3-fold CV on the training texts")
        group = (lambda path: path.split("›", 1)[0]) if kind == "builtin" else None
        weight, figures = choose_weight(vectors, labels, fit_text, group=group)
    say(f"fusion weight {weight} (CV accuracy {figures})")
    return fit_head(vectors, labels, estimator.classes_, identity, weight, figures)


def builtin_training_set(taxonomy: Taxonomy | None = None) -> tuple[list[str], list[str]]:
    """The hand-written examples and keyword lexicons, as (texts, leaf paths).

    Args:
        taxonomy: Taxonomy to resolve leaf names (default: built-in).

    Returns:
        Parallel lists of texts and ``class›leaf`` labels.

    Raises:
        ModelError: If an example names an unknown leaf.
    """
    import yaml

    tax = taxonomy or load_taxonomy()
    texts: list[str] = []
    labels: list[str] = []
    for path in _example_files():
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for name, examples in (data.get("examples") or {}).items():
            leaf = tax.get(name)
            if leaf is None:
                raise ModelError(f"{path.name}: unknown leaf {name!r}", path)
            for example in examples or ():
                for doc in _documents(str(example)):
                    texts.append(doc)
                    labels.append(leaf.path)
    for leaf in tax.leaves:
        if leaf.keywords:
            # the lexicon as one more document (and the leaf name itself)
            for doc in _documents(" ".join(leaf.keywords)):
                texts.append(doc)
                labels.append(leaf.path)
            texts.append(f"{leaf.name} {leaf.name}")
            labels.append(leaf.path)
    return texts, labels


def _documents(example: str) -> list[str]:
    """Split a space-separated keyword list into 3-term documents; keep sentences whole."""
    terms = example.split()
    if len(terms) <= 3 or any(p in example for p in "，。,.!！?？"):
        return [example]
    return [" ".join(terms[i : i + 3]) for i in range(0, len(terms), 3)]


def _example_files() -> list[Path]:
    return sorted(DATA_DIR.glob(EXAMPLES_GLOB))


def _builtin_fingerprint() -> str:
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    for path in [*_example_files(), TAXONOMY_FILE]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _load_builtin() -> CategoryModel:
    cache = models_dir() / "category" / f"builtin-{_builtin_fingerprint()}.joblib"
    if cache.is_file():
        try:
            return CategoryModel.load(cache)
        except ModelError:
            logger.warning("ignoring unreadable cached model %s", cache, exc_info=True)
    texts, labels = builtin_training_set()
    model = train_model(
        texts, labels, load_taxonomy(), kind="builtin", meta={"source": "built-in examples"}
    )
    try:
        model.save(cache)
    except ModelError:
        logger.info("could not cache the built-in category model at %s", cache)
    return model


_BUILTIN: Lazy[CategoryModel] = Lazy(_load_builtin)
_LOADED: dict[Path, CategoryModel] = {}
_LOADED_LOCK = threading.Lock()
_PREFETCHED = threading.Event()


def get_model(path: Path | None = None, *, prefetch_encoder: bool = True) -> CategoryModel:
    """Return the category model in use (cached, thread-safe).

    Args:
        path: A model file; default: ``JIESU_CATEGORY_MODEL`` or
            ``models/category/history.joblib`` if present, else the built-in model.
        prefetch_encoder: Start reading the sentence encoder's weights in a background
            thread (False in the Rasa server, which scores without the encoder).

    Returns:
        The model.

    Raises:
        ModelError: If an explicitly configured model file cannot be loaded.
    """
    target = path or category_model_path()
    if target is None:
        model = _BUILTIN.get()
    else:
        target = target.resolve()
        with _LOADED_LOCK:
            model = _LOADED.get(target) or CategoryModel.load(target)
            _LOADED[target] = model
    if prefetch_encoder and not _PREFETCHED.is_set():
        _PREFETCHED.set()
        _prefetch_encoder(model)
    return model


def builtin_model() -> CategoryModel:
    """Return the built-in model (trained on our own examples), ignoring history models."""
    return _BUILTIN.get()


def classify_category(text: str) -> CategoryPrediction:
    """Assign a taxonomy leaf to a complaint, using its whole text.

    Uses the history-trained model when one is configured (``JIESU_CATEGORY_MODEL`` or
    ``models/category/history.joblib``), else the built-in model trained on Jiesu's own
    examples (trained on first use and cached under ``models/category/``).

    Args:
        text: The complaint text (all of it, not just one sentence).

    Returns:
        The prediction. ``low_confidence`` is set when the leaf's score is under
        ``LOW_CONFIDENCE_THRESHOLD``.
    """
    return get_model().predict(text)
