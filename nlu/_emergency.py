"""Emergency detection: redirect fire, gas, violence, injuries ... to 110/119/120."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._normalize import normalize_text
from ._types import Emergency

__all__ = ["EmergencySpan", "detect_emergency", "find_emergency"]

#: Emergency number(s) for each kind.
NUMBERS: dict[str, tuple[str, ...]] = {
    "fire": ("119",),
    "gas": ("119",),
    "trapped": ("119",),
    "collapse": ("119",),
    "flood": ("119",),
    "violence": ("110",),
    "injury": ("120",),
    "medical": ("120",),
}
_NUMBER_ORDER = ("110", "119", "120")
# the kind reported when several match: the most dangerous first
_PRIORITY = ("fire", "gas", "violence", "collapse", "trapped", "flood", "injury", "medical")

_PATTERNS: dict[str, re.Pattern[str]] = {
    "fire": re.compile(
        r"着火|起火|失火|火灾|烧起来|燃起来|火烧|大火|火苗|火势|火光|冒黑烟|冒浓烟|浓烟|"
        r"(?:电动车|电瓶车|充电|电线|厨房|楼道|屋里|楼里|房子|车|锅)[^，。,.!！]{0,4}(?:着了|烧了|冒烟|自燃)|"
        r"火着了|着了火|爆炸|炸了"
    ),
    "gas": re.compile(
        r"(?:燃气|煤气|天然气|液化气)[^，。,.!！]{0,3}(?:泄漏|泄露|漏了|漏气|味|跑气)|"
        r"(?:闻到|一股|很大的|好大的|好重的|很重的)[^，。,.!！]{0,3}(?:煤气|燃气|天然气)|"
        r"漏气|煤气中毒|煤气罐[^，。,.!！]{0,3}(?:漏|炸)"
    ),
    "violence": re.compile(
        r"打人|打架|斗殴|殴打|被打|挨打|砍人|砍伤|捅人|捅伤|持刀|拿刀|拿着刀|动刀|抢劫|抢东西|"
        r"家暴|家庭暴力|绑架|劫持|杀人|要杀|行凶|耍流氓|非礼|性骚扰|闯进|入室|打起来了|动手了|"
        r"拿棍子|打砸|持械|威胁要|跟踪我"
    ),
    "injury": re.compile(
        r"受伤|受了伤|流血|出血|血流|头破|骨折|摔伤|撞伤|烫伤|烧伤|砸伤|砸到人|撞倒|被撞|车祸|"
        r"被车撞|轧了|被咬伤|咬伤|伤得很重|伤得挺重|起不来了|摔倒了起不来"
    ),
    "trapped": re.compile(
        r"被困|困住|困在|关在电梯|卡在电梯|电梯[^，。,.!！]{0,6}(?:出不来|下不来|出不去|卡住|停住|关人|困人)|"
        r"(?:出不去|出不来)了|锁在(?:屋|家|里)|掉进[^，。,.!！]{0,4}(?:井|坑|河|水)|落水"
    ),
    "collapse": re.compile(
        r"塌了|倒塌|坍塌|塌方|塌陷|垮了|要塌|快塌|裂开了|砸下来|掉下来砸|墙倒|楼倒|房倒|天坑"
    ),
    "flood": re.compile(
        r"水淹|淹了|被淹|淹到|淹没|洪水|发大水|泡在水里|积水[^，。,.!！]{0,4}(?:膝盖|腰|大腿|半米|一米|齐腰)|"
        r"水[^，。,.!！]{0,3}(?:到膝盖|没过膝盖|齐腰|到腰)|倒灌|水漫进|漫进来|决口|管涌"
    ),
    "medical": re.compile(
        r"晕倒|昏倒|昏迷|不省人事|没有呼吸|没呼吸|没气了|喘不上气|喘不过气|呼吸困难|心脏病|心梗|"
        r"脑梗|中风|抽搐|抽风|口吐白沫|中毒|休克|急救|救护车|快不行了|人不行了|大出血|"
        r"割腕|跳楼|要自杀|想自杀|轻生|要生了|羊水破了|噎住|卡住喉咙|没反应了|叫不醒"
    ),
}

# Words that show the message talks *about* the topic rather than reporting one now.
_NOT_NOW = re.compile(
    r"咨询|请问|问一下|问问|年检|演练|培训|宣传|讲座|知识|预防|防范|防止|隐患|检查|检修|"
    r"灭火器|消防通道|消防设施|报警器|安装|更换|维修|上次|上回|之前|以前|去年|前年|"
    r"上个月|上周|处理了吗|处理结果|进展|怎么样了|有没有|会不会|怎么办理|电影|电视剧|小说|游戏|新闻"
)
# Direct negation right before the match: "没有着火", "不是漏气".
_NEGATED = re.compile(r"(?:没有|没|不是|并没有|并没|不会|别)[^，。,.!！?？]{0,2}$")
# Present-tense markers that override _NOT_NOW ("之前就漏气，现在又着火了").
_NOW = re.compile(r"现在|正在|刚刚|刚才|马上|快来|赶紧|救命|快点|快!|快！|着呢|了!|了！|救救")


@dataclass(frozen=True)
class EmergencySpan:
    """An emergency cue in normalised text.

    Attributes:
        kind: Emergency kind.
        start: Start offset of the cue.
        end: End offset (exclusive).
    """

    kind: str
    start: int
    end: int


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(p, 0, start) for p in "。！!?？;；\n")
    right_candidates = [i for i in (text.find(p, end) for p in "。！!?？;；\n") if i != -1]
    return left + 1, min(right_candidates) if right_candidates else len(text)


def find_emergency(text: str) -> list[EmergencySpan]:
    """Find current-emergency cues in normalised text.

    Args:
        text: Normalised text.

    Returns:
        The cues that are not negated or merely talked about, in text order.
    """
    hits: list[EmergencySpan] = []
    for kind, pattern in _PATTERNS.items():
        for m in pattern.finditer(text):
            if _NEGATED.search(text[max(0, m.start() - 4) : m.start()]):
                continue
            c_start, c_end = _clause_bounds(text, m.start(), m.end())
            clause = text[c_start:c_end]
            if _NOT_NOW.search(clause) and not _NOW.search(clause):
                continue
            hits.append(EmergencySpan(kind, m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def detect_emergency(text: str) -> Emergency | None:
    """Detect an emergency that the hotline must hand over to 110, 119 or 120.

    Recall is favoured: anything that sounds like a fire, gas leak, violence, injury,
    people trapped, a collapse, flooding or a medical emergency happening now is
    reported. Mentions that only talk about the topic ("咨询灭火器年检", "上次着火的事处理
    了吗", "没有着火") are not.

    Args:
        text: The utterance.

    Returns:
        The most dangerous detected kind with the union of the numbers to call, or None.
    """
    norm = normalize_text(text)
    hits = find_emergency(norm)
    if not hits:
        return None
    kinds = {h.kind for h in hits}
    kind = next(k for k in _PRIORITY if k in kinds)
    numbers = {n for k in kinds for n in NUMBERS[k]}
    first = next(h for h in hits if h.kind == kind)
    return Emergency(
        kind=kind,
        numbers=tuple(n for n in _NUMBER_ORDER if n in numbers),
        matched=norm[first.start : first.end],
    )
