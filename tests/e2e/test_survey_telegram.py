"""The survey relayed through Telegram: real Rasa and actions, fake Bot API.

The resident filed the complaint on the web here (the desk needs a real
ticket); the survey job names a Telegram conversation, is relayed by
:class:`SurveyRelays` through ``send_to_chat``, and the resident answers with
the inline buttons.  The job is due far in the future so the stack's own
gateway (which has no Telegram channel) leaves it alone.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from bot.survey.errors import SurveyDeferred
from bot.survey.relays import SurveyRelays
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_gateway import GatewayFactory
from tests.conftest import ChatSession, RunningStack
from tests.e2e.test_survey import file_complaint, staff_ticket
from tickets.survey.settings import SurveySettings
from tickets.survey.store import NewSurvey, SurveyStore

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.stack]
CHAT = 88_123


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def next_with_buttons(fake: FakeBotApi) -> dict[str, Any]:
    for _ in range(5):
        message = await fake.next_sent(CHAT, timeout=60)
        if buttons(message):
            return message
    raise AssertionError("no message with buttons")


async def press(fake: FakeBotApi, message: dict[str, Any], title: str) -> None:
    data = next(b["callback_data"] for b in buttons(message) if b["text"] == title)
    await fake.user_presses(CHAT, message, data)


async def test_survey_over_telegram_buttons(
    fake_tg: FakeBotApi,  # noqa: F811
    gateway_factory: GatewayFactory,  # noqa: F811
    stack: RunningStack,
    http: aiohttp.ClientSession,
) -> None:
    srid = await file_complaint(ChatSession(http, stack.gateway_url), stack)
    gw = await gateway_factory(rasa_url=stack.rasa_url)
    store = SurveyStore(stack.config.effective_outbox_db_url)
    try:
        new = NewSurvey(srid, f"tg:{CHAT}", "telegram", f"tg:{CHAT}", "路灯", "路灯坏了一个星期")
        job = store.schedule(new, due_at=time.time() + 86_400)
        await SurveyRelays(gw.app, store, SurveySettings())(job)
    finally:
        store.close()
    intro = await fake_tg.next_sent(CHAT, timeout=60)
    assert srid in intro["text"] and "路灯坏了" in intro["text"]
    question = await next_with_buttons(fake_tg)
    assert [b["text"] for b in buttons(question)] == ["已联系", "未联系"]
    await press(fake_tg, question, "已联系")
    question = await next_with_buttons(fake_tg)
    assert [b["text"] for b in buttons(question)] == ["已解决", "未解决"]
    await press(fake_tg, question, "已解决")
    question = await next_with_buttons(fake_tg)
    assert [b["text"] for b in buttons(question)] == ["满意", "基本满意", "不满意"]
    await press(fake_tg, question, "满意")
    for _ in range(5):
        if "回访完成" in str((await fake_tg.next_sent(CHAT, timeout=60)).get("text")):
            break
    else:
        raise AssertionError("no closing message")
    attrs = (await staff_ticket(http, stack, srid))["attributes"]
    assert (attrs["survey_contacted"], attrs["survey_resolved"]) == ("yes", "yes")
    assert attrs["survey_satisfaction"] == "满意"


async def test_telegram_down_defers(
    gateway_factory: GatewayFactory,  # noqa: F811
    stack: RunningStack,
) -> None:
    gw = await gateway_factory(rasa_url=stack.rasa_url)
    await gw.channel.close()  # the bot stopped: the survey must wait, not vanish
    store = SurveyStore(stack.config.effective_outbox_db_url)
    try:
        new = NewSurvey("BJ19990101-000001", "tg:5", "telegram", "tg:5")
        job = store.schedule(new, due_at=time.time() + 86_400)
        with pytest.raises(SurveyDeferred):
            await SurveyRelays(gw.app, store, SurveySettings())(job)
    finally:
        store.close()
