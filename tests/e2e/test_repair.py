"""Conversation repair on the real stack: the failures residents met, as classes.

Each test drives ``/api/chat`` (gateway → Rasa → action server) and checks the desk
ticket.  The simulated-resident suite (test_dialogue_sim.py) covers the combinations.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.auxil.conversation import answer_until_readback, question_kind, ticket_id_in
from tests.conftest import DESK_KEY, ChatSession, RunningStack

pytestmark = pytest.mark.stack


async def staff_ticket(http: aiohttp.ClientSession, stack: RunningStack, srid: str) -> Any:
    url = f"{stack.desk_url}/requests/{srid}.json"
    async with http.get(url, params={"api_key": DESK_KEY}) as resp:
        assert resp.status == 200
        return (await resp.json())[0]


async def file_it(chat: ChatSession, first: list[dict], answers: dict[str, str]) -> str:
    readback, _ = await answer_until_readback(chat.say, first, answers)
    assert "请核对" in chat.text_of(readback)
    return ticket_id_in(await chat.say("确认"))


@pytest.mark.parametrize("decline", ["不用", "不用保密", "不需要了", "无所谓"])
async def test_declining_confidentiality_only_declines_it(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession, decline: str
) -> None:
    first = await chat.say("小区门口的垃圾站好几天没人清理了，朝阳区望京西园四区，电话13800138000")
    srid = await file_it(chat, first, {"anonymous": decline})
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["attributes"]["anonymous"] == "false"
    assert "垃圾站" in ticket["description"]


async def test_cancel_is_confirmed_and_no_resumes_with_everything(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    opening = "楼下的路灯坏了一个多星期了，晚上黑漆漆的"
    first = await chat.say(opening)
    while question_kind(first) != "location":
        first = await chat.say("其他" if question_kind(first) == "category" else "13800138000")
    check = await chat.say("算了")
    assert "确定不登记了吗" in chat.text_of(check)
    again = await chat.say("不，还是继续登记吧")
    assert question_kind(again) == "location"  # the same question, nothing lost
    srid = await file_it(chat, again, {})
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["description"] == opening


@pytest.mark.parametrize(
    "address",
    [
        "丰台区方庄街道芳城园一区12号楼2单元",
        "海淀区学院路街道清华东路17号院",
        "东城区东四十条甲22号",
    ],
)
async def test_a_typed_address_is_taken_whole(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession, address: str
) -> None:
    first = await chat.say("马路上有个大坑，好几辆车都颠坏了，电话13800138000")
    srid = await file_it(chat, first, {"location": address})
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["address"] == address
    assert ticket["attributes"].get("address_district")


async def test_a_question_at_the_address_question_is_answered_not_stored(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    first = await chat.say("楼上每天半夜装修，吵得没法睡觉，电话13800138000")
    while question_kind(first) != "location":
        first = await chat.say("其他")
    answered = await chat.say("你们多久能处理？")
    text = chat.text_of(answered)
    assert "小时" in text and question_kind(answered) == "location"
    srid = await file_it(chat, await chat.say("朝阳区劲松街道劲松八区"), {})
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["address"] == "朝阳区劲松街道劲松八区"
    assert "多久" in ticket["attributes"]["remarks"]


async def test_address_and_phone_given_at_another_question_fill_their_fields(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    first = await chat.say("有个事想反映一下")
    kinds = []
    while question_kind(first) not in ("location", "phone", "readback"):
        kinds.append(question_kind(first))
        first = await chat.say("朝阳区劲松街道劲松八区，电话13812345678")
    readback, asked = await answer_until_readback(chat.say, first)
    assert "location" not in asked and "phone" not in asked
    srid = ticket_id_in(await chat.say("确认"))
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["address"] == "朝阳区劲松街道劲松八区"
    assert ticket["phone"] == "13812345678"


@pytest.mark.parametrize(
    "text",
    [
        "楼道里的灯坏了好几天了",
        "燃气表读数不对，物业多收了钱",
        "电梯广告太吵了",
        "火车站附近黑车拉客",
    ],
)
async def test_ordinary_words_get_no_emergency_advice(chat: ChatSession, text: str) -> None:
    reply = chat.text_of(await chat.say(text))
    assert "拨打" not in reply and "撤离" not in reply


async def test_present_danger_in_the_middle_of_the_form_gets_advice(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    first = await chat.say("楼道里堆满了杂物，没人管")
    while question_kind(first) != "location":
        first = await chat.say("其他")
    urgent = await chat.say("不好了，楼道里着火了，好大的烟")
    assert "119" in chat.text_of(urgent)
    srid = await file_it(chat, await chat.say("朝阳区望京西园四区3号楼"), {})
    ticket = await staff_ticket(http, stack, srid)
    assert ticket["attributes"]["urgency"] == "urgent"
    assert "着火" in ticket["description"]
