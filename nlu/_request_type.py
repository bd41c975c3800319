"""Request type (投诉/求助/咨询/建议/举报/表扬): explicit words, danger, then a model.

1. An explicit, unnegated statement ("我要举报", "想咨询一下") decides (confidence 1).
2. Danger happening now (``assess_emergency`` at ADVICE: "着火了", "有人打架") is 求助.
3. Otherwise a calibrated linear model over char/word TF-IDF and *cue* features (which
   groups of cue words occur: 举报-style wrongdoing such as 无证/过期/秤不准/私搭乱建/
   烧垃圾, help cues, question forms, suggestion forms, praise) decides, fused with a
   probe on the sentence embedding (``nlu.encoders``) when ``encode`` is set; the fusion
   weight is chosen by CV on the training examples. Trained on first use from
   ``nlu/data/request_type_examples.yml`` and cached under ``models/request_type/``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._emergency import EmergencyLevel, assess_emergency
from ._lazy import Lazy
from ._normalize import normalize_text
from ._settings import DATA_DIR, models_dir
from .negation import is_negated

__all__ = [
    "REQUEST_TYPES",
    "REQUEST_TYPE_MIN_CONFIDENCE",
    "RequestTypePrediction",
    "classify_request_type",
    "cue_features",
    "detect_request_type",
    "request_type_model",
]

logger = logging.getLogger(__name__)

#: All request types.
REQUEST_TYPES = ("投诉", "求助", "咨询", "建议", "举报", "表扬")
#: Below this confidence the type is "unsure": the read-back asks the resident to check it.
REQUEST_TYPE_MIN_CONFIDENCE = 0.6
EXAMPLES_FILE = DATA_DIR / "request_type_examples.yml"
#: Bump when the features or the model change (invalidates cached models).
MODEL_VERSION = 1

_EXPLICIT = re.compile(r"投诉|举报|表扬|建议|咨询|求助")
# Cue groups; each one that matches is one feature (the model learns how much it counts).
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "praise",
        re.compile(
            r"表扬|感谢|谢谢|点赞|点个赞|锦旗|夸一夸|夸夸|好评|辛苦了|负责任?|耐心|敬业|暖心|"
            r"热心|服务[^，。]{0,2}好|效率[^，。]{0,2}高|很满意|都满意|特别满意|感动|救了"
        ),
    ),
    (
        "wrongdoing",
        re.compile(
            r"揭发|检举|偷偷|私自|私搭|乱搭|乱建|加盖|违规|违法|非法|违禁|无证|没证|"
            r"没有[^，。]{0,4}(?:证|执照|资质|许可|资格)|没[^，。]{0,2}(?:执照|资质|资格)|"
            r"黑(?:诊所|作坊|车|加油|中介|心)|假(?:药|烟|酒|货|房源|账)|掺假|冒充|过期|地沟油|"
            r"秤不准|缺斤少两|两个秤|三无|传销|诈骗|骗(?:钱|老|定金|补贴)|套取|赌|童工|偷排|"
            r"偷倒|排污|往[^，。]{0,6}(?:倒|排)|(?:烧|焚烧)[^，。]{0,3}(?:垃圾|轮胎|秸秆|电线)|"
            r"群租|挖沙|砍树|改日期|没检疫|挂羊头|死猪肉|不消毒|虚报"
        ),
    ),
    (
        "help",
        re.compile(
            r"救命|救救|快来|快派|快叫|快点来|赶紧|帮帮|帮忙|帮我|求求|怎么办|该找谁|"
            r"不知道找谁|困在|困住|被困|出不去|走丢|找不到家|晕|摔|流血|受伤|着火|火越来越|"
            r"冒烟|起火|溺水|掉(?:进|下)|煤气味|泄漏|打架|追打|砸门|害怕|过不下去|救助|"
            r"没钱|没地方住|赶出来|不行了|呼救"
        ),
    ),
    (
        "question",
        re.compile(
            r"请问|问一下|问下|问问|想问|想了解|了解一下|打听|想知道|"
            r"怎么(?:办|申请|交|领|补|算|换|上|弄)|如何|需要(?:什么|哪些|带)|"
            r"什么(?:条件|材料|手续|时候|政策)|多少|哪里|去哪|在哪|哪个|能不能(?:领|报|换|补|交|申请|打)|"
            r"还能|可以[^，。]{0,6}吗|吗[?？]?$|么[?？]?$|[?？]$"
        ),
    ),
    (
        "suggestion",
        re.compile(
            r"建议|提个?意见|希望|能不能(?:多|加|装|设|建|开|把|在|给)|"
            r"可不可以(?:多|加|装|设|建|开)|最好(?:能)?|我觉得(?:可以|应该)|应该(?:多|加|设|建)|"
            r"有个想法|多(?:建|设|装|开|放|种)[^，。]{0,4}|增设|加装"
        ),
    ),
    (
        "problem",
        re.compile(
            r"吵|噪音|扰民|臭|脏|漏|坏了|堵|占|拖欠|欠|不给|不发|不退|不管|没人管|不修|乱|"
            r"停水|停电|没水|没电|不热|骗|污染|黑烟|异味|太(?:差|贵|乱|脏|吵|大|低)|一直|老是|"
            r"天天|每天|好几|态度|推来推去|拖着"
        ),
    ),
)


def cue_features(text: str) -> list[str]:
    """Names of the cue groups found in a prepared text (a ``TfidfVectorizer`` analyzer).

    Args:
        text: Prepared (normalised, lower-cased) text.

    Returns:
        One token per matching cue group, plus pairs of groups ("question+problem").
    """
    found = [name for name, pattern in _CUES if pattern.search(text)]
    pairs = [f"{a}+{b}" for i, a in enumerate(found) for b in found[i + 1 :]]
    return found + pairs or ["none"]


@dataclass(frozen=True)
class RequestTypePrediction:
    """The request type of an utterance.

    Attributes:
        type: One of ``REQUEST_TYPES``.
        confidence: Calibrated probability of ``type`` (1.0 for explicit words).
        source: ``"explicit"``, ``"emergency"``, ``"model"`` or ``"empty"``.
        ranking: ``(type, probability)`` pairs, best first.
    """

    type: str
    confidence: float
    source: str
    ranking: tuple[tuple[str, float], ...] = ()

    @property
    def unsure(self) -> bool:
        """True below ``REQUEST_TYPE_MIN_CONFIDENCE`` (the read-back then asks to check)."""
        return self.confidence < REQUEST_TYPE_MIN_CONFIDENCE


@dataclass
class RequestTypeModel:
    """The fitted model: TF-IDF + cue blocks, calibrated classifier, embedding probe."""

    estimator: Any
    head: Any
    meta: dict[str, Any]

    def proba(self, text: str, *, encode: bool = True) -> dict[str, float]:
        """Type probabilities of one raw text."""
        from ._features import encoder_text, prepare_text

        row = self.estimator.predict_proba([prepare_text(text)])
        if encode and self.head is not None and self.head.weight > 0:
            from .encoders import encoder_by_name

            vectors = encoder_by_name(self.head.encoder["name"]).encode([encoder_text(text)])
            row = self.head.combine(row, vectors)
        return {str(c): float(p) for c, p in zip(self.estimator.classes_, row[0], strict=True)}


def _examples() -> tuple[list[str], list[str]]:
    import yaml

    data = yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8")) or {}
    texts: list[str] = []
    labels: list[str] = []
    for label, examples in (data.get("examples") or {}).items():
        if label not in REQUEST_TYPES:
            raise ValueError(f"{EXAMPLES_FILE.name}: unknown request type {label!r}")
        for example in examples or ():
            texts.append(str(example))
            labels.append(str(label))
    return texts, labels


def train_request_type_model(*, encoder: Any = True) -> RequestTypeModel:
    """Train the model on the hand-written examples.

    Args:
        encoder: True = ``default_encoder()`` probe; False = TF-IDF and cues only.

    Returns:
        The model.
    """
    import numpy as np

    from ._features import encoder_text, prepare_text
    from ._fusion import choose_weight, fit_head
    from ._text_model import fit_text_model
    from .encoders import default_encoder

    texts, labels = _examples()
    prepared = [prepare_text(t) for t in texts]
    y = np.asarray(labels, dtype=object)
    estimator = fit_text_model("request_type", prepared, y)
    head = None
    meta: dict[str, Any] = {"examples": len(texts), "version": MODEL_VERSION}
    chosen = default_encoder() if encoder is True else (encoder or None)
    if chosen is not None:
        vectors = chosen.encode([encoder_text(t) for t in texts])

        def fit_text(train: Any) -> Any:
            part = fit_text_model("request_type", [prepared[i] for i in train], y[train])
            return lambda test: part.predict_proba([prepared[i] for i in test])

        weight, figures = choose_weight(vectors, y, fit_text)
        head = fit_head(vectors, y, estimator.classes_, chosen.info.as_dict(), weight, figures)
        meta["encoder"] = dict(head.encoder, weight=weight, cv=figures)
    return RequestTypeModel(estimator, head, meta)


def _fingerprint() -> str:
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    digest.update(EXAMPLES_FILE.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _load() -> RequestTypeModel:
    import joblib

    from .encoders import default_encoder

    cache = models_dir() / "request_type" / f"builtin-{_fingerprint()}.joblib"
    if cache.is_file():
        try:
            model = joblib.load(cache)
            if isinstance(model, RequestTypeModel) and (
                model.head is None or model.head.encoder == default_encoder().info.as_dict()
            ):
                return model
        except Exception:  # unreadable cache: retrain
            logger.warning("ignoring unreadable request-type model %s", cache, exc_info=True)
    model = train_request_type_model()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        joblib.dump(model, tmp, compress=3)
        tmp.replace(cache)
    except OSError:
        logger.info("could not cache the request-type model at %s", cache)
    return model


_MODEL: Lazy[RequestTypeModel] = Lazy(_load)


def request_type_model() -> RequestTypeModel:
    """The shared request-type model (trained on first use, cached on disk)."""
    return _MODEL.get()


def classify_request_type(text: str, *, encode: bool = True) -> RequestTypePrediction:
    """Classify what the resident wants, with a calibrated confidence.

    Args:
        text: The utterance (raw).
        encode: Let the sentence encoder take part (the classifying turn).

    Returns:
        The prediction (``投诉`` with confidence 0 for empty text).
    """
    norm = normalize_text(text)
    if not norm.strip():
        return RequestTypePrediction("投诉", 0.0, "empty")
    for m in _EXPLICIT.finditer(norm):
        if not is_negated(norm, m.start()):
            return RequestTypePrediction(m.group(0), 1.0, "explicit", ((m.group(0), 1.0),))
    ranked: tuple[tuple[str, float], ...]
    proba = request_type_model().proba(norm, encode=encode)
    ranked = tuple(sorted(((k, round(v, 4)) for k, v in proba.items()), key=lambda kv: -kv[1]))
    if assess_emergency(norm).level is EmergencyLevel.ADVICE:
        return RequestTypePrediction("求助", 1.0, "emergency", ranked)
    best, confidence = ranked[0]
    return RequestTypePrediction(best, confidence, "model", ranked)


def detect_request_type(text: str) -> str:
    """The request type of an utterance (see ``classify_request_type``).

    Args:
        text: The utterance.

    Returns:
        One of ``REQUEST_TYPES``.
    """
    return classify_request_type(text).type
