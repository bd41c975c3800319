"""Whole conversations through /api/chat against the real trained model and servers."""

from __future__ import annotations

import re
import uuid

import aiohttp
import pytest

from tests.auxil.conversation import answer_until_readback, question_kind, ticket_id_in, wait_for
from tests.conftest import DESK_KEY, ChatSession, RunningStack

pytestmark = pytest.mark.stack


async def staff_ticket(http: aiohttp.ClientSession, stack: RunningStack, srid: str) -> dict:
    async with http.get(
        f"{stack.desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}
    ) as r:
        assert r.status == 200, await r.text()
        return (await r.json())[0]


async def test_everything_in_one_message(chat: ChatSession, stack: RunningStack, http) -> None:
    first = await chat.say(
        "我家楼下的饭馆每天晚上十二点以后还很吵，地址是朝阳区望京西园四区3号楼，"
        "电话13800138000，不需要保密"
    )
    readback, asked = await answer_until_readback(chat.say, first)
    assert "location" not in asked and "phone" not in asked and "description" not in asked
    text = chat.text_of(readback)
    assert "望京西园四区" in text and "13800138000" in text
    assert chat.buttons_of(readback) == ["确认提交", "修改", "取消"]
    done = await chat.say("确认")
    srid = ticket_id_in(done)
    assert srid.startswith("BJ")
    assert "24小时" in chat.text_of(done)
    ticket = await staff_ticket(http, stack, srid)
    assert "十二点以后还很吵" in ticket["description"]
    assert "望京西园四区" in ticket["address"]
    assert ticket["phone"] == "13800138000"
    assert ticket["attributes"]["channel"] == "web"
    assert ticket["attributes"]["conversation_id"] == f"web:{chat.sender}"
    assert ticket["attributes"]["time"]
    async with http.get(f"{stack.desk_url}/requests/{srid}.json") as r:
        public = (await r.json())[0]
    assert "phone" not in public and "13800138000" not in str(public)


async def test_missing_fields_are_asked_one_by_one(chat: ChatSession, stack, http) -> None:
    first = await chat.say("路灯坏了")
    readback, asked = await answer_until_readback(chat.say, first)
    assert asked[-3:] == ["location", "phone", "anonymous"]
    srid = ticket_id_in(await chat.say("确认"))
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["description"] == "路灯坏了"
    assert ticket["phone"] == "13800138000"


@pytest.mark.parametrize(
    "correction, expected, on_ticket",
    [
        (
            "地址不对，是丰台区方庄芳城园一区",
            "方庄芳城园一区",
            lambda t: "方庄芳城园一区" in t["address"],
        ),
        ("电话改成13900001111", "13900001111", lambda t: t["phone"] == "13900001111"),
        ("时间改成昨天晚上八点", "昨天晚上", lambda t: "昨天晚上" in t["attributes"]["time"]),
        ("类型是举报", "类型：举报", lambda t: t["attributes"]["request_type"] == "举报"),
        ("我叫王小明", "王小明", lambda t: t["last_name"] + t["first_name"] == "王小明"),
        ("保密改成需要保密", "个人信息保密：是", lambda t: t["attributes"]["anonymous"] == "true"),
        (
            "问题描述改成楼上装修天天砸墙",
            "楼上装修天天砸墙",
            lambda t: t["description"] == "楼上装修天天砸墙",
        ),
    ],
)
async def test_correct_one_field_then_confirm(
    chat: ChatSession, stack, http, correction: str, expected: str, on_ticket
) -> None:
    first = await chat.say("楼上装修每天早上七点就开始砸墙，朝阳区望京西园四区，电话13800138000")
    await answer_until_readback(chat.say, first)
    again = await chat.say(correction)
    assert question_kind(again) == "readback", again
    assert expected in chat.text_of(again)
    srid = ticket_id_in(await chat.say("确认"))
    assert on_ticket(await staff_ticket(http, stack, srid))


async def test_correction_by_field_button(chat: ChatSession) -> None:
    first = await chat.say("小区垃圾好几天没人清了，海淀区中关村大街27号，电话13800138000")
    await answer_until_readback(chat.say, first)
    which = await chat.say("需要修改")
    assert "哪一项" in chat.text_of(which) and "地点" in chat.buttons_of(which)
    ask = await chat.say("修改地点")
    assert "新的地点" in chat.text_of(ask)
    again = await chat.say("海淀区中关村大街29号")
    assert "中关村大街29号" in chat.text_of(again)


async def test_cancel_at_readback_files_nothing(chat: ChatSession, stack, http) -> None:
    async with http.get(f"{stack.desk_url}/requests.json", params={"api_key": DESK_KEY}) as r:
        before = len(await r.json())
    first = await chat.say("共享单车乱停乱放堵住了小区出口，朝阳区望京西园四区，电话13800138000")
    await answer_until_readback(chat.say, first)
    check = await chat.say("取消")
    assert "确定不登记了吗" in chat.text_of(check)
    done = await chat.say("确定")
    assert "已取消" in chat.text_of(done)
    async with http.get(f"{stack.desk_url}/requests.json", params={"api_key": DESK_KEY}) as r:
        assert len(await r.json()) == before


