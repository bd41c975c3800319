"""Hand the confirmed complaint to the ticket backend, or drop it on request.

The resident always leaves with a number: the backend's ticket id when it
answered, otherwise the outbox reference (delivery continues in the
background and status inquiries accept either).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.channel_context import channel_context
from actions.complaint import COMPLAINT_SLOTS, complaint_from_slots
from actions.ticket_service import SubmitResult, get_ticket_service
from actions.tracker_view import all_slots, merged_metadata

__all__ = ["SubmitComplaint", "CancelComplaint", "CallEnded", "submitted_text", "reset_events"]

log = logging.getLogger("jiesu.actions.submit")


def reset_events() -> list[dict[str, Any]]:
    """Clear every slot of the finished or abandoned complaint."""
    return [SlotSet(name, None) for name in COMPLAINT_SLOTS]


def submitted_text(result: SubmitResult, urgent: bool, hours: int) -> str:
    due = result.deadline.strftime("%m月%d日%H:%M")
    if result.delivered:
        head = f"您的诉求已受理，工单号：{result.ticket_id}。"
    else:
        head = (
            f"您的诉求已保存，参考号：{result.ticket_id}。工单系统暂时连接不上，"
            "恢复后会自动登记，不需要重复反映。"
        )
    level = "紧急工单，" if urgent else ""
    return (
        f"{head}{level}承办单位将在{hours}小时内（{due}前）联系您。"
        "可以随时发“查询工单”了解进度，办结后我们会回访您是否满意。"
    )


def duplicate_of(tracker: Tracker) -> str | None:
    """The open ticket the resident said is their problem too (``duplicate_check``)."""
    candidate = tracker.get_slot("duplicate_candidate")
    if tracker.get_slot("duplicate_check") != "same" or not isinstance(candidate, dict):
        return None
    return str(candidate.get("ticket_id") or "") or None


async def _submit(
    tracker: Tracker, needs_callback: bool = False, joined: str | None = None
) -> tuple[SubmitResult, bool, int]:
    service = get_ticket_service()
    ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
    complaint = complaint_from_slots(
        all_slots(tracker), tracker.sender_id, ctx.channel, needs_callback=needs_callback
    )
    result = await service.submit(complaint, ctx.channel_user, duplicate_of=joined)
    urgent = complaint.urgency == "urgent"
    hours = service.config.deadline_urgent_h if urgent else service.config.deadline_normal_h
    log.info(
        "complaint %s submitted as %s (delivered=%s)",
        complaint.complaint_id,
        result.ticket_id,
        result.delivered,
    )
    return result, urgent, hours


class SubmitComplaint(Action):
    """Runs when the form completes: submit if confirmed, otherwise cancel."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("confirmation") != "confirmed":
            dispatcher.utter_message(response="utter_cancelled")
            return reset_events()
        joined = duplicate_of(tracker)
        result, urgent, hours = await _submit(tracker, joined=joined)
        extra = {
            "ticket_id": result.ticket_id,
            "delivered": result.delivered,
            **({"duplicate_of": joined} if joined else {}),
            **({"phone": "wrap_up"} if tracker.sender_id.startswith("tel:") else {}),
        }
        if joined and result.ticket_id == joined:
            dispatcher.utter_message(
                response="utter_duplicate_joined", ticket_id=joined, json_message=extra
            )
        elif joined and not result.delivered:
            dispatcher.utter_message(
                response="utter_duplicate_saved",
                reference=result.ticket_id,
                ticket_id=joined,
                json_message=extra,
            )
        else:  # a new ticket (or the matched one was resolved meanwhile: a new one too)
            dispatcher.utter_message(text=submitted_text(result, urgent, hours), json_message=extra)
        return [*reset_events(), SlotSet("last_ticket_id", result.ticket_id)]


class CancelComplaint(Action):
    """Drop the complaint in progress (the rule then says utter_cancelled)."""

    def name(self) -> str:
        return "action_cancel_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.active_loop_name is None:
            dispatcher.utter_message(response="utter_nothing_open")
            return reset_events()
        return [*reset_events(), ActiveLoop(None)]


class CallEnded(Action):
    """The caller hung up: whatever they described still becomes a ticket."""

    def name(self) -> str:
        return "action_call_ended"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if not tracker.get_slot("complaint_description"):
            return [*reset_events(), ActiveLoop(None)]
        result, urgent, hours = await _submit(tracker, needs_callback=True)
        dispatcher.utter_message(
            text=f"通话已结束，您反映的问题已登记（{result.ticket_id}），话务员会回电核实。",
            json_message={"ticket_id": result.ticket_id, "needs_callback": True},
        )
        return [*reset_events(), ActiveLoop(None), SlotSet("last_ticket_id", result.ticket_id)]
