"""The complaint form: slot validation, custom questions, and the read-back.

The last required slot, ``confirmation``, is the read-back: its question
prints the whole complaint, and its validation accepts a confirmation, a
cancel, or a correction of one field, after which the read-back is asked
again.  Every turn also fills any other empty slot the resident mentioned.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.channel_context import channel_context
from actions.complaint import complaint_from_slots, read_back
from actions.complaint_fields import fields_from_text, merge_missing
from actions.parsing import FIELD_LABELS, mask_phone, parse_confirmation_reply
from actions.slot_values import category_slots, value_for_field
from actions.tracker_view import all_slots, latest_text, merged_metadata, parsed_category
from nlu import load_taxonomy

__all__ = [
    "ValidateComplaintForm",
    "AskAnonymous",
    "AskCategory",
    "AskDescription",
    "AskLocation",
    "AskContactPhone",
    "AskConfirmation",
]

WHICH_FIELD = "?"
_CORRECTABLE = (
    "complaint_location",
    "contact_phone",
    "complaint_time",
    "complaint_category",
    "complaint_description",
    "contact_name",
)


class ValidateComplaintForm(FormValidationAction):
    """``validate_complaint_form``: one method per slot, plus side-filling."""

    def name(self) -> str:
        return "validate_complaint_form"

    def _answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot:
            # Filled this turn by our own actions (e.g. from the first message), so
            # already interpreted: keep it rather than re-reading the message.
            return {slot: value}
        # from_text gives the normalised text; keep the resident's own words.
        text = latest_text(tracker) or str(value or "")
        slots = all_slots(tracker)
        meta = merged_metadata(tracker)
        ctx = channel_context(tracker.sender_id, meta)
        result = value_for_field(
            slot,
            text,
            candidates=list(slots.get("category_candidates") or []),
            channel_phone=ctx.phone,
            has_coordinates=slots.get("complaint_lat") is not None,
        )
        if result.problem:
            dispatcher.utter_message(text=result.problem)
            out: dict[str, Any] = {slot: None}
        else:
            out = dict(result.slots)
        # Anything else said in this turn fills empty slots, never the answered one.
        side = merge_missing(slots, fields_from_text(text))
        side.pop(slot, None)
        if (
            slot == "complaint_description"
            and not result.problem
            and not slots.get("complaint_category")
        ):
            found = category_slots(text, parsed_category(tracker))
            side.update({k: v for k, v in found.items() if not slots.get(k)})
        return {**side, **out}

    def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("complaint_description", value, dispatcher, tracker)

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("complaint_category", value, dispatcher, tracker)

    def validate_complaint_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("complaint_location", value, dispatcher, tracker)

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("contact_phone", value, dispatcher, tracker)

    def validate_anonymous(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("anonymous", value, dispatcher, tracker)

    def validate_confirmation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        pending = tracker.get_slot("pending_correction")
        reply = parse_confirmation_reply(
            latest_text(tracker) or str(value or ""),
            None if pending in (None, WHICH_FIELD) else pending,
        )
        if reply.kind == "confirm":
            return {"confirmation": "confirmed", "pending_correction": None}
        if reply.kind == "cancel":
            return {"confirmation": "cancelled", "pending_correction": None}
        if reply.kind == "deny":
            return {"confirmation": None, "pending_correction": WHICH_FIELD}
        if reply.kind == "unclear" or reply.field is None:
            dispatcher.utter_message(
                text="没太明白。信息无误请说“确认”；要修改请说明哪一项，比如“电话改成……”；不登记了请说“取消”。"
            )
            return {"confirmation": None, "pending_correction": None}
        if not reply.value:
            return {"confirmation": None, "pending_correction": reply.field}
        slots = all_slots(tracker)
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        result = value_for_field(
            reply.field,
            reply.value,
            candidates=list(slots.get("category_candidates") or []),
            channel_phone=ctx.phone,
            has_coordinates=slots.get("complaint_lat") is not None,
        )
        if result.problem:
            dispatcher.utter_message(text=result.problem)
            return {"confirmation": None, "pending_correction": reply.field}
        label = FIELD_LABELS.get(reply.field, reply.field)
        dispatcher.utter_message(text=f"好的，{label}已更正。")
        return {**result.slots, "confirmation": None, "pending_correction": None}


class AskDescription(Action):
    def name(self) -> str:
        return "action_ask_complaint_description"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="请您描述一下遇到的问题：发生了什么，持续多久了？",
            json_message={"ask": "description"},  # the phone flow: a form is open
        )
        return []


class AskAnonymous(Action):
    def name(self) -> str:
        return "action_ask_anonymous"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="承办单位可能需要联系您核实情况。是否需要对您的个人信息保密？",
            buttons=[
                {"title": "需要保密", "payload": "需要保密"},
                {"title": "不需要", "payload": "不需要保密"},
            ],
        )
        return []


class AskCategory(Action):
    """Ask the resident to pick among the classifier's top candidates."""

    def name(self) -> str:
        return "action_ask_complaint_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        candidates = [c for c in (tracker.get_slot("category_candidates") or []) if c != "其他"]
        taxonomy = load_taxonomy()
        buttons = []
        for name in candidates[:3]:
            leaf = taxonomy.get(name)
            title = f"{leaf.parent}·{leaf.name}" if leaf and leaf.parent != leaf.name else name
            buttons.append({"title": title, "payload": name})
        buttons.append({"title": "其他", "payload": "其他"})
        dispatcher.utter_message(
            text="为了转给对口的部门，请问您反映的问题更接近哪一类？", buttons=buttons
        )
        return []


class AskLocation(Action):
    def name(self) -> str:
        return "action_ask_complaint_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("complaint_lat") is not None:
            text = "已收到您的定位。请再补充一下具体地址，比如小区、楼号；不清楚可以说“不清楚”。"
        else:
            text = "请问问题发生在什么地方？请说区、街道或小区名称，越具体越好，比如“朝阳区望京西园四区3号楼”。"
        dispatcher.utter_message(text=text, json_message={"ask": "location"})
        return []


class AskContactPhone(Action):
    """Ask for a phone number, offering the channel's own number when known."""

    def name(self) -> str:
        return "action_ask_contact_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        text = "请留一个联系电话，方便承办单位联系您（手机或带区号的座机）。"
        buttons = []
        if ctx.phone:
            text = f"请问联系电话用您现在的号码 {mask_phone(ctx.phone)} 吗？也可以说其他号码。"
            buttons = [{"title": f"用 {mask_phone(ctx.phone)}", "payload": ctx.phone}]
        dispatcher.utter_message(text=text, buttons=buttons, json_message={"ask": "phone"})
        return []


class AskConfirmation(Action):
    """The read-back (or the question for the field being corrected)."""

    def name(self) -> str:
        return "action_ask_confirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_correction")
        if pending == WHICH_FIELD:
            dispatcher.utter_message(
                text="请问哪一项需要修改？",
                buttons=[
                    {"title": FIELD_LABELS[f], "payload": f"修改{FIELD_LABELS[f]}"}
                    for f in _CORRECTABLE
                ],
            )
            return []
        if pending:
            label = FIELD_LABELS.get(pending, pending)
            dispatcher.utter_message(text=f"请告诉我新的{label}。")
            return []
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        complaint = complaint_from_slots(all_slots(tracker), tracker.sender_id, ctx.channel)
        dispatcher.utter_message(
            text=read_back(complaint),
            buttons=[
                {"title": "确认提交", "payload": "确认"},
                {"title": "修改", "payload": "需要修改"},
                {"title": "取消", "payload": "取消"},
            ],
        )
        return []
