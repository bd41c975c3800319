"""The Rasa graph components on real ``Message`` objects (no training needed)."""

from __future__ import annotations

from typing import Any

import pytest

rasa = pytest.importorskip("rasa")

from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from nlu.components.category_classifier import CategoryClassifier  # noqa: E402
from nlu.components.entity_extractor import ComplaintEntityExtractor  # noqa: E402
from nlu.components.text_normalizer import TextNormalizer  # noqa: E402


def _create(cls: Any, config: dict[str, Any]) -> Any:
    return cls.create({**cls.get_default_config(), **config}, None, None, None)


def test_pipeline_on_message() -> None:
    text = "我家在朝陽區望京西园四区3号楼，樓下飯館每天晚上十二點以後還很吵，电话13800138000"
    message = Message({"text": text})
    for cls in (TextNormalizer, ComplaintEntityExtractor, CategoryClassifier):
        _create(cls, {}).process([message])
    normalised = message.get("text")
    assert len(normalised) == len(text)
    entities = {e["entity"]: e for e in message.get("entities")}
    assert set(entities) >= {"location", "time", "phone"}
    loc = entities["location"]
    assert normalised[loc["start"] : loc["end"]] == "朝阳区望京西园四区3号楼"
    assert loc["extractor"] == "ComplaintEntityExtractor"
    assert entities["phone"]["value"] == "13800138000"
    category = message.get("category")
    assert category["name"] == "噪音扰民" and category["gov_class"] == "环境保护"
    assert "category" in message.as_dict(only_output_properties=True)


def test_intent_shortcut_untouched() -> None:
    message = Message({"text": "/greet"})
    for cls in (TextNormalizer, ComplaintEntityExtractor, CategoryClassifier):
        _create(cls, {}).process([message])
    assert message.get("text") == "/greet"
    assert message.get("category") is None
