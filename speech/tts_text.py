"""Text normalisation for spoken Chinese prompts (pure functions).

Ticket ids, phone numbers and hotline numbers are read digit by digit with
``1`` as 幺 (yāo), the way Beijing call centres read them, so 12345 becomes
幺二三四五.  Short numbers (one or two digits) are read as quantities
(24 -> 二十四).  Years keep 一 (2021年 -> 二零二一年).  Latin letters are
spelled with Chinese approximations because the ``cmn-latn-pinyin`` voice
reads Latin text as pinyin.  A masked number (138****1111) is read as its
tail only (尾号幺幺幺幺): the caller must never hear a shorter number that
sounds complete.
"""

from __future__ import annotations

import re

__all__ = ["digits_to_speech", "number_to_chinese", "normalise_for_speech", "speak_masked_numbers"]

_DIGITS_YAO = "零幺二三四五六七八九"
_DIGITS_YI = "零一二三四五六七八九"
_LETTERS = {
    "A": "诶", "B": "比", "C": "西", "D": "迪", "E": "伊", "F": "艾夫", "G": "吉",
    "H": "艾尺", "I": "艾", "J": "杰", "K": "开", "L": "艾勒", "M": "艾姆", "N": "恩",
    "O": "欧", "P": "皮", "Q": "丘", "R": "阿尔", "S": "艾丝", "T": "提", "U": "优",
    "V": "维", "W": "达布留", "X": "艾克斯", "Y": "歪", "Z": "贼德",
}  # fmt: skip
_MEASURE_WORDS = "个小天周位次分件条项"
# An id-like token: letters and digits mixed, or a run of 3+ digits (phone, hotline, ticket).
_TOKEN = re.compile(r"\+?[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*")
# A masked number: visible head digits + 2 or more stars + visible tail (138****1111,
# +86*******1111), or 3 or more stars + tail (****1111; two stars alone are Markdown bold).
_MASKED = re.compile(r"(?:\+?\d{2,}[*＊]{2,}|(?<![\w*＊])[*＊]{3,})(\d{1,4})(?![\d*＊])")


def digits_to_speech(digits: str, yao: bool = True) -> str:
    """Read a digit string one digit at a time (``yao``: 1 as 幺, else 一)."""
    table = _DIGITS_YAO if yao else _DIGITS_YI
    return "".join(table[int(d)] for d in digits if d.isdigit())


def number_to_chinese(n: int) -> str:
    """Read 0..99 as a quantity (十, 十二, 二十四); larger numbers digit by digit."""
    if n < 0 or n > 99:
        return digits_to_speech(str(n), yao=False)
    if n < 10:
        return _DIGITS_YI[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _DIGITS_YI[tens] + "十"
    return head + (_DIGITS_YI[ones] if ones else "")


def _spell(token: str, next_char: str) -> str:
    plain = token.lstrip("+").replace("-", "").replace("_", "")
    has_alpha = any(c.isalpha() for c in plain)
    if plain == "2" and next_char and next_char in _MEASURE_WORDS:
        return "两"
    if plain.isdigit() and len(plain) <= 2:
        return number_to_chinese(int(plain))
    if plain.isdigit() and next_char == "年":
        return digits_to_speech(plain, yao=False)
    if not has_alpha or any(c.isdigit() for c in plain) or len(plain) <= 3:
        out = []
        for c in plain:
            out.append(digits_to_speech(c) if c.isdigit() else _LETTERS.get(c.upper(), c))
        return "".join(out)
    return token  # a Latin word: leave it to the voice


def speak_masked_numbers(text: str) -> str:
    """Replace masked numbers by 尾号<tail> (138****1111 -> 尾号1111).

    Run before anything strips ``*`` (Markdown cleanup), otherwise the head and
    tail fuse into 1381111, which is read out as if it were the whole number.
    """
    return _MASKED.sub(lambda m: f"尾号{m.group(1)}", text)


def normalise_for_speech(text: str) -> str:
    """Rewrite ``text`` so espeak-ng reads numbers and ids the hotline way."""
    text = speak_masked_numbers(text)

    def repl(m: re.Match[str]) -> str:
        nxt = text[m.end() : m.end() + 1]
        return _spell(m.group(0), nxt)

    return _TOKEN.sub(repl, text).strip()
