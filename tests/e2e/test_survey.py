"""The satisfaction callback end to end on the real stack (Rasa, actions, gateway).

complaint via /api/chat → staff resolves on the desk → the gateway's scheduler
(delay 0, hours 00:00-24:00 in the stack fixture) triggers the survey on the same
conversation → the web page fetches it from /api/chat/pending → answers →
ticket attributes, reopen, and /api/survey/stats.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from bot.survey.ticket_events import KEY_HEADER, SIGNATURE_HEADER, sign
from tests.auxil.conversation import answer_until_readback, ticket_id_in, wait_for
from tests.conftest import DESK_KEY, ChatSession, RunningStack
from tickets.outbox import Outbox
from tickets.survey.store import NewSurvey, SurveyStore

pytestmark = pytest.mark.stack
WEBHOOK_KEY = "test-webhook-key"
COMPLAINT = (
    "小区门口的路灯坏了一个星期了，地址是朝阳区望京西园四区3号楼，电话13800138000，不需要保密"
)


async def file_complaint(chat: ChatSession, stack: RunningStack) -> str:
    """File a complaint; the desk's ticket id (waits if the resident got a JS reference)."""
    readback, _ = await answer_until_readback(chat.say, await chat.say(COMPLAINT))
    return await delivered_ticket(stack, ticket_id_in(await chat.say("确认")))


async def delivered_ticket(stack: RunningStack, told: str) -> str:
    """The desk id for what the resident was told (a JS reference resolves a moment later)."""
    if not told.startswith("JS"):
        return told
    # The gateway's outbox worker can win the delivery race; the ticket exists a moment later.
    outbox = Outbox(stack.config.effective_outbox_db_url)

    async def delivered() -> str | None:
        return (await asyncio.to_thread(outbox.get, told)).service_request_id

    try:
        return str(await wait_for(delivered, 20, f"delivery of {told}"))
    finally:
        outbox.close()


async def set_status(
    http: aiohttp.ClientSession, stack: RunningStack, srid: str, status: str
) -> None:
    async with http.post(
        f"{stack.desk_url}/requests/{srid}/status.json",
        data={"api_key": DESK_KEY, "status": status, "note": "已修复"},
    ) as r:
        assert r.status == 200, await r.text()


async def staff_ticket(
    http: aiohttp.ClientSession, stack: RunningStack, srid: str
) -> dict[str, Any]:
    async with http.get(
        f"{stack.desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}
    ) as r:
        return dict((await r.json())[0])


