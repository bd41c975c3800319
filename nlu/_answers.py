"""Reading the reply to "请问具体地点是哪里？": an address, a question, a decline ...

At that question the resident's reply is read more leniently than free text: a bare
landmark ("学校门口", "我家楼下", "3号楼2单元") counts as the address, while in a complaint
sentence only a real address (district, street, road or named compound) would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from hotline.timezone import hotline_now

from ._location import AddressPart, Kind, find_address_parts, find_location
from ._normalize import normalize_text
from ._person import find_person_name
from ._phones import find_phones
from ._time import find_time
from ._types import Location

__all__ = ["AddressAnswer", "AnswerKind", "is_question", "parse_address_answer"]


class AnswerKind(Enum):
    """What a reply to the address question is."""

    ADDRESS = "address"  # the place (``AddressAnswer.address`` holds it)
    QUESTION = "question"  # a question or remark for the agent ("为什么要地址", "我先想想")
    DECLINE = "decline"  # the resident will not or cannot say ("不知道", "不方便说")
    OTHER_FIELD = "other_field"  # another field instead: phone, time or name
    UNCLEAR = "unclear"  # nothing usable (noise, fillers, an unrelated sentence)


@dataclass(frozen=True)
class AddressAnswer:
    """The reading of one reply to the address question.

    Attributes:
        kind: What the reply is.
        address: The address in the resident's words (fillers such as "就在…那边" trimmed)
            when ``kind`` is ADDRESS, else None.
        location: The parsed parts when the extractor recognised a full address (a bare
            landmark like "学校门口" has none), else None.
        field: For OTHER_FIELD, which field was given: "phone", "time" or "name".
    """

    kind: AnswerKind
    address: str | None = None
    location: Location | None = None
    field: str | None = None


_CLAUSE = re.compile(r"[^,，。.!！?？;；:：~～…]+[,，。.!！?？;；:：~～…]*")
_QUESTION_END = re.compile(r"(?:[?？]|[吗呢么嘛][啊呀哈]?)[,，。.!！?？~～…\s]*$")
_QUESTION_START = re.compile(
    r"^(?:请问|问一下|我想问|那)?(?:为什么|为啥|怎么|多久|多长时间|什么|啥|哪|谁|能不能|能否|"
    r"可不可以|是不是|有没有|要不要|几|多少|凭什么|干嘛|干什么)"
)
_QUESTION_WORD = re.compile(
    r"谁|为什么|为啥|怎么|什么|多久|多长时间|啥时候|几天|哪个部门|哪里|哪儿|干嘛|干啥|有啥|想问|请问|"
    r"是否|能不能|可不可以|有没有用|什么意思|啥意思"
)
# "管不管", "能不能", "是不是": an A-not-A question
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# hesitations and remarks addressed to the agent: not an answer yet
_REMARK = re.compile(
    r"(?:^|我|让我|你)(?:先|再)?(?:想想|想一想|想一下|等等|等一下|等一会儿?|稍等|稍等一下|查一下|看看|"
    r"看一下|问问|问一下|找找|找一下|回头再说|一会儿再说|待会儿?再说|马上)"
)
_DECLINE = re.compile(
    r"不(?:太|大|是很)?(?:知道|清楚|记得|方便|确定)|记不清|记不住|忘了|说不清|说不上来|不想说|不愿意|"
    r"不告诉|不能说|不晓得|^没有?[了啊呀]*$|"
    r"不用了?|不需要|不要了|不说了?|算了|保密|无可奉告|不好说|不确定|没有?(?:具体|详细)?的?地址|拒绝|不提供"
)
_FILLER_WORDS = (
    r"嗯|呃|啊|哦|喔|唉|哎|诶|那个|这个|就是|然后|反正|大概|应该|可能|好像|估计|差不多|我觉得"
)
_LEAD = re.compile(
    rf"^(?:{_FILLER_WORDS}|\s)*"
    r"(?:(?:地址|地点|位置|具体地点|具体位置)(?:是|在|就是|就在)?|"
    r"(?:我|我们)?(?:家|这儿|这边)?(?:住|就|是|也)*在|是在?|就在|在)?"
    rf"(?:{_FILLER_WORDS}|\s)*"
)
_TRAIL = re.compile(
    r"(?:那边|这边|那儿|这儿|那块|这块|那里|这里|那一块|吧|啊|呀|哈|的|了|嘛|呢|\s)+$"
)
_PUNCT = re.compile(r"[,，。.!！?？;；:：~～…\s]+")
_ONLY_FILLERS = re.compile(rf"^(?:{_FILLER_WORDS}|喂|您好|你好|好的|好|行|对|是|\s)*$")
# the owner said before a bare landmark: "我家楼下", "我们小区门口", "单位对面"
_OWNER = re.compile(r"^(?:我家|我们家|俺家|我们|咱们|我|家|单位|公司|学校)")
# characters a free-form place name may consist of (no particles, pronouns, verbs of speech)
_NAME_RUN = re.compile(
    r"^[^\W\d_的了是在住我你他她它们这那哪个就跟说把被给对从往到也还又很没不吗呢吧啊呀嗯呃哦喂请让叫能"
    r"要想找问和或与及太挺真最都再先等查管坏吵脏臭乱堵漏占]{1,12}$"
)
# last characters of landmarks without a compound suffix ("国家图书馆", "五金店", "东单路口")
_LANDMARK_END = re.compile(
    r"(?:店|馆|厂|场|站|所|局|处|堂|亭|桥|塔|河|湖|山|寺|庙|屯|营|坊|口|门|楼|校|园|厅|房|库|"
    r"池|坡|沟|岗|坝|港|码头|街|路|巷|里|村|庄|院|苑|城|区|号|座|栋|层|室|单元|旁边|附近|对面)$"
)
# gazetteer-free address parts that make a reply an address by themselves
_PLACE_KINDS = frozenset(
    {
        Kind.ROAD,
        Kind.HOUSE_NUMBER,
        Kind.COMMUNITY,
        Kind.SUBAREA,
        Kind.BUILDING,
        Kind.UNIT,
        Kind.FLOOR,
        Kind.POSITION,
        Kind.LANDMARK,
    }
)
_ROOM_CONTEXT = frozenset({Kind.BUILDING, Kind.UNIT, Kind.FLOOR, Kind.HOUSE_NUMBER})


@dataclass(frozen=True)
class _Clause:
    text: str  # without its closing punctuation
    question_mark: bool


def _clauses(text: str) -> list[_Clause]:
    out = []
    for m in _CLAUSE.finditer(text):
        piece = m.group(0)
        body = _PUNCT.sub(" ", piece).strip()
        if body:
            out.append(_Clause(body, "?" in piece or "？" in piece))
    return out


def _is_question(clause: _Clause) -> bool:
    text = clause.text
    return (
        clause.question_mark
        or bool(_QUESTION_END.search(text))
        or bool(_QUESTION_START.match(text))
        or bool(_QUESTION_WORD.search(text))
        or bool(_REMARK.search(text))
        or bool(_A_NOT_A.search(text))
    )


def is_question(text: str) -> bool:
    """A question or a remark for the agent ("你们多久能处理？", "这归谁管", "我先想想"),
    in any clause of ``text``: the one rule the address reader and the form's repair share."""
    return any(_is_question(c) for c in _clauses(normalize_text(text)))


