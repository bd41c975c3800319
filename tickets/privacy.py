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


def mask_personal_data(text: str) -> str:
    """Replace the middle digits of ID numbers and phone numbers with ``*``."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    return text


def mask_names(text: str, *names: str | None) -> str:
    """Replace each known name of the resident (≥2 characters) with asterisks."""
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text