async def pending_survey(
    http: aiohttp.ClientSession, stack: RunningStack, chat: ChatSession, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """What the web page shows on its next load (waits for the scheduler)."""
    got: list[dict[str, Any]] = []

    async def check() -> list[dict[str, Any]] | None:
        async with http.get(
            f"{stack.gateway_url}/api/chat/pending", params={"sender": chat.sender}
        ) as r:
            got.extend((await r.json())["messages"])
        return got if any(m.get("buttons") for m in got) else None

    return list(await wait_for(check, timeout_s, "the survey on /api/chat/pending"))


async def resolved_survey(http, stack, chat) -> tuple[str, list[dict[str, Any]]]:
    srid = await file_complaint(chat, stack)
    await set_status(http, stack, srid, "resolved")
    return srid, await pending_survey(http, stack, chat)


async def stats(http: aiohttp.ClientSession, stack: RunningStack) -> dict[str, Any]:
    async with http.get(f"{stack.gateway_url}/api/survey/stats") as r:
        assert r.status == 200
        return dict(await r.json())


def job_status(stack: RunningStack, srid: str) -> str:
    store = SurveyStore(stack.config.effective_outbox_db_url)
    try:
        return store.get(srid).status
    finally:
        store.close()


async def test_unsolved_answer_reopens_the_ticket(chat: ChatSession, stack, http) -> None:
    before = (await stats(http, stack))["overall"]
    srid, shown = await resolved_survey(http, stack, chat)
    intro = chat.text_of(shown)
    assert "12345" in intro and srid in intro and "路灯坏了" in intro
    assert chat.buttons_of(shown) == ["已联系", "未联系"]
    assert chat.buttons_of(await chat.say("已联系")) == ["已解决", "未解决"]
    assert chat.buttons_of(await chat.say("未解决")) == ["满意", "基本满意", "不满意"]
    assert "原因" in chat.text_of(await chat.say("不满意"))
    done = chat.text_of(await chat.say("路灯还是不亮，只来看了一眼"))
    assert "重新办理" in done
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["detailed_status"] == "reopened"
    assert ticket["attributes"]["survey_contacted"] == "yes"
    assert ticket["attributes"]["survey_resolved"] == "no"
    assert ticket["attributes"]["survey_satisfaction"] == "不满意"
    assert ticket["attributes"]["survey_reason"] == "路灯还是不亮，只来看了一眼"
    assert "路灯还是不亮" in ticket["status_notes"]
    after = (await stats(http, stack))["overall"]
    assert after["answered"] == before["answered"] + 1
    assert after["unsatisfied"] == before["unsatisfied"] + 1
    # The conversation is free again: a status inquiry works as before.
    assert "工单进度" in chat.text_of(await chat.say("查询工单"))


async def test_free_text_answers(chat: ChatSession, stack, http) -> None:
    srid, _ = await resolved_survey(http, stack, chat)
    assert chat.buttons_of(await chat.say("联系过了")) == ["已解决", "未解决"]
    await chat.say("修好了")
    done = chat.text_of(await chat.say("还行吧"))
    assert "回访完成" in done
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["detailed_status"] == "closed"
    assert ticket["attributes"]["survey_satisfaction"] == "基本满意"
    assert ticket["attributes"]["survey_resolved"] == "yes"


async def test_nobody_came_settles_it_in_one_answer(chat: ChatSession, stack, http) -> None:
    srid, _ = await resolved_survey(http, stack, chat)
    assert "重新办理" in chat.text_of(await chat.say("根本没人管"))
    attrs = (await staff_ticket(http, stack, srid))["attributes"]
    assert (attrs["survey_contacted"], attrs["survey_satisfaction"]) == ("no", "不满意")
    assert attrs["survey_reason"] == "根本没人管"


async def test_not_now_reschedules_and_stop_calling_opts_out(
    stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    later = ChatSession(http, stack.gateway_url)
    srid, _ = await resolved_survey(http, stack, later)
    assert "稍后再联系" in later.text_of(await later.say("现在不方便"))
    assert job_status(stack, srid) == "scheduled"
    # Delay 0 and open hours in the test stack: the retry spacing (2 h) keeps it waiting.
    store = SurveyStore(stack.config.effective_outbox_db_url)
    assert store.get(srid).due_at > time.time() + 3600
    store.close()

    stop = ChatSession(http, stack.gateway_url)
    srid2, _ = await resolved_survey(http, stack, stop)
    assert "不再回访" in stop.text_of(await stop.say("别再打了"))
    assert job_status(stack, srid2) == "opted_out"


async def test_reopen_before_the_survey_cancels_it(chat: ChatSession, stack, http) -> None:
    srid = await file_complaint(chat, stack)
    # Webhook from a "city backend": resolved then reopened, before the scheduler runs.
    body = json.dumps({"service_request_id": srid, "status": "reopened"}).encode()
    async with http.post(
        f"{stack.gateway_url}/api/ticket-events",
        data=body,
        headers={SIGNATURE_HEADER: sign("wrong-key", body)},
    ) as r:
        assert r.status == 403
    async with http.post(
        f"{stack.gateway_url}/api/ticket-events",
        json={"service_request_id": srid, "status": "resolved"},
        headers={KEY_HEADER: WEBHOOK_KEY},
    ) as r:
        assert r.status == 200 and (await r.json())["survey"] == "scheduled"
    async with http.post(
        f"{stack.gateway_url}/api/ticket-events",
        data=body,
        headers={SIGNATURE_HEADER: sign(WEBHOOK_KEY, body), "Content-Type": "application/json"},
    ) as r:
        assert r.status == 200
    # Whether or not the survey already went out, a reopen stops it.
    assert job_status(stack, srid) == "cancelled"


async def test_due_job_survives_a_gateway_restart(chat: ChatSession, stack, http) -> None:
    srid = await file_complaint(chat, stack)
    stack.stack.stop_gateway()
    try:
        store = SurveyStore(stack.config.effective_outbox_db_url)
        new = NewSurvey(srid, f"web:{chat.sender}", "web", f"web:{chat.sender}", "路灯", "路灯坏了")
        store.schedule(new, due_at=time.time() - 1)
        store.close()
    finally:
        stack.stack.start_gateway()
    shown = await pending_survey(http, stack, chat)
    assert srid in chat.text_of(shown)
    assert job_status(stack, srid) == "sent"
