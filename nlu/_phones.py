"""Phone-number extraction (mobile and landline, written or spoken)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._digits import DIGIT_CHARS, to_ascii_digits
from ._normalize import normalize_text

__all__ = ["PhoneSpan", "extract_phones", "find_phones", "normalize_phone"]

_SEP = r"[\s\-－—–·.,，、]"
# "+86", "0086", "86-" and the spoken "加八六" prefixes
_PREFIX = r"(?:(?:\+|加)\s*(?:86|八六)|0086)?"
_RUN = re.compile(
    rf"(?<![A-Za-z0-9]){_PREFIX}\s*[{DIGIT_CHARS}](?:{_SEP}{{0,2}}[{DIGIT_CHARS}])+(?![A-Za-z0-9])"
)
_GROUP_SPLIT = re.compile(_SEP + "+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0(?:[12]\d|[3-9]\d{2})[1-9]\d{6,7}")
_LOCAL = re.compile(r"[2-9]\d{7}")
_PHONE_CUE = re.compile(r"(电话|手机|号码|座机|联系|打给|打我|拨打|回电|致电|tel|Tel|TEL)")
_NOT_A_PHONE_AFTER = re.compile(r"^\s*(元|块|年|月|日|号楼|号院|单元|室|平|米|个|次|人|岁|公斤|斤)")


@dataclass(frozen=True)
class PhoneSpan:
    """A phone number found in normalised text.

    Attributes:
        value: Normalised number ("13800138000" or "010-12345678").
        start: Start offset in the normalised text.
        end: End offset (exclusive).
    """

    value: str
    start: int
    end: int


def _format(digits: str, cued: bool) -> str | None:
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return digits
    if _LANDLINE.fullmatch(digits):
        area_len = 3 if digits[1] in "12" else 4
        return f"{digits[:area_len]}-{digits[area_len:]}"
    if cued and _LOCAL.fullmatch(digits):
        return f"010-{digits}"  # an 8-digit number without area code: Beijing
    return None


_SERVICE = re.compile(r"(?:400|800)\d{7}")
_ANSWER_NOISE = re.compile(r"[\s()（）\-－—]")


def normalize_phone(raw: str) -> str | None:
    """Normalise a whole answer that should be one phone number, or None if it is not one.

    Mobile numbers come back as 11 digits, landlines as ``010-12345678`` and 400/800
    service numbers as given; ``+86``/``0086`` prefixes and separators are dropped.  The same
    patterns :func:`find_phones` uses inside running text.
    """
    digits = _ANSWER_NOISE.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if _SERVICE.fullmatch(digits):
        return raw.strip()
    return _format(digits, cued=False)


def _plus_prefixed(chunk: str) -> bool:
    return chunk.lstrip().startswith(("+", "加", "0086"))


def find_phones(text: str) -> list[PhoneSpan]:
    """Find phone numbers with their offsets in already normalised text.

    Args:
        text: Normalised text (see ``normalize_text``).

    Returns:
        Phone spans in text order, without duplicates.
    """
    found: list[PhoneSpan] = []
    seen: set[str] = set()
    for m in _RUN.finditer(text):
        if _NOT_A_PHONE_AFTER.match(text[m.end() : m.end() + 3]):
            continue
        cued = bool(_PHONE_CUE.search(text[max(0, m.start() - 12) : m.start()]))
        chunk = m.group(0)
        digits = to_ascii_digits(chunk.replace("加", ""))
        if _plus_prefixed(chunk) and not digits.startswith("86"):
            digits = "86" + digits
        value = _format(digits, cued)
        spans: list[tuple[str, int, int]] = []
        if value:
            spans.append((value, m.start(), m.end()))
        else:
            spans.extend(_split_groups(chunk, m.start(), cued))
        for val, start, end in spans:
            # trim leading separators from the reported span
            while start < end and not text[start].isalnum() and text[start] != "+":
                start += 1
            if val not in seen:
                seen.add(val)
                found.append(PhoneSpan(val, start, end))
    return found


def _split_groups(chunk: str, offset: int, cued: bool) -> list[tuple[str, int, int]]:
    """Split a digit run at separators and join neighbouring groups into phones."""
    groups: list[tuple[str, int, int]] = []
    pos = 0
    for piece in _GROUP_SPLIT.split(chunk):
        idx = chunk.index(piece, pos) if piece else pos
        pos = idx + len(piece)
        if piece:
            groups.append((piece, offset + idx, offset + pos))
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(groups):
        best: tuple[str, int] | None = None
        acc = ""
        for j in range(i, min(len(groups), i + 5)):
            acc += to_ascii_digits(groups[j][0])
            if len(acc) > 14:
                break
            value = _format(acc, cued)
            if value:
                best = (value, j)
        if best:
            out.append((best[0], groups[i][1], groups[best[1]][2]))
            i = best[1] + 1
        else:
            i += 1
    return out


def extract_phones(text: str) -> list[str]:
    """Extract phone numbers from an utterance.

    Mobile numbers come back as 11 digits ("13800138000"), landlines as
    "area-number" ("010-12345678"). Numbers written or spoken in characters
    ("幺三八零零幺三八零零零零"), with spaces or dashes, and with +86 / 0086 prefixes are
    recognised. An 8-digit number without area code is taken as a Beijing landline
    only when a phone cue ("电话", "座机" ...) precedes it.

    Args:
        text: The utterance (normalised or not).

    Returns:
        Distinct normalised numbers in the order they were said.
    """
    return [p.value for p in find_phones(normalize_text(text))]
