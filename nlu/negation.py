"""Negation scope: the one rule for "is this word negated?" (answer parsers, request type).

Keyword lists alone read "不是很满意" as 满意 and "不用这个号" as "use this
number", because the key word is inside the answer.  The rule here decides
whether one occurrence of a key word is negated:

* a negator 不/没/别/未/无, optionally followed by a degree or hedge word
  (是很/是太/是特别/是非常/是十分/是/很/太/够/算/怎么/大/有/能/法/想/要/用), ends
  *directly* before the key word: "不是很|满意", "不够|满意", "不算|解决",
  "没有|联系";
* or 谈不上/算不上/说不上/不觉得 appears anywhere before it in the same
  clause: "谈不上|满意", "不觉得他们|满意".

A clause ends at a comma, 。, ！, ？, ；or 、, so "没想到，挺满意" stays positive.
别 inside 特别/分别/区别/个别/级别 is not a negator ("特别满意" is positive).
Whitespace is not a break: phone ASR often inserts spaces ("不是 很满意").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["CLAUSE_BREAKS", "affirmed", "is_negated", "negated", "scope_text"]

CLAUSE_BREAKS = "，,。.！!？?；;、"
_BREAK = re.compile(f"[{re.escape(CLAUSE_BREAKS)}]")
_NEGATOR = r"(?:不|没|未|无需|无|甭|(?<![特分区个级])别)"
# Longest first, so "不是很" is read as one hedge rather than "不是" + "很".
_DEGREE = r"(?:是很|是太|是特别|是非常|是十分|是|很|太|够|算|怎么|大|有|能|法|想|要|用|需要|必|觉得|上|那么|再|非常|十分|特别)*"
_DIRECT = re.compile(f"{_NEGATOR}{_DEGREE}$")
_HEDGE = re.compile(r"(谈不上|算不上|说不上|不觉得)")
_NOISE = re.compile(r"[\s\"'“”‘’（）()~～…:：]+")


def scope_text(text: str) -> str:
    """Lower-case ``text`` without spaces/quotes but keeping clause breaks as "，".

    Keyword matching ignores punctuation, but the negation scope needs to know
    where a clause ends, so every break becomes one "，" instead of vanishing.
    """
    t = _NOISE.sub("", text or "").lower()
    return _BREAK.sub("，", t)


def is_negated(text: str, start: int) -> bool:
    """Whether the word beginning at ``text[start]`` is negated (see module rule)."""
    before = text[:start]
    clause = _BREAK.split(before)[-1]
    return bool(_DIRECT.search(clause) or _HEDGE.search(clause))


def _occurrences(text: str, words: Iterable[str]) -> Iterable[int]:
    for word in words:
        start = text.find(word)
        while start != -1:
            yield start
            start = text.find(word, start + 1)


def negated(text: str, words: Iterable[str]) -> bool:
    """True when some occurrence of one of ``words`` in ``text`` is negated."""
    return any(is_negated(text, i) for i in _occurrences(text, words))


def affirmed(text: str, words: Iterable[str]) -> bool:
    """True when some occurrence of one of ``words`` in ``text`` is not negated."""
    return any(not is_negated(text, i) for i in _occurrences(text, words))
