"""Texts the Telegram channel sends to Rasa for non-text input.

Rasa's NLU treats a message starting with ``/`` as an intent given directly,
with entities as a JSON object after the name (``/intent{"entity": value}``).
The domain defines the intents ``share_location`` (entities ``lat``/``long``),
``share_contact`` (``phone``), ``share_attachment`` (``url``), ``inquire_status``
and ``cancel``.  The same values also travel in the turn's ``metadata``, which
actions should trust over the entities: a resident could type these texts.
"""

from __future__ import annotations

import json

__all__ = [
    "CANCEL",
    "INQUIRE_STATUS",
    "attachment_text",
    "contact_text",
    "location_text",
    "normalise_phone",
]

INQUIRE_STATUS = "/inquire_status"
CANCEL = "/cancel"


def _intent(name: str, entities: dict[str, object]) -> str:
    return f"/{name}{json.dumps(entities, ensure_ascii=False)}"


def location_text(lat: float, long: float) -> str:
    """``/share_location{"lat": 39.99, "long": 116.47}`` for a shared location."""
    return _intent("share_location", {"lat": lat, "long": long})


def contact_text(phone: str) -> str:
    """``/share_contact{"phone": "+8613800138000"}`` for a shared contact."""
    return _intent("share_contact", {"phone": phone})


def attachment_text(url: str) -> str:
    """``/share_attachment{"url": "file:///…"}`` for a stored photo or document."""
    return _intent("share_attachment", {"url": url})


def normalise_phone(raw: str) -> str:
    """Telegram sends contact numbers without ``+`` (``8613800138000``); add it back.

    Args:
        raw: The ``phone_number`` of a Telegram contact.

    Returns:
        The number in E.164 form with a leading ``+``, digits only.
    """
    digits = "".join(c for c in raw if c.isdigit())
    return f"+{digits}" if digits else ""
