"""What a timed-out ``sendMessage`` does, per message kind (``docs/telegram.md``).

The fake Bot API server delivers the message and then never answers (``stall_next``):
the gateway cannot know whether it arrived.  A ticket number is sent again (at least
once: it may arrive twice, it never goes missing); a survey question is not (at most
once: it is never asked twice).
"""

from __future__ import annotations

import asyncio

from bot.channels.held_turns import HELD_TURNS
from bot.channels.outbound import outbound
from hotline.channels import Channel
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_fake_rasa import FakeRasa
from tests.auxil.telegram_gateway import GatewayFactory

CHAT = 3003
SENDER = f"tg:{CHAT}"
TICKET = "已为您登记，工单号：BJ20261202-000001，我们会在24小时内处理。"
SURVEY = "您好，这里是12345回访。您反映的问题解决了吗？"
QUICK = 0.3  # seconds before a Bot API call counts as timed out


def _sent_texts(fake_tg: FakeBotApi, text: str) -> int:
    return sum(1 for c in fake_tg.calls_of("sendMessage") if c.params.get("text") == text)


async def test_a_survey_question_that_timed_out_is_not_asked_again(
    fake_tg: FakeBotApi, gateway_factory: GatewayFactory
) -> None:
    gw = await gateway_factory(request_timeout_s=QUICK)
    pusher = outbound(gw.app).pusher(Channel.TELEGRAM)
    assert pusher is not None
    fake_tg.stall_next("sendMessage")
    await pusher.push(SENDER, [{"text": SURVEY}], at_most_once=True)  # no error: may have arrived
    assert (await fake_tg.next_sent(CHAT))["text"] == SURVEY
    assert _sent_texts(fake_tg, SURVEY) == 1


async def test_a_ticket_number_that_timed_out_is_sent_again(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    fake_rasa.script = lambda s, t, m: [{"text": TICKET}]
    await gateway_factory(request_timeout_s=QUICK)
    fake_tg.stall_next("sendMessage")
    await fake_tg.user_text(CHAT, "确认")
    assert (await fake_tg.next_sent(CHAT))["text"] == TICKET  # delivered, answer lost
    assert (await fake_tg.next_sent(CHAT))["text"] == TICKET  # so sent again
    assert _sent_texts(fake_tg, TICKET) == 2


async def test_a_ticket_number_telegram_keeps_refusing_is_kept_and_delivered_later(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory
) -> None:
    fake_rasa.script = lambda s, t, m: [{"text": TICKET}]
    gw = await gateway_factory(request_timeout_s=QUICK)
    fake_tg.stall_next("sendMessage", 3)  # the first try and both retries
    await fake_tg.user_text(CHAT, "确认")
    for _ in range(4):  # three unanswered, then the replay task's send goes through
        assert (await fake_tg.next_sent(CHAT, timeout=15))["text"] == TICKET
    held = gw.app[HELD_TURNS]
    assert (await asyncio.to_thread(held.counts))["undelivered"] == 0
    assert _sent_texts(fake_tg, TICKET) == 4
