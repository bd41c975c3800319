"""Category and request type in the action server: the classifying turn, words, read-back."""

from __future__ import annotations

from actions.complaint import complaint_from_slots, read_back
from actions.complaint_fields import request_type_slots
from actions.slot_values import category_slots, value_for_field
from nlu import CategoryPrediction, classify_category


def test_an_unfused_pipeline_prediction_is_reclassified_with_the_encoder() -> None:
    text = "楼下的饭馆油烟太大了，窗户都不敢开"
    stale = CategoryPrediction("其他", "其他", "QT04", 0.1, (("其他", 0.1),), True, fused=False)
    assert category_slots(text, stale) == category_slots(text)
    assert classify_category(text).fused
    fused = CategoryPrediction("供水", "城乡建设", "CX03", 0.9, (("供水", 0.9),), False, True)
    assert category_slots(text, fused)["complaint_category"] == "供水"  # trusted as is


def test_category_typed_in_words_at_the_question() -> None:
    result = value_for_field(
        "complaint_category", "是噪音的问题", candidates=["物业管理", "噪音扰民", "施工管理"]
    )
    assert result.slots == {"complaint_category": "噪音扰民"}


def test_a_button_title_typed_out_is_its_leaf_even_under_the_class_other() -> None:
    candidates = ["邻里纠纷", "疾病防控与公共卫生", "社会治安"]
    for typed, leaf in (
        ("其他·邻里纠纷", "邻里纠纷"),  # the class 其他 comes first in the title
        ("其他·社會治安", "社会治安"),  # traditional characters
        ("卫生计生·疾病防控与公共卫生", "疾病防控与公共卫生"),
    ):
        got = value_for_field("complaint_category", typed, candidates=candidates)
        assert got.slots == {"complaint_category": leaf}, typed
    for other in ("其他", "其他吧。", "都不是", "不知道"):
        got = value_for_field("complaint_category", other, candidates=candidates)
        assert got.slots == {"complaint_category": "其他"}, other


def test_unsure_type_is_marked_in_the_read_back_until_corrected() -> None:
    base = {"complaint_description": "那家店有点问题", "complaint_category": "其他"}
    unsure = complaint_from_slots(
        {**base, "complaint_type": "举报", "complaint_type_unsure": True}, "web:1", "web"
    )
    assert "类型：举报（系统判断" in read_back(unsure)
    sure = complaint_from_slots({**base, "complaint_type": "举报"}, "web:1", "web")
    assert "类型：举报\n" in read_back(sure)
    corrected = value_for_field("complaint_type", "类型改成咨询")
    assert corrected.slots == {"complaint_type": "咨询", "complaint_type_unsure": None}


def test_request_type_slots() -> None:
    assert request_type_slots("我要举报有人卖假药") == {
        "complaint_type": "举报",
        "complaint_type_unsure": None,
    }
    slots = request_type_slots("那个东西")
    assert slots["complaint_type"] in ("投诉", "求助", "咨询", "建议", "举报", "表扬")
