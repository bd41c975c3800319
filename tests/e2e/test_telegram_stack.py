"""The Telegram channel against the real Rasa stack (skipped without the ``stack`` fixture).

The lead's session fixture ``stack`` (tests/conftest.py) exposes ``.rasa_url``;
here only the Bot API is faked.  Assertions are about the channel, not the
dialogue: every input gets a real, non-error reply.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.turns import RASA_DOWN_REPLY
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


async def _until(fake_tg: FakeBotApi, chat: int, needle: str) -> dict[str, Any]:
    """Read the bot's messages to ``chat`` until one contains ``needle``."""
    for _ in range(12):
        message = await fake_tg.next_sent(chat, timeout=60)
        if needle in str(message.get("text", "")):
            return message
    raise AssertionError(f"the bot never said {needle!r}")


async def test_complaint_with_photo_location_and_contact_lands_in_the_desk(
    fake_tg: FakeBotApi,
    gateway_factory: GatewayFactory,
    stack_rasa_url: str,
    request: pytest.FixtureRequest,
    jpeg: bytes,
) -> None:
    import aiohttp

    from tests.conftest import DESK_KEY

    stack: Any = request.getfixturevalue("stack")
    chat = 77_002
    await gateway_factory(rasa_url=stack_rasa_url)
    await fake_tg.user_photo(chat, jpeg, caption="小区门口的路灯坏了一个星期了，晚上很黑")
    await _until(fake_tg, chat, "附件")
    await _until(fake_tg, chat, "什么地方")
    await fake_tg.user_location(chat, 39.99612, 116.47051)
    await _until(fake_tg, chat, "已收到您的定位")
    await fake_tg.user_text(chat, "朝阳区望京西园四区3号楼")
    await _until(fake_tg, chat, "联系电话")
    await fake_tg.user_contact(chat, "+8613800138000")
    await _until(fake_tg, chat, "保密")
    await fake_tg.user_text(chat, "不需要保密")
    await _until(fake_tg, chat, "请核对")
    await fake_tg.user_text(chat, "确认")
    done = await _until(fake_tg, chat, "工单号")
    srid = str(done["text"]).split("工单号：", 1)[1][:17]
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}
        ) as resp:
            ticket = (await resp.json())[0]
    assert ticket["phone"] == "13800138000"
    assert abs(ticket["lat"] - 39.99612) < 1e-5 and abs(ticket["long"] - 116.47051) < 1e-5
    assert "望京西园四区" in ticket["address"]
    assert ticket["media_url"].startswith("file://")
    assert ticket["attributes"]["channel"] == "telegram"
    assert ticket["attributes"]["conversation_id"] == f"tg:{chat}"
    assert ticket["description"] == "小区门口的路灯坏了一个星期了，晚上很黑"
