"""Duplicate reports joined at intake, end to end, across two channels.

A stack of its own (the session stack runs with ``JIESU_DUPLICATE_CHECK=off`` since its
tests file one complaint many times): Rasa server, action server and a gateway whose
Telegram channel long-polls the fake Bot API (``TELEGRAM_BASE_URL``).  A web resident
reports a missing manhole cover; a Telegram resident reports it in other words, is
asked whether it is the same problem as that ticket, says 是 and gets its number.  One
ticket, two reporters; ``jiesu desk resolve`` → both get the satisfaction callback on
their own channel.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.auxil.conversation import answer_until_readback, ticket_id_in, wait_for
from tests.auxil.fake_telegram import FakeBotApi
from tests.conftest import DESK_KEY, ChatSession, RunningStack, new_stack, stack_env
from tests.e2e.test_survey import delivered_ticket, pending_survey, staff_ticket
from tickets.survey.store import SurveyStore

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.stack, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CHAT = 99_014
WEB_REPORT = "朝阳区劲松八区北门的井盖丢了，晚上走路很危险，电话13800138001，不需要保密"
TG_REPORT = (
    "朝阳区劲松八区北门那边井盖不见了，只剩个洞，晚上走路太危险了，电话13900139002，不需要保密"
)


@pytest_asyncio.fixture(loop_scope="session")
async def dup_stack(fake_tg: FakeBotApi, tmp_path: Path) -> AsyncIterator[RunningStack]:
    """Rasa, actions and a gateway with the Telegram channel on the fake Bot API."""
    env = stack_env(
        tmp_path / "data",
        {
            "JIESU_OUTBOX_POLL": "0.5",
            "JIESU_OUTBOX_MAX_BACKOFF": "1",
            "JIESU_SURVEY_DELAY": "0",
            "JIESU_SURVEY_HOURS": "00:00-24:00",
            "JIESU_SURVEY_TICK": "0.5",
            "JIESU_DUPLICATE_CHECK": "on",
            "TELEGRAM_BOT_TOKEN": fake_tg.token,
            "TELEGRAM_BASE_URL": fake_tg.base_url,
            "TELEGRAM_BASE_FILE_URL": fake_tg.base_file_url,
        },
    )
    running = new_stack(env)
    st = running.stack
    # In a thread: the fake Bot API on this loop must answer the gateway while it starts.
    await asyncio.to_thread(st.start, 180)
    try:
        yield running
    finally:
        await asyncio.to_thread(st.stop)


async def _bot_turn(fake: FakeBotApi, until: tuple[str, ...]) -> list[dict[str, Any]]:
    """Telegram messages to the resident up to the one that contains one of ``until``."""
    got: list[dict[str, Any]] = []
    for _ in range(12):
        message = await fake.next_sent(CHAT, timeout=60)
        got.append(message)
        if any(word in str(message.get("text", "")) for word in until):
            return got
    raise AssertionError(f"none of {until} in {[m.get('text') for m in got]}")


async def _bot_turn_or_fail(fake: FakeBotApi, until: tuple[str, ...]) -> list[dict[str, Any]]:
    try:
        return await _bot_turn(fake, until)
    except asyncio.TimeoutError:
        raise AssertionError(
            f"the bot never said any of {until}: {fake.calls_of('sendMessage')[-3:]}"
        ) from None


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def _press(fake: FakeBotApi, message: dict[str, Any], title: str) -> None:
    data = next(b["callback_data"] for b in _buttons(message) if b["text"] == title)
    await fake.user_presses(CHAT, message, data)


def _resolve_with_cli(stack: RunningStack, srid: str) -> str:
    """Staff resolve the ticket the way the README says: ``jiesu desk resolve ID --note``."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "desk", "resolve", srid, "--note", "井盖已补装"],
        env={**stack.env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


async def test_web_and_telegram_residents_one_ticket_two_reporters_two_callbacks(
    dup_stack: RunningStack, fake_tg: FakeBotApi, http: aiohttp.ClientSession
) -> None:
    web = ChatSession(http, dup_stack.gateway_url)
    readback, _ = await answer_until_readback(web.say, await web.say(WEB_REPORT))
    srid = await delivered_ticket(dup_stack, ticket_id_in(await web.say("确认")))

    # The Telegram resident, other words, same place: asked before a second ticket is filed.
    await fake_tg.user_text(CHAT, TG_REPORT)
    turn = await _bot_turn_or_fail(fake_tg, ("请核对",))
    await _press(fake_tg, turn[-1], "确认提交")
    turn = await _bot_turn_or_fail(fake_tg, ("同一个问题吗",))
    question = turn[-1]
    assert srid in question["text"] and "井盖丢了" in question["text"]
    assert [b["text"] for b in _buttons(question)] == ["是", "不是"]
    await _press(fake_tg, question, "是")
    joined = await _bot_turn_or_fail(fake_tg, ("已加入工单",))
    assert srid in joined[-1]["text"]

    async def two_reporters() -> dict[str, Any] | None:
        ticket = await staff_ticket(http, dup_stack, srid)
        return ticket if ticket["reporters"] == 2 else None

    ticket = await wait_for(two_reporters, 20, "the co-report on the desk")
    co = ticket["co_reporters"][0]
    assert co["phone"] == "13900139002" and co["channel"] == "telegram"
    assert "井盖不见了" in co["description"]
    async with http.get(f"{dup_stack.desk_url}/requests.json", params={"api_key": DESK_KEY}) as r:
        assert len(await r.json()) == 1  # one ticket

    # A third resident says "no" in free text: a ticket of their own, nothing joined.
    third = ChatSession(http, dup_stack.gateway_url)
    await answer_until_readback(third.say, await third.say(WEB_REPORT))
    asked = await third.say("确认")
    assert "同一个问题吗" in third.text_of(asked) and third.buttons_of(asked) == ["是", "不是"]
    told = ticket_id_in(await third.say("不是，我说的是另一个井盖"))
    own = await delivered_ticket(dup_stack, told)
    assert own != srid
    assert (await staff_ticket(http, dup_stack, own))["reporters"] == 1
    assert (await staff_ticket(http, dup_stack, srid))["reporters"] == 2

    assert "resolved" in _resolve_with_cli(dup_stack, srid)

    shown = await pending_survey(http, dup_stack, web, timeout_s=60)
    assert srid in web.text_of(shown) and web.buttons_of(shown) == ["已联系", "未联系"]
    intro = await _bot_turn_or_fail(fake_tg, ("回访",))
    assert srid in intro[-1]["text"]
    store = SurveyStore(dup_stack.config.effective_outbox_db_url)
    try:
        jobs = [j for j in store.jobs() if j.backend_ticket == srid]
    finally:
        store.close()
    assert sorted(j.channel for j in jobs) == ["telegram", "web"]