async def test_status_by_number_and_by_own_identity(chat: ChatSession, stack, http) -> None:
    first = await chat.say(
        "马路上有个大坑，好几辆车都颠坏了，丰台区方庄芳城园一区门口，电话13800138000"
    )
    await answer_until_readback(chat.say, first)
    srid = ticket_id_in(await chat.say("确认"))
    async with http.post(
        f"{stack.desk_url}/requests/{srid}/status.json",
        data={"api_key": DESK_KEY, "status": "in_progress", "note": "已派单至养护中心"},
    ) as r:
        assert r.status == 200
    by_number = chat.text_of(await chat.say(f"我的工单{srid}处理得怎么样了"))
    assert srid in by_number and "正在处理" in by_number and "养护中心" in by_number
    mine = chat.text_of(await chat.say("查一下我的工单"))
    assert srid in mine
    other = ChatSession(chat.http, chat.base_url)
    assert srid not in chat.text_of(await other.say("查一下我的工单"))


async def test_emergency_gets_advice_first_and_an_urgent_ticket(
    chat: ChatSession, stack, http
) -> None:
    first = await chat.say("着火了！我们楼三层冒烟了")
    assert "119" in first[0]["text"]
    readback, _ = await answer_until_readback(chat.say, first)
    assert "紧急" in chat.text_of(readback)
    done = await chat.say("确认")
    assert "2小时" in chat.text_of(done)
    ticket = await staff_ticket(http, stack, ticket_id_in(done))
    assert ticket["attributes"]["urgency"] == "urgent"


async def test_nonsense_still_ends_as_a_ticket(chat: ChatSession, stack, http) -> None:
    first = await chat.say("阿巴阿巴阿巴")
    readback, asked = await answer_until_readback(chat.say, first, {"category": "其他"})
    done = await chat.say("确认")
    ticket = await staff_ticket(http, stack, ticket_id_in(done))
    assert ticket["description"] == "阿巴阿巴阿巴"
    assert ticket["attributes"]["category"] == "其他"


async def test_handoff_request_is_recorded(chat: ChatSession, stack, http) -> None:
    first = await chat.say("转人工")
    assert "转人工" in chat.text_of(first)
    readback, asked = await answer_until_readback(chat.say, first)
    assert asked[0] == "description"
    ticket = await staff_ticket(http, stack, ticket_id_in(await chat.say("确认")))
    assert ticket["attributes"]["handoff"] == "true"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀", "x" * 10_000, "我家樓下的餐廳每天晚上很吵", "The street light is broken"],
)
async def test_bad_input_gets_a_clear_reply(chat: ChatSession, text: str) -> None:
    messages = await chat.say(text)
    assert messages and all(m.get("text") for m in messages[:1])


async def test_malformed_requests_get_json_errors(stack: RunningStack, http) -> None:
    url = f"{stack.gateway_url}/api/chat"
    cases = [
        (b"{not json", "invalid_json"),
        (b"[1,2]", "invalid_body"),
        (b'{"text": "hi"}', "invalid_sender"),
        (b'{"sender": "a", "text": 5}', "invalid_text"),
        (b'{"sender": "a", "text": "x", "metadata": []}', "invalid_metadata"),
    ]
    for body, code in cases:
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400
            assert (await r.json())["error"]["code"] == code
    async with http.get(f"{stack.gateway_url}/healthz") as r:
        assert r.status == 200


async def test_gateway_restart_mid_conversation(
    chat: ChatSession, stack: RunningStack, http
) -> None:
    first = await chat.say("小区里有人养狗不牵绳，还咬伤过人")
    assert question_kind(first) in ("location", "category")
    stack.restart_gateway()
    async with aiohttp.ClientSession() as fresh:  # the old keep-alive connection died
        resumed = ChatSession(fresh, chat.base_url, chat.sender)
        readback, _ = await answer_until_readback(resumed.say, first)
        assert "养狗不牵绳" in chat.text_of(readback)
        srid = ticket_id_in(await resumed.say("确认"))
        assert (await staff_ticket(fresh, stack, srid))["phone"] == "13800138000"


async def test_backend_down_then_up_delivers_once(stack: RunningStack, http) -> None:
    """The embedded desk lives in the gateway: with it down, talk to Rasa directly."""
    sender = f"web:down-{uuid.uuid4().hex[:8]}"

    async def say_rasa(text: str) -> list[dict]:
        async with http.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        ) as r:
            return [
                {k: v for k, v in m.items() if k in ("text", "buttons")} for m in await r.json()
            ]

    stack.stack.stop_gateway()
    try:
        first = await say_rasa("河里有很多死鱼，水也发臭，朝阳区望京西园四区旁边，电话13800138000")
        await answer_until_readback(say_rasa, first)
        done = await say_rasa("确认")
        text = "\n".join(m.get("text", "") for m in done)
        assert "参考号" in text and "不需要重复反映" in text
        reference = ticket_id_in(done)
        assert reference.startswith("JS")
    finally:
        stack.stack.start_gateway()

    async def delivered() -> list[dict]:
        async with http.get(f"{stack.desk_url}/requests.json", params={"api_key": DESK_KEY}) as r:
            tickets = await r.json()
        return [t for t in tickets if t["attributes"].get("conversation_id") == sender]

    tickets = await wait_for(delivered, 30, "delivery after the backend came back")
    assert len(tickets) == 1
    # The resident's reference keeps working for status inquiries.
    status = await say_rasa(f"我的工单{reference}处理得怎么样了")
    assert re.search(r"BJ\d{8}-\d{6}", "\n".join(m.get("text", "") for m in status))
