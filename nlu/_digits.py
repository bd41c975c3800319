"""Spoken and written digits: "幺三八" → "138"."""

from __future__ import annotations

__all__ = ["DIGIT_CHARS", "to_ascii_digits"]

_DIGIT_MAP = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "拐": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "勾": "9",
    "玖": "9",
}
for _d in "0123456789":
    _DIGIT_MAP[_d] = _d

#: Every character that reads as a single digit.
DIGIT_CHARS = "".join(sorted(_DIGIT_MAP))


def to_ascii_digits(text: str) -> str:
    """Map each digit character (ASCII, Chinese, radio-style 幺/拐/洞) to ASCII.

    Characters that are not digits are dropped.

    Args:
        text: Text containing digit characters.

    Returns:
        The ASCII digits in order.
    """
    return "".join(_DIGIT_MAP[c] for c in text if c in _DIGIT_MAP)
