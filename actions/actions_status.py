"""Status inquiry: by ticket number, or the resident's own latest tickets."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.channel_context import channel_context
from actions.ticket_service import STATUS_WORDS, TicketStatus, get_ticket_service
from actions.tracker_view import latest_text, merged_metadata
from nlu import extract_ticket_ids, normalize_text
from tickets.outbox import REFERENCE_RE

__all__ = ["CheckStatus", "status_line"]

MAX_TICKETS = 3


def status_line(status: TicketStatus) -> str:
    """One ticket's status as the resident hears it."""
    if status.pending_delivery:
        return f"{status.ticket_id}：已保存，正在提交到工单系统（{status.summary[:20]}…）"
    words = STATUS_WORDS.get(status.status, "状态未知，请稍后再查")
    line = f"{status.ticket_id}：{words}"
    if status.summary:
        line += f"（{status.summary[:20]}…）"
    if status.notes:
        line += f"。处理说明：{status.notes}"
    return line


class CheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        service = get_ticket_service()
        text = normalize_text(latest_text(tracker))
        found = extract_ticket_ids(text) + [m.upper() for m in REFERENCE_RE.findall(text)]
        ids = list(dict.fromkeys(found))
        ids += [str(v) for v in tracker.get_latest_entity_values("ticket_id") if str(v) not in ids]
        if not ids:
            ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
            ids = [e.ticket_id for e in await service.recent_for(ctx.channel_user, MAX_TICKETS)]
            if not ids and tracker.get_slot("last_ticket_id"):
                ids = [str(tracker.get_slot("last_ticket_id"))]
            if not ids:
                dispatcher.utter_message(
                    text="没有查到您在这个渠道提交的工单。请告诉我工单号，比如“BJ20260101-000001”。"
                )
                return []
        lines = []
        for ticket_id in ids[:MAX_TICKETS]:
            status = await service.status(ticket_id)
            lines.append(
                status_line(status) if status else f"{ticket_id}：没有找到这个工单，请核对工单号。"
            )
        dispatcher.utter_message(text="工单进度：\n" + "\n".join(lines))
        return []
