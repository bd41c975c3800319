"""Pure parsing of satisfaction-callback answers (响应 / 解决 / 满意).

Residents answer in free text or with buttons: "已联系", "还行吧",
"根本没人管", "现在不方便", "别再打了".  Every function is pure and total:
``None`` means "not understood", never an exception.
"""

from __future__ import annotations

import re

from nlu.negation import affirmed, negated, scope_text

__all__ = [
    "LATER",
    "OPT_OUT",
    "SATISFACTION_LEVELS",
    "parse_answers",
    "parse_control",
    "parse_satisfaction",
    "parse_yes_no",
]

LATER, OPT_OUT = "later", "opt_out"
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")

_PUNCT = re.compile(r"[\s，。！？、,.!?~～…:：;；\"'“”‘’（）()]+")

_OPT_OUT = ("别再打", "不要再打", "别打了", "不要打了", "别再联系", "不要再联系", "不要回访",
            "不用回访", "不需要回访", "别回访", "不接受回访", "以后别", "再也别", "拒绝回访")  # fmt: skip
_LATER = ("不方便", "没空", "没时间", "在开车", "开会", "在忙", "正忙", "很忙", "晚点", "晚些",
          "等会", "等一会", "过会", "稍后", "回头再", "改天", "明天再", "一会儿再")  # fmt: skip

# Whole-answer phrases that settle several questions at once.
_NOBODY_CAME = ("没人管", "没有人管", "没人理", "没有人理", "石沉大海", "不了了之", "推诿",
                "踢皮球")  # fmt: skip

_CONTACT_NO = ("未联系", "没人联系", "没有人联系", "没人来", "没有人来", "没联系", "没有联系", "没接到", "没有接到", "没人打", "没打过", "没打电话",
               "没来过", "没有来过", "没上门", "没有上门", "没回复", "没有回复", "联系不上")  # fmt: skip
_CONTACT_YES = ("已联系", "联系了", "联系过", "有联系", "有人联系", "打过电话", "打电话了", "来电话",
                "来过", "上门了", "上门看", "有人来", "来人了", "回复了", "回电")  # fmt: skip

_SOLVED_NO = ("未解决", "没解决", "没有解决", "没能解决", "还没解决", "不解决", "解决不了", "没修",
              "还没修", "没有修", "没修好", "没弄好", "还是老样子", "老样子", "照旧", "依旧", "依然",
              "还在", "还是坏", "还没好", "没好", "没处理", "没有处理", "没改", "没整改")  # fmt: skip
_SOLVED_YES = ("已解决", "解决了", "解决啦", "已经解决", "修好了", "修好啦", "弄好了", "处理好了",
               "处理了", "好了", "恢复了", "整改了", "清理了", "没问题了", "搞定")  # fmt: skip

_UNSATISFIED = ("不满意", "很不满", "非常不满", "不太满意", "不怎么满意", "太差", "很差", "差劲",
                "差评", "糟糕", "敷衍", "失望", "不行", "垃圾", "气人")  # fmt: skip
_BASIC = ("基本满意", "还行", "还可以", "还凑合", "凑合", "一般", "马马虎虎", "过得去", "还好",
          "勉强", "差不多", "比较满意", "还算满意")  # fmt: skip
_SATISFIED = ("非常满意", "很满意", "挺满意", "满意", "很好", "挺好", "不错", "点赞", "感谢",
              "谢谢", "表扬", "及时", "给力")  # fmt: skip

# Words whose negation ("不算解决", "不是很满意", "谈不上满意") flips the answer.
# "好了" is left out: "又不好了" stays unrecorded rather than guessed.
_CONTACT_KEYS = _CONTACT_YES + ("联系", "打电话", "来电", "上门", "来人", "回复")
_SOLVED_KEYS = tuple(w for w in _SOLVED_YES if w != "好了") + (
    "解决", "修好", "弄好", "处理", "恢复", "整改", "清理",
)  # fmt: skip
_POSITIVE = _SATISFIED + _BASIC

_YES = ("是的", "是", "对", "对的", "嗯", "有", "有的", "有过", "好的", "好", "可以", "yes", "ok")
_NO = ("没有", "没", "否", "不是", "不", "无", "没呢", "还没", "no")


def _clean(text: str) -> str:
    return _PUNCT.sub("", text or "").lower()


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def parse_control(text: str) -> str | None:
    """``opt_out`` for "别再打了", ``later`` for "现在不方便", else None."""
    t = _clean(text)
    if _has(t, _OPT_OUT):
        return OPT_OUT
    if _has(t, _LATER):
        return LATER
    return None


def parse_satisfaction(text: str) -> str | None:
    """满意 / 基本满意 / 不满意 from free text ("还行吧" → 基本满意).

    A negated positive word ("不是很满意", "谈不上满意") is 不满意: residents
    hedge politely, and reading it as 满意 would close a ticket that should reopen.
    """
    t = scope_text(text)
    if not t.strip("，"):
        return None
    if _has(t, _UNSATISFIED) or _has(t, _NOBODY_CAME) or negated(t, _POSITIVE):
        return "不满意"
    if affirmed(t, _BASIC):
        return "基本满意"
    if affirmed(t, _SATISFIED):
        return "满意"
    return None


def parse_yes_no(text: str) -> str | None:
    """A bare yes/no answer ("是的", "没有") → ``yes``/``no``."""
    t = _clean(text)
    if not t:
        return None
    for prefix in sorted(_NO, key=len, reverse=True):
        if t == prefix or (t.startswith(prefix) and len(t) <= len(prefix) + 2):
            return "no"
    for prefix in sorted(_YES, key=len, reverse=True):
        if t == prefix or (t.startswith(prefix) and len(t) <= len(prefix) + 2):
            return "yes"
    return None


def parse_answers(text: str) -> dict[str, str]:
    """Every survey answer a sentence gives, keyed by slot.

    "根本没人管" → not contacted, not solved, 不满意, and the sentence is the reason;
    "联系过了，修好了，还行吧" → contacted, solved, 基本满意.
    """
    t = scope_text(text)
    out: dict[str, str] = {}
    if not t.strip("，"):
        return out
    if _has(t, _NOBODY_CAME):
        out.update(
            survey_contacted="no",
            survey_resolved="no",
            survey_satisfaction="不满意",
            survey_reason=text.strip(),
        )
        return out
    if _has(t, _CONTACT_NO) or negated(t, _CONTACT_KEYS):
        out["survey_contacted"] = "no"
    elif affirmed(t, _CONTACT_YES):
        out["survey_contacted"] = "yes"
    if _has(t, _SOLVED_NO) or negated(t, _SOLVED_KEYS):
        out["survey_resolved"] = "no"
    elif affirmed(t, _SOLVED_YES) and not _has(t, ("不好了",)):
        out["survey_resolved"] = "yes"
    level = parse_satisfaction(text)
    if level:
        out["survey_satisfaction"] = level
    return out
