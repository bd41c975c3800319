"""Read-only helpers over a rasa-sdk ``Tracker`` snapshot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from nlu import CategoryPrediction

__all__ = ["all_slots", "merged_metadata", "latest_text", "latest_intent", "parsed_category"]


def all_slots(tracker: Tracker) -> dict[str, Any]:
    return dict(tracker.slots)


def merged_metadata(tracker: Tracker) -> dict[str, Any]:
    """Channel metadata of this conversation's user turns, newest values winning.

    A phone number shared in turn 1 (caller id, Telegram contact) is still
    known when the form asks for it in turn 4.
    """
    merged: dict[str, Any] = {}
    for event in tracker.events:
        if event.get("event") == "user":
            meta = event.get("metadata") or {}
            merged.update({k: v for k, v in meta.items() if v not in (None, "")})
    merged.update({k: v for k, v in (tracker.latest_message.get("metadata") or {}).items() if v})
    merged.pop("raw_text", None)
    return merged


def latest_text(tracker: Tracker) -> str:
    """The resident's last message verbatim (the gateway's ``raw_text``), else Rasa's text."""
    meta = tracker.latest_message.get("metadata") or {}
    raw = meta.get("raw_text")
    return str(raw if isinstance(raw, str) and raw else tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def parsed_category(tracker: Tracker) -> CategoryPrediction | None:
    """The category the NLU pipeline (CategoryClassifier) found for the last message."""
    raw = tracker.latest_message.get("category")
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return CategoryPrediction(
        leaf=str(raw["name"]),
        gov_class=str(raw.get("gov_class", "")),
        service_code=str(raw.get("service_code", "")),
        confidence=float(raw.get("confidence", 0.0)),
        top3=tuple((str(r["name"]), float(r["confidence"])) for r in raw.get("ranking", [])),
        low_confidence=bool(raw.get("low_confidence", False)),
        fused=bool(raw.get("fused", False)),
    )
