"""The satisfaction callback (回访) form: start, validate, and hand the answers on.

The gateway triggers ``start_survey`` (entity ``ticket_id``) on the
complaint's conversation; ``survey_form`` then asks 是否联系 / 是否解决 /
满意度 and, when unsolved or unsatisfied, the reason.  Parsing is in
:mod:`actions.survey_parsing`; storing and posting back in
:mod:`tickets.survey.results`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.action_server import on_action_server_stop
from actions.survey_parsing import LATER, OPT_OUT, parse_answers, parse_control, parse_yes_no
from actions.tracker_view import latest_text
from hotline.timezone import hotline_tz
from tickets.survey.results import close_survey_backend, get_survey_backend
from tickets.survey.store import SurveyAnswers

__all__ = [
    "StartSurvey",
    "SubmitSurvey",
    "ValidateSurveyForm",
    "survey_intro",
]

# The survey backend's HTTP session is closed when the action server stops.
on_action_server_stop(close_survey_backend)

UNCLEAR, ANSWERED = "unclear", "answered"
ANSWER_SLOTS = ("survey_contacted", "survey_resolved", "survey_satisfaction", "survey_reason")
SURVEY_SLOTS = (*ANSWER_SLOTS, "survey_outcome", "survey_misses")
_HINTS = {
    "survey_contacted": "请回答“已联系”或“未联系”。",
    "survey_resolved": "请回答“已解决”或“未解决”。",
    "survey_satisfaction": "请回答“满意”“基本满意”或“不满意”。",
}


def survey_intro(ticket_id: str | None, summary: str, submitted_at: float | None) -> str:
    """How the callback introduces itself: who calls, which ticket, why."""
    if not ticket_id:
        return "您好，这里是12345市民服务热线，就您近期反映的问题做个简短回访。"
    when = ""
    if submitted_at:
        day = datetime.fromtimestamp(submitted_at, hotline_tz())
        when = f"{day.month}月{day.day}日"
    short = summary.strip().replace("\n", " ")
    short = (short[:20] + "…") if len(short) > 20 else short
    about = f"反映的“{short}”" if short else "反映的问题"
    return (
        f"您好，这里是12345市民服务热线回访。您{when}{about}（工单号{ticket_id}）已办结，"
        "耽误您一分钟，了解一下办理情况。不方便可以回复“现在不方便”。"
    )


class StartSurvey(Action):
    def name(self) -> str:
        return "action_start_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ticket_id = next(tracker.get_latest_entity_values("ticket_id"), None)
        job = await get_survey_backend().job(str(ticket_id)) if ticket_id else None
        dispatcher.utter_message(
            text=survey_intro(
                job.backend_ticket if job else ticket_id,
                job.summary if job else "",
                job.submitted_at if job else None,
            )
        )
        return [SlotSet(name, None) for name in SURVEY_SLOTS] + [
            SlotSet("survey_ticket_id", job.ticket_id if job else ticket_id),
            SlotSet("requested_slot", None),
        ]


class ValidateSurveyForm(FormValidationAction):
    """``validate_survey_form``: parse each answer, fill what else was said."""

    def name(self) -> str:
        return "validate_survey_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("survey_outcome"):
            return []
        unhappy = (
            tracker.get_slot("survey_resolved") == "no"
            or tracker.get_slot("survey_satisfaction") == "不满意"
        )
        return [s for s in domain_slots if unhappy or s != "survey_reason"]

    def _answer(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        control = parse_control(text)
        if control:
            return {slot: None, "survey_outcome": control}
        found = parse_answers(text)
        if slot == "survey_reason":
            found[slot] = text.strip() or None  # type: ignore[assignment]
        elif slot not in found and slot != "survey_satisfaction":
            yes_no = parse_yes_no(text)
            if yes_no:
                found[slot] = yes_no
        if found.get(slot) is None:
            return self._missed(slot, dispatcher, tracker)
        # Fill only what is still open; the answered slot always wins.
        out = {k: v for k, v in found.items() if k != slot and tracker.get_slot(k) is None}
        out[slot] = found[slot]
        if slot != "survey_reason" and "survey_reason" in out and not self._unhappy(tracker, out):
            out.pop("survey_reason")
        return out

    @staticmethod
    def _unhappy(tracker: Tracker, out: dict[str, Any]) -> bool:
        resolved = out.get("survey_resolved", tracker.get_slot("survey_resolved"))
        satisfaction = out.get("survey_satisfaction", tracker.get_slot("survey_satisfaction"))
        return resolved == "no" or satisfaction == "不满意"

    @staticmethod
    def _missed(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        misses = float(tracker.get_slot("survey_misses") or 0) + 1
        if misses >= 2:
            dispatcher.utter_message(
                text="好的，这次回访先到这里，感谢您的配合。如果有新的问题，请直接告诉我。"
            )
            return {slot: None, "survey_misses": misses, "survey_outcome": UNCLEAR}
        dispatcher.utter_message(text="抱歉，我没听明白。" + _HINTS.get(slot, ""))
        return {slot: None, "survey_misses": misses}

    def validate_survey_contacted(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("survey_contacted", dispatcher, tracker)

    def validate_survey_resolved(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("survey_resolved", dispatcher, tracker)

    def validate_survey_satisfaction(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("survey_satisfaction", dispatcher, tracker)

    def validate_survey_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer("survey_reason", dispatcher, tracker)


class SubmitSurvey(Action):
    """Record the answers (or the resident's wish to be called later / not at all).

    On a phone callback the last message also asks the phone channel to hang up
    (``{"phone": "hangup"}``): the survey call has nothing more to say.
    """

    def name(self) -> str:
        return "action_submit_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        backend = get_survey_backend()
        ticket_id = tracker.get_slot("survey_ticket_id")
        outcome = tracker.get_slot("survey_outcome") or ANSWERED
        reset = [SlotSet(name, None) for name in SURVEY_SLOTS]
        closing = ""
        if outcome == LATER:
            if ticket_id:
                await backend.later(str(ticket_id))
            closing = "好的，不打扰您了，我们稍后再联系您。"
        elif outcome == OPT_OUT:
            if ticket_id:
                await backend.opt_out(str(ticket_id))
            closing = "好的，以后不再回访打扰您。感谢您对12345热线的支持。"
        elif outcome == ANSWERED:
            answers = SurveyAnswers(
                contacted=tracker.get_slot("survey_contacted"),
                resolved=tracker.get_slot("survey_resolved"),
                satisfaction=tracker.get_slot("survey_satisfaction"),
                reason=tracker.get_slot("survey_reason"),
            )
            job = await backend.submit(str(ticket_id), answers) if ticket_id else None
            if answers.unhappy:
                shown = job.backend_ticket if job else (ticket_id or "")
                closing = (
                    f"已记录您的意见，工单{shown}已退回承办单位重新办理，"
                    "办结后会再次联系您。感谢您的反馈！"
                )
            else:
                closing = "回访完成，感谢您对12345热线工作的支持！"
        # UNCLEAR: validate_survey_form already said goodbye.
        hangup = {"phone": "hangup"} if tracker.sender_id.startswith("tel:") else None
        if closing:
            dispatcher.utter_message(text=closing, json_message=hangup)
        elif hangup:
            dispatcher.utter_message(json_message=hangup)
        return reset
