"""Turn a resident's answer for one field into slot values.

Shared by the form's ``validate_<slot>`` methods and by corrections at the
read-back, so "地址是…" means the same in both places.  Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.action_server import on_action_server_start
from actions.parsing import has_cjk, is_meaningful, mask_phone, parse_anonymous
from hotline.timezone import hotline_now
from nlu import (
    LOW_CONFIDENCE_THRESHOLD,
    CategoryPrediction,
    classify_category,
    extract_location,
    extract_person_name,
    extract_phones,
    extract_time,
    load_taxonomy,
    normalize_phone,
    normalize_text,
)
from nlu.negation import affirmed, negated, scope_text

__all__ = [
    "FieldResult",
    "category_slots",
    "value_for_field",
    "warm_up",
    "REQUEST_TYPES",
    "UNKNOWN_WORDS",
    "UNKNOWN_LOCATION",
]

REQUEST_TYPES = ("投诉", "求助", "咨询", "建议", "举报", "表扬")
UNKNOWN_LOCATION = "（居民未能提供具体地址）"
PINNED_LOCATION = "（居民提供了定位）"
UNKNOWN_WORDS = re.compile(r"^(不知道|不清楚|说不清|不确定|不记得|忘了|没有|不晓得)[。.！!]*$")
NO_PHONE_WORDS = re.compile(r"(不留|不想留|不方便|不提供|没有电话|不给)")
# "请问联系电话用您现在的号码…吗？" — answers are read in three passes, because
# "不用换"/"没问题" contain negators yet mean *keep*: explicit keep phrases first
# (unless themselves negated: "不用这个号", "别用这个"), then explicit refusals,
# then a generic yes.  A whole-answer "不"/"不用"/"不要" refuses the offer.
OWN_NUMBER_KEEP = ("不用换", "不换", "别换", "没问题", "没错", "没有别的", "没别的", "没有其他",
                   "没其他", "就用这个", "就这个", "用这个", "本机", "当前号码", "现在的号", "这个号就")  # fmt: skip
OWN_NUMBER_NO = re.compile(
    r"不对|不是|别用|不用这个|不要这个|换一个|换个|另一个|其他号|其它号|别的号|另外的号|"
    r"^(不|不用|不要|不行|不可以|不好|没有)[了吧啊，]*$"
)
OWN_NUMBER_YES = ("可以", "是的", "对", "好", "行", "嗯")
OTHER_WORDS = re.compile(r"^(其他|其它|都不是|不知道|不清楚|别的)")


def _sure(pred: CategoryPrediction) -> bool:
    return not pred.low_confidence and pred.confidence >= LOW_CONFIDENCE_THRESHOLD


@dataclass(frozen=True)
class FieldResult:
    """Slots to set, or a problem to tell the resident (then the slot stays empty).

    ``problem`` names the ``domain.yml`` response that says what the question needs.
    """

    slots: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def category_slots(text: str, prediction: CategoryPrediction | None = None) -> dict[str, Any]:
    """Category when the classifier is sure; otherwise candidates to ask about.

    ``prediction`` is the NLU pipeline's result for ``text`` when it already ran
    (the CategoryClassifier component), so the text is not classified twice.
    """
    pred = prediction or classify_category(text)
    candidates = [name for name, _ in pred.top3]
    if _sure(pred) and pred.leaf != "其他":
        return {"complaint_category": pred.leaf, "category_candidates": candidates}
    return {"complaint_category": None, "category_candidates": candidates}


def _match_category(answer: str, candidates: list[str]) -> str | None:
    taxonomy = load_taxonomy()
    t = answer.strip()
    for name in candidates:
        if name and name in t:
            return name
    leaf = taxonomy.get(t)
    if leaf is not None:
        return leaf.name
    for leaf in taxonomy.leaves:
        if leaf.name in t:
            return leaf.name
    if OTHER_WORDS.match(t):
        return "其他"
    return None


def _own_number_answer(text: str) -> bool | None:
    """Keep the calling number (True), give another (False), or unclear (None)."""
    t = scope_text(text)
    if affirmed(t, OWN_NUMBER_KEEP):
        return True
    if OWN_NUMBER_NO.search(t) or negated(t, OWN_NUMBER_YES):
        return False
    if affirmed(t, OWN_NUMBER_YES):
        return True
    return None


def value_for_field(
    slot: str,
    answer: str,
    *,
    candidates: list[str] | None = None,
    channel_phone: str | None = None,
    has_coordinates: bool = False,
    now: datetime | None = None,
) -> FieldResult:
    """Interpret ``answer`` as the new value of ``slot``."""
    text = normalize_text(answer).strip()
    if slot == "complaint_description":
        if not is_meaningful(text):
            return FieldResult(problem="utter_problem_description")
        return FieldResult({"complaint_description": answer.strip()})
    if slot == "complaint_category":
        name = _match_category(text, candidates or [])
        if name is None:
            pred = classify_category(text)
            name = pred.leaf if _sure(pred) else "其他"
        return FieldResult({"complaint_category": name})
    if slot == "complaint_location":
        if UNKNOWN_WORDS.match(text):
            label = PINNED_LOCATION if has_coordinates else UNKNOWN_LOCATION
            return FieldResult({"complaint_location": label})
        loc = extract_location(text)
        if loc is not None and loc.full:
            return FieldResult({"complaint_location": loc.full})
        if has_cjk(text) and is_meaningful(text):
            return FieldResult({"complaint_location": text.strip("。.！! ")})
        return FieldResult(problem="utter_problem_location")
    if slot == "contact_phone":
        for raw in extract_phones(text):
            phone = normalize_phone(raw)
            if phone:
                return FieldResult({"contact_phone": phone})
        if NO_PHONE_WORDS.search(text):
            return FieldResult({"contact_phone": "未留"})
        if channel_phone and (mask_phone(channel_phone) in text or channel_phone[-4:] in text):
            return FieldResult({"contact_phone": channel_phone})  # the button title, typed
        if channel_phone:
            keep = _own_number_answer(text)
            if keep is True:
                return FieldResult({"contact_phone": channel_phone})
            if keep is False:
                return FieldResult(problem="utter_problem_phone_other")
        return FieldResult(problem="utter_problem_phone")
    if slot == "anonymous":
        wish = parse_anonymous(text)
        if wish is None:
            return FieldResult(problem="utter_problem_anonymous")
        return FieldResult({"anonymous": "true" if wish else "false"})
    if slot == "complaint_time":
        when = extract_time(text, now or hotline_now())
        if when is not None:
            return FieldResult({"complaint_time": when.text, "complaint_time_iso": when.iso})
        return FieldResult({"complaint_time": text, "complaint_time_iso": None})
    if slot == "complaint_type":
        for rt in REQUEST_TYPES:
            if rt in text:
                return FieldResult({"complaint_type": rt})
        return FieldResult(problem="utter_problem_type")
    if slot == "contact_name":
        name = extract_person_name(text) or text.strip("。.！! ")
        return FieldResult({"contact_name": name} if name else {})
    raise KeyError(slot)


def warm_up() -> None:
    """Load every model and table :func:`value_for_field` uses, once, before requests."""
    sample = "朝阳区望京西园三区楼下烧烤店昨天晚上噪音很大，我姓王，电话13800001111"
    classify_category(sample)
    extract_location(sample)
    extract_time(sample, hotline_now())
    extract_person_name(sample)
    extract_phones(sample)


on_action_server_start(warm_up)
