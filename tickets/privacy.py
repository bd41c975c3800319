"""Masking of residents' personal data (phone numbers, ID card numbers, names).

Used for log records and for the public view of tickets, which must never
show a resident's phone number or name.
"""

from __future__ import annotations

import re

__all__ = ["mask_personal_data", "mask_names"]

_ID_CARD = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{3,4})(\d{4})(?!\d)")
# Anything else phone-like: "+" and 7+ digits, or 11+ digits, single spaces/dashes allowed
# between groups ("138 0013 8000").  Not after a letter, so ticket ids stay readable.
_PHONE_LIKE = re.compile(r"\+\d(?:[ -]?\d){6,}|(?<![\dA-Za-z])\d(?:[ -]?\d){10,}")


def _mask_phone_like(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = [c for c in raw if c.isdigit()]
    keep_head, keep_tail = (5 if raw.startswith("+") else 3), 4
    if len(digits) <= keep_head + keep_tail:
        keep_head = 2
    masked = (
        digits[:keep_head] + ["*"] * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]
    )
    return ("+" if raw.startswith("+") else "") + "".join(masked)


def mask_personal_data(text: str) -> str:
    """Replace the middle digits of ID numbers and phone numbers with ``*``."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    return _PHONE_LIKE.sub(_mask_phone_like, text)


def mask_names(text: str, *names: str | None) -> str:
    """Replace each known name of the resident (≥2 characters) with asterisks."""
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text
