"""Conversation repair: what a reply to one question of the intake means.

Open-source Rasa forms store whatever text arrives while a slot is requested; a question
back ("你们多久能处理？"), a decline ("不用") or another field's value (an address at the
phone question) then became the answer, or the intent classifier's guess ("cancel") ended
the complaint.  Here every reply to a form question is read in the context of the question
that was asked, and becomes one :class:`Move`:

- ``ANSWER``: it parses as the asked field (its slots are set);
- ``OTHER_FIELD``: it is another field's value: that field is filled, the question repeated;
- ``QUESTION``: a question or remark for the hotline: answered briefly, the question repeated;
- ``DECLINE``: an optional question declined: only that question (its "not given" value);
- ``CANCEL``: the resident wants to stop: the form first asks "确定不登记了吗？";
- ``UNCLEAR``: nothing usable: said so, the question repeated.

:func:`after_miss` decides what happens when the same question missed twice in a row: the
reply is kept verbatim (or the field's "not given" value, never a question) and the field is
marked ``needs_review`` for staff, so no question is asked more than twice.  Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from actions.complaint_fields import fields_from_text
from actions.parsing import has_cjk, is_meaningful
from actions.slot_values import UNKNOWN_LOCATION, FieldResult, value_for_field
from nlu import AnswerKind, normalize_text, parse_address_answer
from nlu import is_question as nlu_is_question

__all__ = [
    "OPTIONAL_SLOTS",
    "Move",
    "Reading",
    "after_miss",
    "cancel_check_answer",
    "clean_reply",
    "is_cancel_request",
    "is_question",
    "question_topic",
    "read_reply",
    "whole_address",
]


class Move(Enum):
    ANSWER = "answer"
    OTHER_FIELD = "other_field"
    QUESTION = "question"
    DECLINE = "decline"
    CANCEL = "cancel"
    UNCLEAR = "unclear"


#: Questions the resident may decline, and the value a decline stores.
OPTIONAL_SLOTS: dict[str, dict[str, Any]] = {
    "anonymous": {"anonymous": "false"},
    "contact_phone": {"contact_phone": "未留"},
    "complaint_location": {"complaint_location": UNKNOWN_LOCATION},
}
# What a required question stores when it missed twice and the reply was no usable value.
_GIVE_UP: dict[str, dict[str, Any]] = {
    **OPTIONAL_SLOTS,
    "complaint_category": {"complaint_category": "其他"},
    "complaint_description": {"complaint_description": "（居民未描述，需回访）"},
}

_PUNCT = re.compile(r"[\s,，。.!！?？;；:：~～…、\"'“”‘’()（）]+")
# "I want to stop": a cancel of the whole complaint (confirmed before it takes effect).
_CANCEL = re.compile(
    r"^(?:那|那就|还是|我)?(?:取消|撤销|撤回)(?:吧|了|登记|投诉|工单)*$|"
    r"^(?:那|那就|还是|哎|唉)?算了|"
    r"不(?:想|要|用)?(?:再)?(?:登记|报|反映|投诉|举报|弄|办|提交)了|"
    r"^(?:我)?不(?:想|要)(?:登记|投诉|反映|报)|^(?:不用了|不需要了|不要了)(?:谢谢)?$"
)
# Declining one question (optional questions only; a required one asks again).
_DECLINE = re.compile(
    r"^(?:嗯|呃|那个)?(?:不用|不需要|没有|没|无所谓|都行|随便|不必|跳过|不想说|不方便|不知道|不清楚|"
    r"不记得|不确定|说不清|不用了|不需要了|没必要|不想留|不留|不给|算了)(?:了|吧|啊|呢|谢谢|的)*$"
)
_WAIT = re.compile(
    r"^(?:我|让我|你)?(?:先|再)?(?:想想|想一想|想一下|等等|等一下|等一会儿?|稍等|稍等一下|查一下|看看|"
    r"看一下|问问|找找|找一下|回头再说|一会儿再说|待会儿?再说)"
)
_SHORT_QUESTION = 12
_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("deadline", re.compile(r"多久|多长时间|什么时候|啥时候|几天|多快|多少天|时限|处理时间|要等")),
    ("department", re.compile(r"归谁管|谁管|哪个部门|哪个单位|谁负责|找谁|管不管|哪里管|哪管")),
    ("privacy", re.compile(r"泄露|泄漏|透露|保密|隐私|知道是我|告诉别人|报复")),
    ("why", re.compile(r"为什么要|为啥要|干嘛要|干什么要|有什么用|必须|一定要|非要")),
    ("wait", _WAIT),
)


@dataclass(frozen=True)
class Reading:
    """What one reply to the question for ``slot`` means.

    Attributes:
        move: What the reply does.
        slots: Slots to set: the asked field for ANSWER/DECLINE, other fields for OTHER_FIELD.
        topic: For QUESTION, what it asks about (``deadline``, ``department``, ``privacy``,
            ``why``, ``wait`` or ``other``), naming the ``utter_repair_<topic>`` response.
        problem: For UNCLEAR, the response that says what the question needs.
    """

    move: Move
    slots: dict[str, Any] = field(default_factory=dict)
    topic: str | None = None
    problem: str | None = None


_LEAD_FILLERS = re.compile(r"^(?:(?:嗯+|呃+|啊|哦|噢|那个|这个|就是|然后|额)[\s,，。.、~～…]*)+")


def clean_reply(text: str) -> str:
    """The reply without emoji, pictographs and other symbols, and without a spoken lead-in
    ("嗯，", "那个就是，"): what is interpreted.  Descriptions keep the verbatim text."""
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Co", "Cn")
        and ch not in "\u200d\ufe0f\ufe0e"
    )
    kept = kept.strip()
    return _LEAD_FILLERS.sub("", kept).strip() or kept  # "嗯" alone is an answer


def _bare(text: str) -> str:
    return _PUNCT.sub("", normalize_text(clean_reply(text)))


def is_cancel_request(text: str) -> bool:
    """The resident asks to stop the whole complaint ("算了", "不登记了", "取消")."""
    return bool(_CANCEL.search(_bare(text)))


def is_question(text: str, *, topic_only: bool = True) -> bool:
    """A question or remark addressed to the hotline rather than an answer
    (:func:`nlu.is_question`).

    Spoken questions often lack a question mark: a short reply that asks about the
    deadline, the department, privacy or why a field is needed counts too (unless
    ``topic_only`` is False: then only what :func:`nlu.is_question` sees counts).
    """
    bare = _bare(text)
    if not bare:
        return False
    return nlu_is_question(normalize_text(clean_reply(text))) or (
        topic_only and len(bare) <= _SHORT_QUESTION and question_topic(bare) != "other"
    )


def question_topic(text: str, slot: str | None = None) -> str:
    """Which ``utter_repair_<topic>`` answers the resident's question."""
    bare = _bare(text)
    for topic, pattern in _TOPICS:
        if pattern.search(bare):
            if topic == "why" and slot:
                return f"why_{slot}"
            return topic
    return "other"


