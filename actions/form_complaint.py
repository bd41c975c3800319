"""The complaint form: every reply read in context (conversation repair), the questions,
and the read-back.

Each ``validate_<slot>`` hands the resident's reply to :func:`actions.repair.read_reply`,
which says what the reply *does* (answers, gives another field, asks back, declines,
wants to stop, unclear).  The intent classifier's guess never decides it: ``cancel`` or
``emergency`` predicted for "不用" or "楼道里的灯坏了" no longer ends the complaint or
gives 110 advice.  A cancel is confirmed first (the ``cancel_check`` question, inserted
by :meth:`ValidateComplaintForm.required_slots`); the same question is asked at most twice
in a row, then the words are kept and the field marked ``needs_review`` for staff.

The last required slot, ``confirmation``, is the read-back: its validation accepts a
confirmation, a cancel (confirmed like any other), or a correction of one field, after
which the read-back is asked again.  Every question's wording is a ``domain.yml`` response.

A confirmed complaint is compared with the open tickets (:mod:`tickets.duplicates`);
when one matches, one more question, ``duplicate_check`` ("工单…反映的是…，和您说的是
同一个问题吗？"), decides whether the resident joins that ticket or files a new one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.actions_intake import emergency_calls
from actions.channel_context import channel_context
from actions.complaint import complaint_from_slots, read_back
from actions.parsing import (
    FIELD_LABELS,
    mask_phone,
    parse_confirmation_reply,
    parse_same_problem,
)
from actions.repair import (
    Move,
    Reading,
    after_miss,
    cancel_check_answer,
    clean_reply,
    is_cancel_request,
    is_question,
    question_topic,
    read_reply,
)
from actions.slot_values import category_slots, value_for_field
from actions.ticket_service import deadline_hours, get_ticket_service
from actions.tracker_view import all_slots, latest_text, merged_metadata, parsed_category
from nlu import detect_emergency, load_taxonomy, normalize_text

__all__ = [
    "ValidateComplaintForm",
    "AskAnonymous",
    "AskCancelCheck",
    "AskCategory",
    "AskDescription",
    "AskLocation",
    "AskContactPhone",
    "AskConfirmation",
    "AskDuplicateCheck",
]

log = logging.getLogger("jiesu.actions.form")
WHICH_FIELD = "?"
# Words that make a read-back reply a correction even when it ends like a question.
_CORRECTION_CUE = re.compile(r"不对|错了|改成|改为|应该是|更正|换成|写错|记错")
CANCEL_CHECK = "cancel_check"
DUPLICATE_CHECK = "duplicate_check"
#: ``duplicate_check`` values: join the open ticket, or file a new one.
SAME, DIFFERENT = "same", "different"
#: A question missed this many times in a row is not asked again.
MAX_ASKS = 2
_CORRECTABLE = (
    "complaint_location",
    "contact_phone",
    "complaint_time",
    "complaint_category",
    "complaint_description",
    "contact_name",
)
_LABELS = {
    **FIELD_LABELS,
    "anonymous": "是否保密",
    "confirmation": "核对",
    CANCEL_CHECK: "是否登记",
    DUPLICATE_CHECK: "是否同一问题",
}


def _utter(dispatcher: CollectingDispatcher, response: str, **kwargs: Any) -> None:
    dispatcher.utter_message(response=response, **kwargs)


def _answer_question(dispatcher: CollectingDispatcher, topic: str) -> None:
    """The short answer to a question back (``utter_repair_<topic>``, deadlines filled in)."""
    normal_h, urgent_h = deadline_hours()
    _utter(dispatcher, f"utter_repair_{topic}", normal_hours=normal_h, urgent_hours=urgent_h)


def _streak(tracker: Tracker, slot: str) -> int:
    raw = tracker.get_slot("ask_streak") or {}
    if isinstance(raw, dict) and raw.get("slot") == slot:
        return int(raw.get("misses") or 0)
    return 0


class ValidateComplaintForm(FormValidationAction):
    """``validate_complaint_form``: one method per slot, all through the repair reader."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("confirmation") == "cancelled":
            return []  # confirmed cancel: the form ends, action_submit_complaint says so
        slots = [s for s in domain_slots if s not in (CANCEL_CHECK, DUPLICATE_CHECK)]
        if tracker.get_slot("duplicate_candidate"):
            slots.append(DUPLICATE_CHECK)
        if tracker.get_slot("cancel_requested"):
            return [CANCEL_CHECK, *slots]
        return slots

    # -- the one reply reader ------------------------------------------------
    def _answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot:
            # Filled this turn by our own actions (e.g. from the first message), so
            # already interpreted: keep it rather than re-reading the message.
            return {slot: value}
        text = latest_text(tracker) or str(value or "")
        slots = all_slots(tracker)
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        out = self._emergency(text, slots, dispatcher)
        if out.get("urgency") and slot != "complaint_description":
            # Danger now, said while another question was open: advice given, words kept in
            # the description; the open question comes again (it is not this reply's answer).
            # (counted like a miss; never stored as this field's value, see after_miss)
            missed = self._miss(slot, text, Reading(Move.DECLINE), slots, dispatcher, tracker)
            return {**out, **missed}
        said = clean_reply(text) or text
        try:
            reading = read_reply(slot, said, slots, channel_phone=ctx.phone)
        except Exception:  # never drop the turn: keep the words for staff to check
            log.exception("reading a reply for %s failed", slot)
            review = [*(slots.get("needs_review") or []), slot]
            return {**out, **after_miss(slot, text, Reading(Move.UNCLEAR)), "needs_review": review}
        if reading.move is Move.CANCEL:
            return {**out, slot: None, "cancel_requested": True}
        if reading.move in (Move.ANSWER, Move.DECLINE):
            values = dict(reading.slots)
            if slot == "complaint_description" and values.get(slot):
                values[slot] = text.strip()  # the description is kept verbatim
            if slot == "complaint_description" and not slots.get("complaint_category"):
                found = category_slots(text, parsed_category(tracker))
                values.update({k: v for k, v in found.items() if not slots.get(k)})
            return {**out, **values, "ask_streak": None}
        return {**out, **self._miss(slot, said, reading, slots, dispatcher, tracker)}

    def _miss(
        self,
        slot: str,
        text: str,
        reading: Reading,
        slots: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> dict[str, Any]:
        """The reply did not answer: say why / answer it, then ask again — at most twice."""
        values: dict[str, Any] = dict(reading.slots)
        remarks = list(slots.get("resident_remarks") or [])
        if reading.move is Move.QUESTION:
            remarks.append(text.strip()[:500])
            values["resident_remarks"] = remarks
            _answer_question(dispatcher, reading.topic or "other")
        elif reading.move is Move.OTHER_FIELD:
            for name in reading.slots:
                if name in _LABELS:
                    _utter(dispatcher, "utter_repair_noted", label=_LABELS[name])
                    break
        misses = _streak(tracker, slot) + 1
        if misses >= MAX_ASKS:
            review = list(slots.get("needs_review") or [])
            if slot not in review:
                review.append(slot)
            values.update(after_miss(slot, text, reading))
            _utter(dispatcher, "utter_repair_needs_review", label=_LABELS.get(slot, slot))
            return {**values, "needs_review": review, "ask_streak": None}
        if reading.move is Move.UNCLEAR and reading.problem:
            _utter(dispatcher, reading.problem)
        return {**values, slot: None, "ask_streak": {"slot": slot, "misses": misses}}

    @staticmethod
    def _emergency(
        text: str, slots: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """Danger happening now, said in the middle of the intake: advice first."""
        emergency = detect_emergency(normalize_text(text))
        if emergency is None:
            return {}
        dispatcher.utter_message(
            response="utter_emergency_advice",
            calls=emergency_calls(emergency.numbers),
            json_message={"emergency": True},
        )
        description = str(slots.get("complaint_description") or "")
        out: dict[str, Any] = {"urgency": "urgent"}
        if description and text.strip() not in description:
            out["complaint_description"] = f"{description}；{text.strip()}"
        return out

    # -- one validate method per slot ----------------------------------------
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

    def validate_cancel_check(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != CANCEL_CHECK:
            return {CANCEL_CHECK: None}
        answer = cancel_check_answer(clean_reply(latest_text(tracker) or str(value or "")))
        if answer is True:
            return {CANCEL_CHECK: None, "cancel_requested": None, "confirmation": "cancelled"}
        if answer is None and _streak(tracker, CANCEL_CHECK) + 1 < MAX_ASKS:
            _utter(dispatcher, "utter_problem_cancel_check")
            return {CANCEL_CHECK: None, "ask_streak": {"slot": CANCEL_CHECK, "misses": 1}}
        # "不，继续" (or still unclear): nothing is lost, the open question comes again.
        _utter(dispatcher, "utter_repair_resume")
        return {CANCEL_CHECK: None, "cancel_requested": None, "ask_streak": None}

    async def validate_duplicate_check(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != DUPLICATE_CHECK:
            return {DUPLICATE_CHECK: value}
        text = clean_reply(latest_text(tracker) or str(value or ""))
        answer = parse_same_problem(text)
        if answer is None and is_cancel_request(text):
            # "算了": confirmed first (cancel_check), like at any other question.
            return {DUPLICATE_CHECK: None, "cancel_requested": True}
        if answer is not None:
            return {DUPLICATE_CHECK: SAME if answer else DIFFERENT, "ask_streak": None}
        slots = all_slots(tracker)
        remarks = [*(slots.get("resident_remarks") or []), text.strip()[:500]]
        if _streak(tracker, DUPLICATE_CHECK) + 1 < MAX_ASKS:
            _utter(dispatcher, "utter_problem_duplicate_check")
            return {DUPLICATE_CHECK: None, "resident_remarks": remarks,
                    "ask_streak": {"slot": DUPLICATE_CHECK, "misses": 1}}  # fmt: skip
        # Still unclear: a new ticket (nothing is lost), staff see the answer and can merge.
        review = [*(slots.get("needs_review") or []), DUPLICATE_CHECK]
        return {DUPLICATE_CHECK: DIFFERENT, "resident_remarks": remarks,
                "needs_review": review, "ask_streak": None}  # fmt: skip

    async def _duplicate_of(self, tracker: Tracker) -> dict[str, Any] | None:
        """The open ticket this confirmed complaint may duplicate, as the slot keeps it."""
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        complaint = complaint_from_slots(all_slots(tracker), tracker.sender_id, ctx.channel)
        try:
            match = await get_ticket_service().find_duplicate(complaint)
        except Exception:  # the look-up never costs the complaint
            log.exception("duplicate look-up failed")
            return None
        if match is None:
            return None
        log.info("complaint may duplicate %s (similarity %.2f)", match.ticket_id, match.score)
        return {
            "ticket_id": match.ticket_id,
            "summary": match.summary[:60],
            "score": round(match.score, 3),
        }

    async def validate_confirmation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        out = self._read_confirmation(value, dispatcher, tracker)
        if out.get("confirmation") == "confirmed" and not tracker.get_slot("duplicate_candidate"):
            candidate = await self._duplicate_of(tracker)
            if candidate is not None:
                out["duplicate_candidate"] = candidate
        return out

    def _read_confirmation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "confirmation":
            return {"confirmation": value}
        text = clean_reply(latest_text(tracker) or str(value or ""))
        slots = all_slots(tracker)
        out = self._emergency(text, slots, dispatcher)
        pending = tracker.get_slot("pending_correction")
        if (
            pending in (None, WHICH_FIELD)
            and is_question(text, topic_only=False)
            and not (_CORRECTION_CUE.search(text))
        ):
            # "这个要多长时间？" is a question, not a correction of the time
            remarks = [*(slots.get("resident_remarks") or []), text.strip()[:500]]
            _answer_question(dispatcher, question_topic(text, "confirmation"))
            return {**out, "confirmation": None, "resident_remarks": remarks}
        reply = parse_confirmation_reply(text, None if pending in (None, WHICH_FIELD) else pending)
        if reply.kind == "confirm":
            return {
                **out,
                "confirmation": "confirmed",
                "pending_correction": None,
                "ask_streak": None,
            }
        if reply.kind == "cancel":
            return {
                **out,
                "confirmation": None,
                "pending_correction": None,
                "cancel_requested": True,
            }
        if reply.kind == "keep":
            return {**out, "confirmation": None, "pending_correction": None}
        if reply.kind == "deny":
            return {**out, "confirmation": None, "pending_correction": WHICH_FIELD}
        if reply.kind == "unclear" or reply.field is None:
            if is_question(text):
                _answer_question(dispatcher, question_topic(text, "confirmation"))
                return {**out, "confirmation": None, "pending_correction": None}
            misses = _streak(tracker, "confirmation") + 1
            if is_cancel_request(text):
                return {**out, "confirmation": None, "cancel_requested": True}
            if misses >= MAX_ASKS:
                # Never lose the complaint: file it as read back, staff check the reply.
                review = [*(slots.get("needs_review") or []), "confirmation"]
                remarks = [*(slots.get("resident_remarks") or []), text.strip()[:500]]
                return {**out, "confirmation": "confirmed", "pending_correction": None,
                        "needs_review": review, "resident_remarks": remarks, "ask_streak": None}  # fmt: skip
            _utter(dispatcher, "utter_problem_confirmation")
            return {**out, "confirmation": None, "pending_correction": None,
                    "ask_streak": {"slot": "confirmation", "misses": misses}}  # fmt: skip
        if not reply.value:
            return {**out, "confirmation": None, "pending_correction": reply.field}
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        result = value_for_field(
            reply.field,
            reply.value,
            candidates=list(slots.get("category_candidates") or []),
            channel_phone=ctx.phone,
            has_coordinates=slots.get("complaint_lat") is not None,
        )
        if result.problem:
            _utter(dispatcher, result.problem)
            return {**out, "confirmation": None, "pending_correction": reply.field}
        values = dict(result.slots)
        _utter(dispatcher, "utter_field_corrected", label=_LABELS.get(reply.field, reply.field),
               json_message={"corrected": reply.field})  # fmt: skip
        return {**out, **values, "confirmation": None, "pending_correction": None}


# -- the questions -------------------------------------------------------------
class AskDescription(Action):
    def name(self) -> str:
        return "action_ask_complaint_description"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _utter(dispatcher, "utter_ask_complaint_description",
               json_message={"ask": "description"})  # the phone flow: a form is open  # fmt: skip
        return []


class AskAnonymous(Action):
    def name(self) -> str:
        return "action_ask_anonymous"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _utter(
            dispatcher,
            "utter_ask_anonymous",
            buttons=[
                {"title": "需要保密", "payload": "需要保密"},
                {"title": "不需要", "payload": "不需要保密"},
            ],
        )
        return []


class AskCancelCheck(Action):
    """ "确定不登记了吗？" before a complaint is dropped."""

    def name(self) -> str:
        return "action_ask_cancel_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _utter(
            dispatcher,
            "utter_ask_cancel_check",
            buttons=[
                {"title": "确定不登记", "payload": "确定不登记了"},
                {"title": "继续登记", "payload": "继续登记"},
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
        _utter(dispatcher, "utter_ask_complaint_category", buttons=buttons)
        return []


class AskLocation(Action):
    def name(self) -> str:
        return "action_ask_complaint_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        pinned = tracker.get_slot("complaint_lat") is not None
        response = (
            "utter_ask_complaint_location_pinned" if pinned else "utter_ask_complaint_location"
        )
        _utter(dispatcher, response, json_message={"ask": "location"})
        return []


class AskContactPhone(Action):
    """Ask for a phone number, offering the channel's own number when known."""

    def name(self) -> str:
        return "action_ask_contact_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ctx = channel_context(tracker.sender_id, merged_metadata(tracker))
        if not ctx.phone:
            _utter(dispatcher, "utter_ask_contact_phone", json_message={"ask": "phone"})
            return []
        masked = mask_phone(ctx.phone)
        phone_call = ctx.channel == "phone"
        _utter(
            dispatcher,
            "utter_ask_contact_phone_own_phone" if phone_call else "utter_ask_contact_phone_own",
            masked_phone=masked,
            buttons=[{"title": f"用 {masked}", "payload": ctx.phone}],
            json_message={"ask": "phone"},
        )
        return []


class AskDuplicateCheck(Action):
    """One sentence: the open ticket's number and what it reports; then 是/不是."""

    def name(self) -> str:
        return "action_ask_duplicate_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        candidate = tracker.get_slot("duplicate_candidate") or {}
        summary = str(candidate.get("summary") or "").strip().replace("\n", " ")
        _utter(
            dispatcher,
            "utter_ask_duplicate_check",
            ticket_id=candidate.get("ticket_id", ""),
            summary=(summary[:30] + "…") if len(summary) > 30 else summary,
            buttons=[
                {"title": "是", "payload": "是同一个问题"},
                {"title": "不是", "payload": "不是同一个问题"},
            ],
            json_message={"ask": "duplicate", "ticket_id": candidate.get("ticket_id")},
        )
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
            _utter(
                dispatcher,
                "utter_ask_which_field",
                buttons=[
                    {"title": FIELD_LABELS[f], "payload": f"修改{FIELD_LABELS[f]}"}
                    for f in _CORRECTABLE
                ],
            )
            return []
        if pending:
            _utter(dispatcher, "utter_ask_new_value", label=FIELD_LABELS.get(pending, pending))
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
