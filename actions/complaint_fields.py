"""Fill complaint slots from anything the resident says.

"Anything already said fills its slot without being asked again": every
turn of the complaint runs through :func:`fields_from_text`, which returns
only the slots it found, and :func:`merge_missing` never overwrites what the
resident already gave unless the turn was the answer to that very slot.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from hotline.timezone import hotline_now
from nlu import (
    EmergencyLevel,
    assess_emergency,
    classify_request_type,
    detect_request_type,
    extract_location,
    extract_person_name,
    extract_phones,
    extract_time,
    normalize_phone,
    normalize_text,
)

__all__ = ["fields_from_text", "merge_missing"]

log = logging.getLogger("jiesu.actions.fields")
_ANON = re.compile(r"(匿名|保密|不要透露|别透露|不要公开|别公开)")


def fields_from_text(text: str, now: datetime | None = None) -> dict[str, Any]:
    """Slots that can be read off one utterance (only those found).

    Each extractor runs on its own: one that fails on an unusual text (a bug, a library
    error) costs that field only, never the resident's turn.
    """
    t = normalize_text(text)
    found: dict[str, Any] = {}
    if not t.strip():
        return found
    for extract in (_location, _time, _phone, _name, _flags):
        # "27号楼" is part of the address, not a date: later fields skip the address.
        address = found.get("complaint_location")
        rest = t.replace(address, "，") if address and extract is _time else t
        try:
            found.update(extract(rest, now))
        except Exception:
            log.exception("%s failed on a %d-character message", extract.__name__, len(t))
    return found


def _location(t: str, now: datetime | None) -> dict[str, Any]:
    location = extract_location(t)
    return {"complaint_location": location.full} if location is not None and location.full else {}


def _time(t: str, now: datetime | None) -> dict[str, Any]:
    when = extract_time(t, now or hotline_now())
    if when is None:
        return {}
    return {"complaint_time": when.text, "complaint_time_iso": when.iso}


def _phone(t: str, now: datetime | None) -> dict[str, Any]:
    for raw in extract_phones(t):
        phone = normalize_phone(raw)
        if phone:
            return {"contact_phone": phone}
    return {}


def _name(t: str, now: datetime | None) -> dict[str, Any]:
    name = extract_person_name(t)
    return {"contact_name": name} if name else {}


def _flags(t: str, now: datetime | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if _ANON.search(t):
        found["anonymous"] = "true"
    if assess_emergency(t).level is not EmergencyLevel.NONE:
        found["urgency"] = "urgent"  # present danger, or a hazard staff must see soon
    return found


def request_type_of(text: str) -> str:
    return detect_request_type(normalize_text(text))


def request_type_slots(text: str) -> dict[str, Any]:
    """Type of the opening, and whether the read-back should ask the resident to check it."""
    pred = classify_request_type(normalize_text(text))
    return {"complaint_type": pred.type, "complaint_type_unsure": True if pred.unsure else None}


def merge_missing(current: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``found`` whose slots are still empty in ``current``."""
    return {k: v for k, v in found.items() if current.get(k) in (None, "", [])}