def _other_fields(text: str, slot: str, slots: dict[str, Any]) -> dict[str, Any]:
    """Values of fields other than ``slot`` in ``text`` (empty ones, and a new phone)."""
    found = fields_from_text(text)
    found.pop(slot, None)
    out: dict[str, Any] = {}
    for name, value in found.items():
        if value in (None, "", []):
            continue
        if name in ("complaint_location", "contact_phone", "complaint_time", "complaint_time_iso",
                    "contact_name"):  # fmt: skip
            if not slots.get(name) or name == "contact_phone":
                out[name] = value
    return out


def read_reply(
    slot: str,
    text: str,
    slots: dict[str, Any],
    *,
    channel_phone: str | None = None,
) -> Reading:
    """Read ``text``, the reply while ``slot`` was asked, given the slots filled so far."""
    if is_cancel_request(text) and not (
        slot in OPTIONAL_SLOTS and _DECLINE.match(_bare(text)) and "算了" not in text
    ):
        return Reading(Move.CANCEL)
    bare = _bare(text)
    declined = slot in OPTIONAL_SLOTS and bool(_DECLINE.match(bare))
    if declined and not _own_number_refusal(slot, bare, channel_phone):
        return Reading(Move.DECLINE, dict(OPTIONAL_SLOTS[slot]))
    if slot == "complaint_location":
        return _read_location(text, slots)
    question = is_question(text)
    result = value_for_field(
        slot,
        text,
        candidates=list(slots.get("category_candidates") or []),
        channel_phone=channel_phone,
        has_coordinates=slots.get("complaint_lat") is not None,
    )
    others = _other_fields(text, slot, slots)
    if slot == "complaint_category":
        return _read_category(text, result, others, question)
    if result.problem is None and not is_question(text, topic_only=False):
        return Reading(Move.ANSWER, {**others, **result.slots})
    if result.problem is None and slot == "contact_phone":
        return Reading(Move.ANSWER, {**others, **result.slots})  # "用这个号吗？可以" etc.
    if question:
        return Reading(Move.QUESTION, others, topic=question_topic(text, slot))
    if others:
        return Reading(Move.OTHER_FIELD, others)
    return Reading(Move.UNCLEAR, problem=result.problem)


