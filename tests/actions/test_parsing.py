"""Read-back answers and corrections (pure functions, no Rasa)."""

from __future__ import annotations

import pytest

from actions.parsing import (
    mask_phone,
    parse_anonymous,
    parse_confirmation_reply,
)
from nlu import normalize_phone


@pytest.mark.parametrize(
    "text", ["确认", "对", "没问题", "确认提交", "是的", "好的", "1", "对的，提交吧"]
)
def test_confirmations(text: str) -> None:
    assert parse_confirmation_reply(text).kind == "confirm"


@pytest.mark.parametrize("text", ["取消", "算了", "不用了", "不报了"])
def test_cancels(text: str) -> None:
    assert parse_confirmation_reply(text).kind == "cancel"


@pytest.mark.parametrize("text", ["不对", "需要修改", "错了", "修改"])
def test_denials_without_a_field(text: str) -> None:
    assert parse_confirmation_reply(text).kind == "deny"


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("地址不对，是望京西园四区", "complaint_location", "望京西园四区"),
        ("电话改成13900001111", "contact_phone", "13900001111"),
        ("手机号应该是13900001111", "contact_phone", "13900001111"),
        ("时间改成昨天晚上", "complaint_time", "昨天晚上"),
        ("类型是举报", "complaint_type", "举报"),
        ("我叫王小明", "contact_name", "王小明"),
    ],
)
def test_corrections_name_the_field_and_value(text: str, field: str, value: str) -> None:
    reply = parse_confirmation_reply(text)
    assert reply.kind == "correct"
    assert reply.field == field
    assert value in (reply.value or "")


def test_a_bare_number_corrects_the_phone() -> None:
    reply = parse_confirmation_reply("13900001111")
    assert (reply.kind, reply.field, reply.value) == ("correct", "contact_phone", "13900001111")


def test_field_button_asks_for_the_value() -> None:
    reply = parse_confirmation_reply("修改地点")
    assert (reply.kind, reply.field, reply.value) == ("correct", "complaint_location", "")


def test_pending_field_takes_the_whole_answer() -> None:
    reply = parse_confirmation_reply("丰台区方庄芳城园一区", pending_field="complaint_location")
    assert (reply.kind, reply.field, reply.value) == (
        "correct",
        "complaint_location",
        "丰台区方庄芳城园一区",
    )


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "asdfgh"])
def test_unclear_answers(text: str) -> None:
    assert parse_confirmation_reply(text).kind == "unclear"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("0571-8888888", "0571-8888888"),
        ("12345", None),
        ("23800138000", None),
    ],
)
def test_phone_validation(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"


@pytest.mark.parametrize(
    "text, wish",
    [
        ("需要保密", True),
        ("匿名", True),
        ("不需要", False),
        ("不需要保密", False),
        ("随便说点", None),
        # Hedged or negated need: not confidential.
        ("不是很需要", False),
        ("不太需要", False),
        ("没必要", False),
        ("不必", False),
        ("不用保密", False),
        ("不要", False),
        # Negating the disclosure asks for confidentiality.
        ("要保密", True),
        ("保密", True),
        ("需要，要保密", True),
        ("不要公开我的信息", True),
        ("别公开", True),
        ("不用公开", True),
    ],
)
def test_anonymity(text: str, wish: bool | None) -> None:
    assert parse_anonymous(text) is wish


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("是的", "13800001111"),
        ("对", "13800001111"),
        ("就用这个号码", "13800001111"),
        ("可以，不用换", "13800001111"),
        ("不对", None),
        ("不是这个号", None),
        ("不用这个，换一个", None),
        ("别用这个号", None),
        ("13900002222", "13900002222"),
        ("不对，是13900002222", "13900002222"),
        ("不留了", "未留"),
        # Keep phrases contain a negator but mean "use this number".
        ("不用换", "13800001111"),
        ("不换", "13800001111"),
        ("别换了", "13800001111"),
        ("不用了就这个", "13800001111"),
        ("不用，就用这个号", "13800001111"),
        ("没问题", "13800001111"),
        ("没错", "13800001111"),
        ("没有别的号码", "13800001111"),
        ("这个号就行", "13800001111"),
        # ...unless the keep phrase itself is negated, or the whole answer refuses.
        ("不用这个号", None),
        ("不是本机", None),
        ("不行", None),
        ("不", None),
    ],
)
def test_own_number_offer_answers(answer: str, expected: str | None) -> None:
    from actions.slot_values import value_for_field

    result = value_for_field("contact_phone", answer, channel_phone="13800001111")
    if expected is None:
        assert result.problem == "utter_problem_phone_other"
        assert not result.slots
    else:
        assert result.slots == {"contact_phone": expected}
