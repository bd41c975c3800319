"""Pure functions that read a resident's short answers and corrections.

Rasa OSS has no correction pattern, so the read-back step is handled here:
:func:`parse_confirmation_reply` decides whether an answer confirms,
cancels, or corrects one field ("地址不对，是望京西园四区", "电话改成13900001111").
Nothing here talks to the network; the actions call these and set slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hotline.timezone import hotline_now
from nlu import (
    extract_location,
    extract_person_name,
    extract_phones,
    extract_time,
    normalize_text,
)
from nlu.negation import affirmed, negated, scope_text

__all__ = [
    "FIELD_LABELS",
    "ConfirmationReply",
    "parse_confirmation_reply",
    "parse_yes_no",
    "parse_same_problem",
    "parse_anonymous",
    "mask_phone",
    "is_meaningful",
    "has_cjk",
    "strip_correction_words",
]

# Field name → how we say it to the resident.
FIELD_LABELS: dict[str, str] = {
    "complaint_type": "类型",
    "complaint_category": "类别",
    "complaint_location": "地点",
    "complaint_time": "时间",
    "complaint_description": "问题描述",
    "contact_phone": "联系电话",
    "contact_name": "姓名",
    "anonymous": "是否保密",
}

# Words that name a field in a correction, most specific first.
_FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contact_phone", ("电话", "手机", "号码", "联系方式")),
    ("complaint_location", ("地址", "位置", "地点", "地方", "小区", "门牌")),
    ("complaint_time", ("时间", "日期", "几点", "什么时候")),
    ("complaint_category", ("类别", "分类", "类目")),
    ("complaint_type", ("类型", "性质")),
    ("contact_name", ("姓名", "名字", "称呼", "我叫", "我姓")),
    ("anonymous", ("保密", "匿名", "公开")),
    ("complaint_description", ("描述", "内容", "情况", "问题")),
)
_REQUEST_TYPES = ("投诉", "求助", "咨询", "建议", "举报", "表扬")

_CONFIRM = re.compile(
    r"^(确认|确定|对的?|是的?|没错|没问题|正确|可以|好的?|行|嗯+|提交|确认提交|就这样|ok|yes|1)[。.!！,，]*"
    r"(没问题|提交吧?|吧|的|了)?[。.!！]*$",
    re.IGNORECASE,
)
_CANCEL = re.compile(r"(取消|不用了|不需要了|算了|不报了|不登记|撤销|不要了|3$)")
# "Nothing to change after all" while the bot waits for a corrected value.
_NO_CHANGE = re.compile(
    r"^(?:不改了|不用改了?|不改|不需要改了?|没有要改的|没什么要改的|没有要修改的|都对|都没问题|算了不改了?)"
)
# Spoken lead-ins before the actual answer ("那个，确认提交", "嗯 就是 没问题").
_LEADING_FILLERS = re.compile(
    r"^(?:(?:嗯+|呃|啊|哦|噢|那个|这个|就是|那就|那|然后|好吧)[\s，,。.、~～…]*)+"
)
_DENY = re.compile(r"^(不对|不是|错了|有错|不正确|需要修改|修改|要改|改一下|有问题|2)[。.!！,，]*$")
# Phrases that introduce the new value: "是…", "改成…", "应该是…".
_VALUE_INTRO = re.compile(
    r"(应该是|改成|改为|换成|换为|更正为|更改为|修改为|写成|其实是|实际是|是在|在|是|为|：|:)"
)
_CORRECTION_NOISE = re.compile(
    r"^(我想|我要|帮我|请|麻烦)?(修改一下|修改|更改|改一下|更正)|"
    r"^(不对|不是|错了|有误|写错了|记错了|搞错了)[，,。\s]*|"
    r"(不对|错了|有误|写错了|记错了)[，,。\s]*"
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDISH = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True)
class ConfirmationReply:
    """What the resident meant at the read-back step."""

    kind: Literal["confirm", "cancel", "deny", "correct", "keep", "unclear"]
    field: str | None = None
    value: str | None = None


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def is_meaningful(text: str) -> bool:
    """True when ``text`` has something to record (not only emoji/punctuation)."""
    return len(_WORDISH.findall(text)) >= 2


def mask_phone(phone: str | None) -> str:
    """Mask the middle of a phone number for logs (``138****8000``)."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


_SAME_WORDS = (
    "一样", "同一个", "同一件", "同一处", "相同", "是这个", "就是", "没错", "对", "是",
    "嗯", "好的", "行", "可以", "yes",
)  # fmt: skip
_OTHER_PROBLEM = re.compile(r"(另一个|另外|别的|两回事|不是一回事|其他的|新的问题|\bno\b|否)")


def parse_same_problem(text: str) -> bool | None:
    """At "是同一个问题吗？": True = the same problem, False = another one, None = unclear.

    The negation scope rule (:mod:`nlu.negation`) decides "不是/不一样/不对"; "另一个"
    and "两回事" say no without a negator; "说不好", "不知道" stay unclear.
    """
    t = scope_text(normalize_text(text))
    if not t or re.search(r"(说不好|不知道|不清楚|不确定|不好说)", t):
        return None
    if _OTHER_PROBLEM.search(t) or negated(t, _SAME_WORDS):
        return False
    if affirmed(t, _SAME_WORDS):
        return True
    return None