def _own_number_refusal(slot: str, bare: str, channel_phone: str | None) -> bool:
    # "不" / "不对" at "用您现在的号码吗？" refuses the offered number (another one is asked);
    # "不用" / "不需要" declines the question as anywhere else.
    return (
        slot == "contact_phone" and bool(channel_phone) and bare in ("不", "不行", "不对", "不是")
    )


def _read_location(text: str, slots: dict[str, Any]) -> Reading:
    answer = parse_address_answer(text)
    if answer.kind is AnswerKind.ADDRESS and answer.address:
        values: dict[str, Any] = {"complaint_location": whole_address(text, answer.address)}
        others = _other_fields(text, "complaint_location", slots)
        return Reading(Move.ANSWER, {**others, **values})
    if answer.kind is AnswerKind.QUESTION:
        return Reading(Move.QUESTION, topic=question_topic(text, "complaint_location"))
    if answer.kind is AnswerKind.DECLINE:
        return Reading(Move.DECLINE, dict(OPTIONAL_SLOTS["complaint_location"]))
    others = _other_fields(text, "complaint_location", slots)
    if others:
        return Reading(Move.OTHER_FIELD, others)
    return Reading(Move.UNCLEAR, problem="utter_problem_location")


_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\s]+")
_TAIL = re.compile(r"(?:那边|这边|那儿|这儿|那里|这里|附近吧|吧|啊|呀|的|了|呢)+$")
_LONG_DIGITS = re.compile(r"\d{7,}")
# More than this after the recognised part is a sentence, not the rest of an address.
_MAX_TAIL = 20


def whole_address(text: str, found: str) -> str:
    """The resident's own words for the address: the recognised part ``found`` extended to
    its whole clause ("丰台区良乡小区27号楼" even where the gazetteer knows only "丰台区良乡"),
    without lead-ins ("地址是", "就在"), trailing particles or another field's value."""
    norm = normalize_text(text)
    for clause in _CLAUSE_BREAK.split(norm):
        at = clause.find(found)
        if at < 0:
            continue
        after = clause[at + len(found) :]
        # What comes before the recognised part is a lead-in ("地址是", "就在", or a typo
        # of one such as "就再"); what follows it is the rest of the address.
        after = _TAIL.sub("", after)
        if len(after) > _MAX_TAIL or _LONG_DIGITS.search(after):
            after = ""
        return f"{found}{after}"
    return found


def _read_category(
    text: str, result: FieldResult, others: dict[str, Any], question: bool
) -> Reading:
    if question:
        return Reading(Move.QUESTION, others, topic=question_topic(text, "complaint_category"))
    chosen = result.slots.get("complaint_category")
    named = chosen not in (None, "其他") or _bare(text) in ("其他", "其它", "都不是", "别的")
    if named and not others:
        return Reading(Move.ANSWER, dict(result.slots))
    if others:
        return Reading(Move.OTHER_FIELD, others)
    if has_cjk(text) and is_meaningful(text):
        # a description of the problem in other words: the classifier's reading of it
        return Reading(Move.ANSWER, dict(result.slots))
    return Reading(Move.UNCLEAR, problem="utter_problem_category")


def after_miss(slot: str, text: str, reading: Reading) -> dict[str, Any]:
    """Slots that end a question which missed twice: the words verbatim, or "not given"."""
    if reading.move in (Move.UNCLEAR, Move.OTHER_FIELD) and slot in (
        "complaint_location",
        "complaint_description",
    ):
        words = text.strip()
        if has_cjk(words) and is_meaningful(words) and not is_question(words):
            return {slot: words}
    return dict(_GIVE_UP.get(slot, {}))


_RESUME = re.compile(
    r"继续|接着|不取消|别取消|不要取消|先别|不是|不用取消|没有|还要|要登记|要反映|登记吧|报吧"
)
_CONFIRM_CANCEL = re.compile(
    r"^(?:嗯|对|是|是的|确定|确认|好|好的|行|可以|取消|不登记了|不用了|算了|不要了|不报了|不需要了|对的)"
    r"(?:吧|了|啊|的|取消|不登记了|确定)*$"
)


def cancel_check_answer(text: str) -> bool | None:
    """At "确定不登记了吗？": True = cancel, False = go on with the complaint, None = unclear."""
    bare = _bare(text)
    if not bare:
        return None
    if _RESUME.search(bare):
        return False
    if _CONFIRM_CANCEL.match(bare) or is_cancel_request(bare):
        return True
    if bare.startswith(("不", "别", "没")):
        return False  # "不，…" / "别" / "没有": go on
    return None
