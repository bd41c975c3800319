"""A gateway restart loses no Telegram state: old buttons, shared numbers, used keyboards.

Each test runs one gateway, closes it (every ``cleanup_ctx``: only the database
survives, as with a process restart) and starts a new one on the same data dir,
against the fake Bot API server and the fake Rasa.
"""

from __future__ import annotations

from typing import Any

from bot.channels.telegram.channel import send_to_chat
from bot.channels.telegram.handlers import BUTTON_EXPIRED, BUTTON_USED
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_fake_rasa import FakeRasa
from tests.auxil.telegram_gateway import GatewayFactory

CHAT = 2002
SENDER = f"tg:{CHAT}"
LONG_PAYLOAD = '/inform{"category": "市容环境-占道经营-朝阳区望京街道望京西园三区东门外早市"}'


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_a_button_sent_before_a_restart_still_works_after_it(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory()
    await send_to_chat(
        gw.app,
        CHAT,
        [{"text": "是哪一类问题？", "buttons": [{"title": "占道经营", "payload": LONG_PAYLOAD}]}],
    )
    question = await fake_tg.next_sent(CHAT)
    data = _buttons(question)[0]["callback_data"]
    assert data.startswith("#") and len(data.encode()) <= 64
    await gw.close()

    await gateway_factory()  # a new process: nothing in memory
    mark = len(fake_tg.calls)
    await fake_tg.user_presses(CHAT, question, data)
    assert (await fake_rasa.next_received(SENDER)).text == LONG_PAYLOAD
    answered = await fake_tg.wait_call("answerCallbackQuery", after=mark)
    assert answered.params.get("text") != BUTTON_EXPIRED


async def test_a_keyboard_pressed_before_a_restart_stays_pressed(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory()
    await send_to_chat(
        gw.app, CHAT, [{"text": "请确认", "buttons": [{"title": "确认", "payload": "/affirm"}]}]
    )
    question = await fake_tg.next_sent(CHAT)
    await fake_tg.user_presses(CHAT, question, "/affirm")
    assert (await fake_rasa.next_received(SENDER)).text == "/affirm"
    await fake_tg.next_sent(CHAT)
    await gw.close()

    await gateway_factory()
    mark = len(fake_tg.calls)
    await fake_tg.user_presses(CHAT, question, "/affirm")
    again = await fake_tg.wait_call("answerCallbackQuery", after=mark)
    assert again.params.get("text") == BUTTON_USED
    assert fake_rasa.pending(SENDER) == 0


async def test_a_number_shared_before_a_restart_is_still_the_residents(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory()
    await fake_tg.user_contact(CHAT, "+8613800138000")
    await fake_rasa.next_received(SENDER)
    await fake_tg.next_sent(CHAT)
    await gw.close()

    await gateway_factory()
    await fake_tg.user_text(CHAT, "路灯坏了")
    got = await fake_rasa.next_received(SENDER)
    assert got.text == "路灯坏了" and got.metadata["phone"] == "+8613800138000"
