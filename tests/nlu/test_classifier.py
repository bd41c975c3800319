"""The category model internals: compact calibrated model, training, history import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu._classifier import CategoryModel, builtin_training_set
from nlu._features import HEAD_CHARS, MAX_CHARS, head_text, prepare_text
from nlu._linear import LinearTextModel, TextModel
from nlu._taxonomy import load_taxonomy
from nlu.history_import import main as import_main
from nlu.history_import import train_history_model


def _gov_class_corpus() -> tuple[list[str], list[str]]:
    """Our own examples relabelled with their government class (a small history file)."""
    tax = load_taxonomy()
    texts, paths = builtin_training_set()
    labels = [tax.get(p).gov_class for p in paths]  # type: ignore[union-attr]
    return texts, labels


def test_linear_text_model_matches_sklearn() -> None:
    from scipy.sparse import hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts, labels = _gov_class_corpus()
    prepared = [prepare_text(t) for t in texts]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    head = TfidfVectorizer(analyzer="char", preprocessor=head_text)
    features = hstack([vec.fit_transform(prepared), head.fit_transform(prepared) * 0.5])
    calibrated = CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, method="sigmoid")
    calibrated.fit(features, np.asarray(labels, dtype=object))
    fast = LinearTextModel([(vec, 1.0), (head, 0.5)], calibrated)
    probe = prepared[::17] + [prepare_text("公交车班次太少，等了一个小时"), "的"]
    expected = calibrated.predict_proba(fast.transform(probe))
    assert np.allclose(fast.predict_proba(probe), expected, atol=1e-9)  # batch path
    one_by_one = np.vstack([fast.predict_proba([text]) for text in probe])  # latency path
    assert np.allclose(one_by_one, expected, atol=1e-9)
    assert fast.estimator is None  # the sklearn objects are not kept
    assert list(fast.predict(probe[:3])) == list(calibrated.classes_[expected[:3].argmax(1)])


def test_two_classes_fall_back_to_sklearn() -> None:
    texts = ["公交车不来", "地铁太挤", "公交站没有站牌", "饭馆太吵", "广场舞噪音", "装修噪音"]
    model = train_history_model(texts, ["交通运输"] * 3 + ["环境保护"] * 3)
    assert type(model.estimator) is TextModel
    assert model.predict("公交车").gov_class in {"交通运输", "环境保护"}


def test_prepare_text_caps_length() -> None:
    assert len(prepare_text("噪音" * 5000)) == MAX_CHARS
    assert prepare_text("樓下１２３") == "楼下0"
    assert head_text("啊" * 100) == "啊" * HEAD_CHARS


def test_history_model_trains_saves_and_loads(tmp_path: Path) -> None:
    texts, labels = _gov_class_corpus()
    model = train_history_model(texts, labels, source="test")
    assert isinstance(model.estimator, LinearTextModel)
    pred = model.predict("小区门口公交站的站牌被撞坏了，公交车也不停")
    assert pred.gov_class == "交通运输" and pred.leaf == "交通运输"
    path = tmp_path / "h.joblib"
    model.save(path)
    again = CategoryModel.load(path)
    assert again.predict_many(texts[:5]) == model.predict_many(texts[:5])


def test_import_history_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts, labels = _gov_class_corpus()
    data = tmp_path / "tickets.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for text, label in zip(texts, labels, strict=True):
            fh.write(json.dumps({"full_text": text, "label": label}, ensure_ascii=False) + "\n")
    out = tmp_path / "model.joblib"
    assert import_main([str(data), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.is_file() and summary["examples"] == len(texts)
    assert import_main([str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
