"""The ``duplicate_check`` step of the complaint form, on hand-built trackers (no Rasa)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions_submit import duplicate_of
from actions.form_complaint import AskDuplicateCheck, ValidateComplaintForm

CANDIDATE = {
    "ticket_id": "BJ20261202-000001",
    "summary": "朝阳区劲松八区北门的井盖丢了",
    "score": 0.4,
}
FORM_SLOTS = ["complaint_description", "confirmation", "cancel_check", "duplicate_check"]


def _tracker(text: str, **slots: Any) -> Tracker:
    values = {"requested_slot": "duplicate_check", "duplicate_candidate": CANDIDATE, **slots}
    return Tracker(
        "web:t1", values, {"text": text, "intent": {"name": "inform"}}, [], False, None,
        {"name": "complaint_form"}, "action_listen",
    )  # fmt: skip


async def _validate(text: str, **slots: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    out = await ValidateComplaintForm().validate_duplicate_check(
        text, dispatcher, _tracker(text, **slots), {}
    )
    return out, dispatcher.messages


async def test_yes_and_no_in_buttons_and_free_text() -> None:
    for text in ("是同一个问题", "对，就是这个", "没错"):
        assert (await _validate(text))[0]["duplicate_check"] == "same"
    for text in ("不是同一个问题", "不是，我说的是另一个", "不一样"):
        assert (await _validate(text))[0]["duplicate_check"] == "different"


async def test_unclear_twice_files_a_new_ticket_for_review() -> None:
    out, said = await _validate("嗯……这个嘛")
    assert out["duplicate_check"] is None
    assert [m["response"] for m in said] == ["utter_problem_duplicate_check"]
    streak = out["ask_streak"]
    out, _ = await _validate("我也说不好", ask_streak=streak)
    assert out["duplicate_check"] == "different" and "duplicate_check" in out["needs_review"]
    assert "我也说不好" in out["resident_remarks"]


async def test_cancel_at_the_question_is_confirmed_first() -> None:
    out, _ = await _validate("算了")
    assert out == {"duplicate_check": None, "cancel_requested": True}


async def test_the_question_is_asked_only_with_a_candidate() -> None:
    form, dispatcher = ValidateComplaintForm(), CollectingDispatcher()
    with_one = await form.required_slots(FORM_SLOTS, dispatcher, _tracker(""), {})
    assert with_one == ["complaint_description", "confirmation", "duplicate_check"]
    without = await form.required_slots(
        FORM_SLOTS, dispatcher, _tracker("", duplicate_candidate=None), {}
    )
    assert without == ["complaint_description", "confirmation"]


async def test_one_sentence_with_the_number_and_what_was_reported() -> None:
    dispatcher = CollectingDispatcher()
    await AskDuplicateCheck().run(dispatcher, _tracker(""), {})
    (msg,) = dispatcher.messages
    assert msg["response"] == "utter_ask_duplicate_check"
    assert msg["ticket_id"] == CANDIDATE["ticket_id"] and msg["summary"] == CANDIDATE["summary"]
    assert [b["title"] for b in msg["buttons"]] == ["是", "不是"]


def test_submit_joins_only_on_yes() -> None:
    assert duplicate_of(_tracker("", duplicate_check="same")) == CANDIDATE["ticket_id"]
    assert duplicate_of(_tracker("", duplicate_check="different")) is None
    assert duplicate_of(_tracker("", duplicate_check="same", duplicate_candidate=None)) is None
