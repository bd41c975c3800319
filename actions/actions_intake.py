"""Actions that open a complaint or add to it outside the form's questions.

Thin: read the turn, call the pure functions, return slot events.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.complaint_fields import fields_from_text, merge_missing, request_type_slots
from actions.parsing import has_cjk, is_meaningful
from actions.slot_values import category_slots
from actions.tracker_view import all_slots, latest_intent, latest_text, parsed_category
from nlu import detect_emergency, normalize_phone, normalize_text

__all__ = [
    "StartComplaint",
    "RequestHandoff",
    "ShareLocation",
    "ShareContact",
    "ShareAttachment",
    "emergency_calls",
]

log = logging.getLogger("jiesu.actions.intake")
_NUMBER_NAMES = {"110": "110报警", "119": "119火警", "120": "120急救"}
NOT_DESCRIPTIONS = {"request_human", "share_location", "share_contact", "share_attachment"}


def emergency_calls(numbers: tuple[str, ...]) -> str:
    """ "119火警、120急救" for the ``{calls}`` of ``utter_emergency_advice``."""
    return "、".join(_NUMBER_NAMES.get(n, n) for n in numbers) or "110、119或120"


def _events(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [SlotSet(k, v) for k, v in values.items()]


class StartComplaint(Action):
    """First substantive message: open a complaint and fill what it already says."""

    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        slots = all_slots(tracker)
        values: dict[str, Any] = {}
        if not slots.get("complaint_id"):
            values["complaint_id"] = uuid.uuid4().hex
        # The NLU's detector alone decides: advice only for danger happening now.
        emergency = detect_emergency(normalize_text(text))
        if emergency is not None:
            dispatcher.utter_message(
                response="utter_emergency_advice",
                calls=emergency_calls(emergency.numbers),
                json_message={"emergency": True},
            )
            values["urgency"] = "urgent"
        if intent == "request_human":
            values["handoff_requested"] = True
        if intent not in NOT_DESCRIPTIONS and is_meaningful(text) and not text.startswith("/"):
            if not has_cjk(text):
                dispatcher.utter_message(response="utter_not_chinese")
            values["complaint_description"] = text.strip()
            values.update(request_type_slots(text))
            try:
                values.update(category_slots(text, parsed_category(tracker)))
            except Exception:  # the words are kept; the category is asked instead
                log.exception("category of a %d-character opening failed", len(text))
            values.update(merge_missing(slots, fields_from_text(text)))
        return _events(values)


class RequestHandoff(Action):
    """转人工: flag the ticket and tell the resident what happens next."""

    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        values: dict[str, Any] = {"handoff_requested": True}
        if not tracker.get_slot("complaint_id"):
            values["complaint_id"] = uuid.uuid4().hex
        dispatcher.utter_message(response="utter_handoff", json_message={"handoff": True})
        return _events(values)


class ShareLocation(Action):
    def name(self) -> str:
        return "action_share_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        lat, lon = tracker.get_slot("complaint_lat"), tracker.get_slot("complaint_long")
        if lat is None or lon is None:
            dispatcher.utter_message(response="utter_location_missing")
            return []
        if tracker.active_loop_name is None:
            dispatcher.utter_message(response="utter_location_received")
        return []


class ShareContact(Action):
    def name(self) -> str:
        return "action_share_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        raw = next(tracker.get_latest_entity_values("phone"), None)
        phone = normalize_phone(str(raw)) if raw else None
        if phone is None:
            dispatcher.utter_message(response="utter_contact_without_phone")
            return []
        return [SlotSet("contact_phone", phone)]


class ShareAttachment(Action):
    def name(self) -> str:
        return "action_share_attachment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        url = next(tracker.get_latest_entity_values("url"), None)
        if not url:
            return []
        attachments = list(tracker.get_slot("attachments") or [])
        if url not in attachments:
            attachments.append(str(url))
        dispatcher.utter_message(response="utter_attachment_received")
        return [SlotSet("attachments", attachments)]
