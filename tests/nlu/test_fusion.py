"""Late fusion of the TF-IDF scorer with the embedding probe; the model's encoder check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu._classifier import CategoryModel, ModelError, train_model
from nlu._fusion import fuse
from nlu._taxonomy import load_taxonomy

TEXTS = {
    "环境保护›噪音扰民": [
        "楼上半夜很吵",
        "广场舞音响太响了",
        "工地晚上打桩噪音大",
        "酒吧音乐吵到凌晨",
        "隔壁装修电钻声音大",
        "楼下KTV吵得睡不着",
    ],
    "城乡建设›供暖": [
        "暖气不热",
        "家里暖气冰凉",
        "供暖温度不达标",
        "还没来暖气",
        "暖气片上热下凉",
        "室温只有十五度",
    ],
    "劳动和社会保障›拖欠工资": [
        "老板拖欠工资",
        "三个月没发工资",
        "包工头欠薪跑了",
        "工资一直不给",
        "年底工资不结",
        "干了活拿不到钱",
    ],
}


def test_fuse_weight_zero_is_the_text_model_and_rows_sum_to_one() -> None:
    text = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    probe = np.array([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    np.testing.assert_allclose(fuse(text, probe, 0.0), text, atol=1e-6)
    mixed = fuse(text, probe, 0.5)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    assert mixed[0].argmax() == 1  # the probe's confident vote moves the first row


@pytest.fixture(scope="module")
def tiny_model() -> CategoryModel:
    texts = [t for group in TEXTS.values() for t in group]
    labels = [label for label, group in TEXTS.items() for _ in group]
    return train_model(texts, labels, load_taxonomy(), kind="history")


def test_model_records_the_encoder_and_the_cv_choice(tiny_model: CategoryModel) -> None:
    assert tiny_model.head is not None
    encoder = tiny_model.meta["encoder"]
    assert encoder["name"] == "use-m3" and len(encoder["sha256"]) == 64
    assert set(tiny_model.head.chosen_by) == {f"w={w / 10:.1f}" for w in range(7)}
    assert encoder["weight"] == tiny_model.head.weight


def test_encode_false_skips_the_encoder(tiny_model: CategoryModel) -> None:
    fast = tiny_model.predict("楼下广场舞太吵了", encode=False)
    full = tiny_model.predict("楼下广场舞太吵了")
    assert not fast.fused and fast.leaf == "噪音扰民"
    assert full.fused is tiny_model.uses_encoder and full.leaf == "噪音扰民"


def test_a_model_trained_on_another_encoder_is_refused(
    tiny_model: CategoryModel, tmp_path: Path
) -> None:
    good = tmp_path / "good.joblib"
    tiny_model.save(good)
    assert CategoryModel.load(good).labels == tiny_model.labels
    assert tiny_model.head is not None
    tiny_model.head.weight = max(tiny_model.head.weight, 0.1)
    original = dict(tiny_model.head.encoder)
    try:
        tiny_model.head.encoder = {**original, "sha256": "0" * 64}
        bad = tmp_path / "bad.joblib"
        tiny_model.save(bad)
    finally:
        tiny_model.head.encoder = original
    with pytest.raises(ModelError, match="trained with encoder"):
        CategoryModel.load(bad)


def test_too_few_examples_for_cv_means_tfidf_alone() -> None:
    model = train_model(
        ["公交车不来", "地铁太挤", "公交站没有站牌", "饭馆太吵", "广场舞噪音", "装修噪音"],
        ["交通运输›公共交通"] * 3 + ["环境保护›噪音扰民"] * 3,
        load_taxonomy(),
    )
    assert model.head is not None and model.head.weight == 0 and not model.uses_encoder
    assert model.head.chosen_by == {"min_class_examples": 3.0}


def test_a_model_without_encoder_still_loads(tmp_path: Path) -> None:
    texts = [t for group in TEXTS.values() for t in group]
    labels = [label for label, group in TEXTS.items() for _ in group]
    model = train_model(texts, labels, load_taxonomy(), kind="history", encoder=False)
    path = tmp_path / "plain.joblib"
    model.save(path)
    loaded = CategoryModel.load(path)
    assert loaded.head is None and not loaded.uses_encoder
    assert loaded.predict("工资拖了半年").leaf == "拖欠工资"
