"""Request type: explicit words, danger now, then the calibrated model (issue 13 examples)."""

from __future__ import annotations

import pytest

from nlu import REQUEST_TYPES, classify_request_type, detect_request_type
from nlu._request_type import REQUEST_TYPE_MIN_CONFIDENCE, cue_features


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("胡同口有家黑诊所，天天给人挂吊瓶", "举报"),
        ("街口那家店一直在卖过期牛奶", "举报"),
        ("市场里那个卖菜的秤不准，少给分量", "举报"),
        ("我们村后面有人私搭乱建，盖了好几间彩钢房", "举报"),
        ("有人天天在空地上烧垃圾，烟特别呛", "举报"),
        ("着火了！三楼窗户往外冒火", "求助"),
        ("楼下有人打架，都见血了", "求助"),
        ("我想问一下社保缴费基数今年是多少", "咨询"),
        ("我要表扬一下我们社区的网格员", "表扬"),
        ("我要投诉，我家楼下的饭店油烟太大", "投诉"),
        ("暖气一直不热，家里冷得待不住", "投诉"),
        ("建议在学校门口装个红绿灯", "建议"),
    ],
)
def test_issue_examples(text: str, expected: str) -> None:
    assert detect_request_type(text) == expected


def test_explicit_words_decide_unless_negated() -> None:
    explicit = classify_request_type("我要举报一家饭店")
    assert (explicit.type, explicit.confidence, explicit.source) == ("举报", 1.0, "explicit")
    negated = classify_request_type("我不是要投诉，就想问一下居住证怎么办")
    assert negated.type == "咨询" and negated.source == "model"


def test_confidence_is_a_probability_with_a_ranking() -> None:
    pred = classify_request_type("那家店的东西好像有点问题")
    assert 0.0 < pred.confidence <= 1.0
    assert [t for t, _ in pred.ranking] and set(t for t, _ in pred.ranking) == set(REQUEST_TYPES)
    assert abs(sum(p for _, p in pred.ranking) - 1.0) < 1e-3
    assert pred.unsure is (pred.confidence < REQUEST_TYPE_MIN_CONFIDENCE)


def test_empty_text() -> None:
    pred = classify_request_type("  ")
    assert pred.type == "投诉" and pred.confidence == 0.0 and pred.unsure


def test_cue_features() -> None:
    assert "wrongdoing" in cue_features("有人卖假药")
    assert "question+problem" in cue_features("楼下太吵了，能不能管管？") or "question" in (
        cue_features("请问怎么办理")
    )
    assert cue_features("好的") == ["none"]
