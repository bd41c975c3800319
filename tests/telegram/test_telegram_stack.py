"""The Telegram channel against the real Rasa stack (skipped without the ``stack`` fixture).

The lead's session fixture ``stack`` (tests/conftest.py) exposes ``.rasa_url``;
here only the Bot API is faked.  Assertions are about the channel, not the
dialogue: every input gets a real, non-error reply.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.channel_web import RASA_DOWN_REPLY
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_gateway import GatewayFactory

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.stack]

CHAT = 77_001


@pytest.fixture
def stack_rasa_url(request: pytest.FixtureRequest) -> str:
    """``stack.rasa_url``, or skip when the real-stack fixture is not available."""
    try:
        stack: Any = request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        pytest.skip("needs the real stack (session fixture `stack` in tests/conftest.py)")
    return str(stack.rasa_url)


async def test_complaint_location_and_buttons_on_real_rasa(
    fake_tg: FakeBotApi, gateway_factory: GatewayFactory, stack_rasa_url: str
) -> None:
    await gateway_factory(rasa_url=stack_rasa_url)
    await fake_tg.user_text(CHAT, "小区门口的路灯坏了，晚上很黑")
    first = await fake_tg.next_sent(CHAT, timeout=60)
    assert first["text"] and first["text"] != RASA_DOWN_REPLY
    await fake_tg.user_location(CHAT, 39.99, 116.47)
    reply = await fake_tg.next_sent(CHAT, timeout=60)
    assert reply["text"] and reply["text"] != RASA_DOWN_REPLY
    await fake_tg.user_text(CHAT, "/cancel")
    assert (await fake_tg.next_sent(CHAT, timeout=60))["text"] != RASA_DOWN_REPLY