def parse_yes_no(text: str) -> bool | None:
    """A plain yes/no; None when neither is clear."""
    t = normalize_text(text).strip().lower()
    if re.search(r"(不需要|不用|不要|没必要|否|不是|no\b|不必)", t):
        return False
    if re.search(r"(需要|要|是|好|对|可以|yes|嗯)", t):
        return True
    return None


# "别公开/不要透露" negate the *disclosure*, so they ask for confidentiality and
# are checked before the no-need words ("不用公开" must not read as "不用").
_KEEP_PRIVATE = re.compile(r"(不要|不用|不必|没必要|不想|不能|不准|不|别)(公开|透露|泄露|告诉)")
_NO_NEED = re.compile(
    r"(不需要|不用|不必|没必要|没有必要|不保密|不匿名|可以公开|公开也|无所谓|没关系)"
)
_WANT_PRIVATE = ("保密", "匿名", "需要", "要")


def parse_anonymous(text: str) -> bool | None:
    """Whether the resident wants their identity kept confidential.

    Hedged refusals ("不是很需要", "不太需要") are a no: the need word is
    negated, even though it appears in the answer (see :mod:`nlu.negation`).
    """
    t = scope_text(normalize_text(text))
    if _KEEP_PRIVATE.search(t):
        return True
    if _NO_NEED.search(t) or negated(t, _WANT_PRIVATE):
        return False
    if affirmed(t, _WANT_PRIVATE):
        return True
    return parse_yes_no(t)


def strip_correction_words(text: str, field: str | None) -> str:
    """The new value in a correction: text after "是/改成…", without the field word."""
    t = _CORRECTION_NOISE.sub("", text).strip(" ，,。.！!")
    if field is not None:
        for name, words in _FIELD_WORDS:
            if name == field:
                for w in words:
                    if t.startswith(w):
                        t = t[len(w) :]
    m = _VALUE_INTRO.search(t)
    if m is not None and m.start() <= 6:
        t = t[m.end() :]
    return t.strip(" ，,。.！!：:")


def _field_named(text: str) -> str | None:
    for name, words in _FIELD_WORDS:
        if any(w in text for w in words):
            return name
    for rt in _REQUEST_TYPES:
        if f"是{rt}" in text or f"改成{rt}" in text or f"算{rt}" in text:
            return "complaint_type"
    return None


def parse_confirmation_reply(text: str, pending_field: str | None = None) -> ConfirmationReply:
    """Classify an answer to the read-back.

    Args:
        text: What the resident said.
        pending_field: A field the bot just asked the new value for ("请说新的地址").

    Returns:
        ``confirm``/``cancel``/``deny`` (wants a change, field unknown), ``correct``
        with the field and (possibly empty) new value, or ``unclear``.
    """
    t = normalize_text(text).strip()
    if not t:
        return ConfirmationReply("unclear")
    bare = _LEADING_FILLERS.sub("", t)
    if _CANCEL.search(bare) and len(bare) <= 12 and not re.search(r"继续|不取消|别取消", bare):
        return ConfirmationReply("cancel")
    if pending_field is None and bare and _CONFIRM.match(bare):
        return ConfirmationReply("confirm")  # "那个，确认提交", "嗯 就这样 提交吧"
    if _NO_CHANGE.match(bare or t):
        # "不改了，就这样确认": back to the read-back, or straight to confirming.
        if re.search(r"确认|提交|就这样", t):
            return ConfirmationReply("confirm")
        return ConfirmationReply("keep")
    if pending_field is not None:
        if _CANCEL.search(t) and len(t) <= 6:
            return ConfirmationReply("cancel")
        return ConfirmationReply(
            "correct", pending_field, strip_correction_words(t, pending_field) or t
        )
    if _CONFIRM.match(t):
        return ConfirmationReply("confirm")
    if _CANCEL.search(t) and len(t) <= 12:
        return ConfirmationReply("cancel")
    field = _field_named(t)
    if field is None:
        # No field word: recognise the value itself.
        if extract_phones(t) and len(t) <= 25:
            field = "contact_phone"
        elif re.search(r"(我叫|我姓)", t) and extract_person_name(t):
            field = "contact_name"
        elif not _DENY.match(t) and extract_location(t) is not None and len(t) <= 40:
            field = "complaint_location"
        elif len(t) <= 20 and extract_time(t, hotline_now()) is not None:
            field = "complaint_time"  # "时见是昨天晚上": the value says which field
    if field is None:
        if _DENY.match(t) or re.match(r"^(不对|不是|错了|有错|修改|要改)", t):
            return ConfirmationReply("deny")
        return ConfirmationReply("unclear")
    return ConfirmationReply("correct", field, strip_correction_words(t, field))
