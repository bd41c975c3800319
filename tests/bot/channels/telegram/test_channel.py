"""The Telegram channel end to end: PTB ↔ fake Bot API over HTTP, gateway ↔ scripted Rasa.

Each test plays the resident through :class:`FakeBotApi` and awaits what the bot
sent; Rasa is :class:`FakeRasa` with a per-test script, so these tests check the
channel's contract (what Rasa receives, what the resident sees).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram.channel import send_to_chat
from bot.channels.telegram.handlers import (
    FILE_TOO_LARGE,
    THROTTLED,
    UNKNOWN_COMMAND,
    UNSUPPORTED,
    WELCOME,
)
from bot.channels.turns import RASA_DOWN_REPLY
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_fake_rasa import FakeRasa
from tests.auxil.telegram_gateway import GatewayFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHAT = 1001
SENDER = f"tg:{CHAT}"
LONG_PAYLOAD = '/choose_category{"category": "路灯照明-朝阳区望京街道-望京西园三区东门外"}'


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_complaint_by_text_with_inline_confirmation(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    async def script(sender: str, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
        if text == "小区门口的路灯坏了":
            # Rasa is "working": reply only once the resident sees "typing…".
            await fake_tg.wait_call("sendChatAction", lambda p: p["chat_id"] == str(CHAT))
            return [{"text": "好的。请问具体在什么位置？"}]
        if text.startswith("朝阳区"):
            return [
                {"text": "我为您整理了诉求：路灯不亮，朝阳区望京西园三区东门。"},
                {
                    "text": "请确认是否提交？",
                    "buttons": [
                        {"title": "确认提交", "payload": "/affirm"},
                        {"title": "修改", "payload": "/deny"},
                        {"title": "换成路灯类", "payload": LONG_PAYLOAD},
                    ],
                },
            ]
        if text == "/affirm":
            return [{"text": "已提交，工单号 BJ20250101-0001，24小时内答复。"}]
        return [{"text": "请再说一遍"}]

    fake_rasa.script = script
    await gateway_factory()
    commands = [c["command"] for c in fake_tg.commands]
    assert commands == ["start", "help", "status", "cancel"]

    await fake_tg.user_text(CHAT, "小区门口的路灯坏了")
    got = await fake_rasa.next_received(SENDER)
    assert got.text == "小区门口的路灯坏了"
    assert got.metadata == {
        "channel": "telegram",
        "chat_id": CHAT,
        "user_id": CHAT,
        "raw_text": got.text,
    }
    assert (await fake_tg.next_sent(CHAT))["text"] == "好的。请问具体在什么位置？"

    await fake_tg.user_text(CHAT, "朝阳区望京西园三区东门")
    assert (await fake_tg.next_sent(CHAT))["text"].startswith("我为您整理了诉求")
    confirm = await fake_tg.next_sent(CHAT)
    buttons = _buttons(confirm)
    assert [b["text"] for b in buttons] == ["确认提交", "修改", "换成路灯类"]
    assert buttons[0]["callback_data"] == "/affirm"
    assert buttons[2]["callback_data"].startswith("#")  # mapped: payload is > 64 bytes
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)

    mark = len(fake_tg.calls)
    press = await fake_tg.user_presses(CHAT, confirm, "/affirm")
    answered = await fake_tg.wait_call("answerCallbackQuery", after=mark)
    assert answered.params["callback_query_id"] == press["callback_query"]["id"]
    edit = await fake_tg.wait_call("editMessageReplyMarkup", after=mark)
    assert int(edit.params["message_id"]) == confirm["message_id"]
    assert [b["text"] for b in _buttons(edit.params)] == ["✓ 确认提交"]
    await fake_rasa.next_received(SENDER)  # the address
    assert (await fake_rasa.next_received(SENDER)).text == "/affirm"
    assert "BJ20250101-0001" in (await fake_tg.next_sent(CHAT))["text"]

    # A second press on the used keyboard is answered but not sent to Rasa again.
    mark = len(fake_tg.calls)
    await fake_tg.user_presses(CHAT, confirm, "/deny")
    again = await fake_tg.wait_call("answerCallbackQuery", after=mark)
    assert again.params.get("text") == "已处理"
    assert fake_rasa.pending(SENDER) == 0


async def test_long_payload_button_sends_full_payload(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory()
    sent = await send_to_chat(
        gw.app,
        CHAT,
        [{"text": "请为本次服务打分", "buttons": [{"title": "满意", "payload": LONG_PAYLOAD}]}],
    )
    assert len(sent) == 1
    survey = await fake_tg.next_sent(CHAT)
    data = _buttons(survey)[0]["callback_data"]
    await fake_tg.user_presses(CHAT, survey, data)
    got = await fake_rasa.next_received(SENDER)
    assert got.text == LONG_PAYLOAD
    assert (await fake_tg.next_sent(CHAT))["text"] == f"收到：{LONG_PAYLOAD}"


async def test_location(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory()
    await fake_tg.user_location(CHAT, 39.99, 116.47)
    got = await fake_rasa.next_received(SENDER)
    assert got.text == '/share_location{"lat": 39.99, "long": 116.47}'
    assert got.metadata["lat"] == 39.99 and got.metadata["long"] == 116.47
    assert got.metadata["channel"] == "telegram" and got.metadata["chat_id"] == CHAT
    await fake_tg.next_sent(CHAT)


async def test_shared_contact(
    fake_tg: FakeBotApi,
    fake_rasa: FakeRasa,
    gateway_factory: GatewayFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def script(sender: str, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
        if text == "楼上装修太吵":
            return [{"text": "请留下您的联系电话，方便工作人员回访。", "custom": {"ask": "phone"}}]
        return [{"text": f"收到：{text}"}]

    fake_rasa.script = script
    await gateway_factory()
    caplog.set_level(logging.INFO)
    await fake_tg.user_text(CHAT, "楼上装修太吵")
    ask = await fake_tg.next_sent(CHAT)
    key = ask["reply_markup"]["keyboard"][0][0]
    assert key["request_contact"] is True and ask["reply_markup"]["one_time_keyboard"] is True

    await fake_rasa.next_received(SENDER)
    await fake_tg.user_contact(CHAT, "8613800138000")
    got = await fake_rasa.next_received(SENDER)
    assert got.text == '/share_contact{"phone": "+8613800138000"}'
    assert got.metadata["phone"] == "+8613800138000" and got.metadata["phone_verified"] is True
    reply = await fake_tg.next_sent(CHAT)
    assert reply["reply_markup"] == {"remove_keyboard": True}

    await fake_tg.user_text(CHAT, "谢谢")  # later turns still carry the phone
    assert (await fake_rasa.next_received(SENDER)).metadata["phone"] == "+8613800138000"
    await fake_tg.next_sent(CHAT)
    assert "13800138000" not in caplog.text


async def test_photo_is_kept_and_shared(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory, jpeg: bytes
) -> None:
    await gateway_factory()
    await fake_tg.user_photo(CHAT, jpeg, caption="路灯不亮")
    got = await fake_rasa.next_received(SENDER)
    assert got.text.startswith("/share_attachment")
    url = json.loads(got.text[len("/share_attachment") :])["url"]
    [att] = got.metadata["attachments"]
    assert att["url"] == url and url.startswith("file://") and att["kind"] == "photo"
    assert (
        await asyncio.to_thread(Path(att["path"]).read_bytes) == jpeg
    )  # the full-size photo, not the thumbnail
    caption = await fake_rasa.next_received(SENDER)
    assert caption.text == "路灯不亮"
    await fake_tg.next_sent(CHAT)
    await fake_tg.next_sent(CHAT)


async def test_too_large_document_is_refused(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory(max_attachment_bytes=1000)
    await fake_tg.user_document(CHAT, b"%PDF-1.4" + b"x" * 5000, "application/pdf", "a.pdf")
    reply = await fake_tg.next_sent(CHAT)
    assert reply["text"] == FILE_TOO_LARGE.format(limit_mb=1000 / 2**20)
    assert not fake_tg.calls_of("getFile") and not fake_rasa.received


async def test_commands_and_unsupported(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory()
    await fake_tg.user_text(CHAT, "/start")
    assert (await fake_tg.next_sent(CHAT))["text"] == WELCOME
    await fake_tg.user_text(CHAT, "/status")
    assert (await fake_rasa.next_received(SENDER)).text == "/inquire_status"
    await fake_tg.next_sent(CHAT)
    await fake_tg.user_text(CHAT, "/cancel")
    assert (await fake_rasa.next_received(SENDER)).text == "/cancel"
    await fake_tg.next_sent(CHAT)
    await fake_tg.user_text(CHAT, '/share_contact{"phone": "+8610"}')  # typed, not shared
    assert (await fake_tg.next_sent(CHAT))["text"] == UNKNOWN_COMMAND
    await fake_tg.user_sticker(CHAT)
    assert (await fake_tg.next_sent(CHAT))["text"] == UNSUPPORTED
    assert fake_rasa.pending(SENDER) == 0


async def test_rasa_down_gets_polite_reply_and_the_held_words_are_answered_later(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    fake_rasa.down = True
    await gateway_factory()
    await fake_tg.user_text(CHAT, "有人吗")
    assert (await fake_tg.next_sent(CHAT))["text"] == RASA_DOWN_REPLY
    # The words were held: once Rasa is back they are replayed and its answer is sent.
    fake_rasa.down = False
    assert (await fake_tg.next_sent(CHAT))["text"] == "收到：有人吗"
    assert [r.text for r in fake_rasa.received] == ["有人吗"]


async def test_long_reply_is_split(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    fake_rasa.script = lambda s, t, m: [{"text": "政策说明。" * 1800}]  # 9,000 characters
    await gateway_factory()
    await fake_tg.user_text(CHAT, "供暖政策")
    parts = [await fake_tg.next_sent(CHAT) for _ in range(3)]
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert sum(len(p["text"]) for p in parts) == 9000


async def test_flooding_chat_is_throttled(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory(chat_burst=3, chat_rate_per_min=1)
    for i in range(6):
        await fake_tg.user_text(CHAT, f"第{i}条")
    texts = sorted([(await fake_tg.next_sent(CHAT))["text"] for _ in range(4)])
    assert texts.count(THROTTLED) == 1
    assert len(fake_rasa.received) == 3


async def test_429_retry_after_is_honoured(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory()
    fake_tg.fail_next("sendMessage", times=1, retry_after=1)
    await fake_tg.user_text(CHAT, "路灯坏了")
    reply = await fake_tg.next_sent(CHAT)
    assert reply["text"] == "收到：路灯坏了"
    first, second = fake_tg.calls_of("sendMessage")
    assert second.at - first.at >= 1.0


async def test_fifty_chats_at_once(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    await gateway_factory()
    chats = [2000 + i for i in range(50)]
    await asyncio.gather(*(fake_tg.user_text(c, f"{c}的第{n}句") for n in range(2) for c in chats))

    async def conversation(chat: int) -> None:
        replies = [(await fake_tg.next_sent(chat, timeout=30))["text"] for _ in range(2)]
        assert replies == [f"收到：{chat}的第0句", f"收到：{chat}的第1句"]
        seen = [(await fake_rasa.next_received(f"tg:{chat}")).text for _ in range(2)]
        assert seen == [f"{chat}的第0句", f"{chat}的第1句"]  # in order per chat

    await asyncio.gather(*(conversation(c) for c in chats))
    assert len(fake_rasa.received) == 100  # nothing handled twice
    assert len(fake_tg.calls_of("sendMessage")) == 100


async def test_webhook_with_good_and_bad_secret(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory(webhook=True)
    hook = fake_tg.calls_of("setWebhook")[-1].params
    assert hook["url"] == f"{gw.url}/telegram/webhook"
    assert hook["secret_token"] == "s3cret-Token_1"

    forged = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "x"},
            "text": "伪造的消息",
        },
    }
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with session.post(
                f"{gw.url}/telegram/webhook", json=forged, headers=headers
            ) as resp:
                assert resp.status == 403

    await fake_tg.user_text(CHAT, "真的消息")  # the fake posts it with the right secret
    assert await asyncio.wait_for(fake_tg.webhook_statuses.get(), 10) == 200
    assert (await fake_tg.next_sent(CHAT))["text"] == "收到：真的消息"
    assert [r.text for r in fake_rasa.received] == ["真的消息"]
    assert not fake_tg.calls_of("getUpdates")