def _clean(text: str) -> str:
    text = _LEAD.sub("", text)
    text = _TRAIL.sub("", text)
    return text.replace(" ", "")


def _covered_by_parts(text: str, parts: list[AddressPart]) -> bool:
    """Whether ``text`` is address parts joined by free names (no verbs, no particles)."""
    pos = 0
    prev: AddressPart | None = None
    for part in parts:
        if part.kind is Kind.ROOM and (
            prev is None or prev.kind not in _ROOM_CONTEXT or prev.end != part.start
        ):
            if not text[part.start : part.end].endswith(("室", "户")):
                return False
        if part.start > pos and not _free_name(text[pos : part.start], first=pos == 0):
            return False
        pos, prev = part.end, part
    if pos < len(text):
        tail = text[pos:]
        return _free_name(tail, first=pos == 0) and bool(_LANDMARK_END.search(tail))
    return True


def _free_name(segment: str, first: bool) -> bool:
    if first:
        segment = _OWNER.sub("", segment, count=1)
    segment = re.sub(r"的|那个|这个", "", segment)
    return not segment or bool(_NAME_RUN.match(segment))


def _lenient_address(clause: str) -> str | None:
    """A bare landmark or partial address said in answer to the address question."""
    text = _clean(clause)
    if len(text) < 2 or len(text) > 40:
        return None
    parts = find_address_parts(text)
    placed = [p for p in parts if p.kind in _PLACE_KINDS or p.known]
    if placed and _covered_by_parts(text, parts):
        return text
    if not parts and _free_name(text, first=True) and _LANDMARK_END.search(text):
        owner_free = _OWNER.sub("", text, count=1)
        if len(owner_free) >= 2:
            return text
    return None


def _other_field(text: str, now: datetime) -> str | None:
    if find_phones(text):
        return "phone"
    if find_person_name(text):
        return "name"
    if find_time(text, now):
        return "time"
    return None


def _fine_address(location: Location) -> bool:
    """More than a district or street office: a place one can go to."""
    return any(
        (
            location.road,
            location.community,
            location.house_number,
            location.building,
            location.unit,
            location.room,
        )
    )


def parse_address_answer(text: str, now: datetime | None = None) -> AddressAnswer:
    """Read the reply to the question "请问具体地点是哪里？".

    An address anywhere in the reply wins ("不知道门牌号，在望京西园四区" is an address), a
    bare landmark counts ("学校门口", "我家楼下", "3号楼2单元"), fillers around it are
    trimmed ("就在清华东路17号院那边" → "清华东路17号院"). Otherwise a question or remark
    ("你们多久能处理？", "这归谁管", "我先想想") beats a decline ("不知道", "不方便说"), which
    beats another field (a phone number, a name, a time).

    Args:
        text: The resident's reply (any script, typed or transcribed).
        now: Reference time for recognising times (default: now in Beijing).

    Returns:
        The kind of reply, with the address text when it is one.
    """
    norm = normalize_text(text)
    if not norm or (_ONLY_FILLERS.match(_PUNCT.sub("", norm)) and not re.search("[?？]", norm)):
        return AddressAnswer(AnswerKind.UNCLEAR)
    clauses = _clauses(norm)
    questions = [c for c in clauses if _is_question(c)]
    span = find_location(norm)
    if span is not None:
        in_question = any(span.location.full in c.text for c in questions)
        if not in_question or _fine_address(span.location):
            return AddressAnswer(AnswerKind.ADDRESS, span.location.full, span.location)
    declines = [c for c in clauses if _DECLINE.search(c.text)]
    for clause in clauses:
        if clause in questions or clause in declines:
            continue
        landmark = _lenient_address(clause.text)
        if landmark is not None:
            return AddressAnswer(AnswerKind.ADDRESS, landmark)
    if questions:
        return AddressAnswer(AnswerKind.QUESTION)
    if declines:
        return AddressAnswer(AnswerKind.DECLINE)
    field = _other_field(norm, now or hotline_now())
    if field is not None:
        return AddressAnswer(AnswerKind.OTHER_FIELD, field=field)
    return AddressAnswer(AnswerKind.UNCLEAR)
