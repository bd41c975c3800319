"""100 resolved tickets across web, Telegram and phone, with a gateway restart halfway.

Every ticket is a real complaint conversation (web through ``/api/chat``,
Telegram through the fake Bot API, phone on a ``tel:`` conversation with the
caller's number), resolved by staff on the desk, surveyed by the gateway's
scheduler on that same conversation and answered by a script: buttons on the
web and Telegram, RFC 4733 DTMF from SIPp on the phone.  Halfway through, the
gateway is restarted (drained first, as a load balancer would).  Then:

* every ticket has exactly one job, delivered once (``attempts == 1``, one
  survey introduction per resident), answered with the scripted answers and
  posted back (reopened when unhappy, closed otherwise);
* ``jiesu survey stats --json`` and ``GET /api/survey/stats`` report the rates
  computed here from the script (plus whatever earlier tests left in the
  session's database, counted before the run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram.channel import TELEGRAM_CHANNEL
from tests.auxil.conversation import TICKET_RE, answer_until_readback, question_kind, wait_for
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.sip_audio import Dtmf, Segment, Silence, Speech, write_caller_pcap
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory
from tests.auxil.sip_sipp import free_udp_port, sipp_available
from tests.auxil.sip_sipp_uas import SippCallee, render_uas
from tests.auxil.survey_gateway import SurveyGateway
from tests.conftest import ChatSession, RunningStack
from tests.e2e.test_survey import COMPLAINT, delivered_ticket, file_complaint, set_status
from tests.e2e.test_survey_phone import SCENARIO, file_phone_complaint
from tickets.survey.stats import compute_stats
from tickets.survey.store import POSTBACK_DONE, SurveyStore

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(not sipp_available(), reason="sipp not installed"),
]

TOTAL, PHONE, TELEGRAM = 100, 6, 30
PARALLEL = 8
REASON = "还是老样子，没人来修"
DONE_WORDS = ("回访完成", "已记录您的意见")  # the reason question says 重新办理 too


@dataclass(frozen=True)
class Answers:
    """One resident's scripted answers (button titles) and what the ticket becomes."""

    contacted: str
    resolved: str
    satisfaction: str

    @property
    def unhappy(self) -> bool:
        return self.resolved == "未解决" or self.satisfaction == "不满意"

    @property
    def stored(self) -> tuple[str, str, str, str | None]:
        yes = {"已联系": "yes", "未联系": "no", "已解决": "yes", "未解决": "no"}
        reason = REASON if self.unhappy else None
        return yes[self.contacted], yes[self.resolved], self.satisfaction, reason

    def dtmf(self) -> list[Segment]:
        keys = {"已联系": "1", "未联系": "2", "已解决": "1", "未解决": "2",
                "满意": "1", "基本满意": "2", "不满意": "3"}  # fmt: skip
        segments: list[Segment] = [Silence(1.5)]
        for title in (self.contacted, self.resolved, self.satisfaction):
            segments += [Dtmf(keys[title]), Silence(1.0)]
        if self.unhappy:
            segments += [Silence(1.0), Speech(REASON)]
        return [*segments, Silence(6.0)]


VARIANTS = [
    Answers("已联系", "已解决", "满意"),
    Answers("已联系", "已解决", "基本满意"),
    Answers("已联系", "未解决", "不满意"),
    Answers("未联系", "未解决", "不满意"),
    Answers("未联系", "已解决", "满意"),
    Answers("已联系", "未解决", "基本满意"),
    Answers("已联系", "已解决", "满意"),
]


def expected_rates(before: dict[str, int], script: list[Answers]) -> dict[str, Any]:
    """The overall figures, computed from the script (definitions in docs/survey.md)."""
    n = {k: before[k] for k in ("surveyed", "answered", "satisfied", "basically_satisfied",
                                "unsatisfied", "contacted", "solved")}  # fmt: skip
    for a in script:
        n["surveyed"] += 1
        n["answered"] += 1
        n["contacted"] += a.contacted == "已联系"
        n["solved"] += a.resolved == "已解决"
        n["satisfied"] += a.satisfaction == "满意"
        n["basically_satisfied"] += a.satisfaction == "基本满意"
        n["unsatisfied"] += a.satisfaction == "不满意"

    def rate(x: int, d: int) -> float | None:
        return round(x / d, 4) if d else None

    return {
        "surveyed": n["surveyed"],
        "answered": n["answered"],
        "answer_rate": rate(n["answered"], n["surveyed"]),
        "response_rate": rate(n["contacted"], n["answered"]),
        "resolution_rate": rate(n["solved"], n["answered"]),
        "satisfaction_rate": rate(n["satisfied"] + n["basically_satisfied"], n["answered"]),
        "satisfied": n["satisfied"],
        "basically_satisfied": n["basically_satisfied"],
        "unsatisfied": n["unsatisfied"],
    }


class Gate:
    """Residents' traffic to the gateway: drained and held while it restarts."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0

    @contextlib.asynccontextmanager
    async def passage(self) -> AsyncIterator[None]:
        await self._open.wait()
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    @contextlib.asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        self._open.clear()
        await self._idle.wait()
        try:
            yield
        finally:
            self._open.set()


@dataclass
class Run:
    """Shared state of the scripted run."""

    stack: RunningStack
    gw: SurveyGateway
    http: aiohttp.ClientSession
    fake: FakeBotApi
    tmp: Path
    callee_port: int
    gate: Gate = field(default_factory=Gate)
    phone_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    resolved: int = 0
    halfway: asyncio.Event = field(default_factory=asyncio.Event)
    tickets: dict[str, Answers] = field(default_factory=dict)
    intros: Counter[str] = field(default_factory=Counter)
    channel_of: dict[str, str] = field(default_factory=dict)

    async def resolve(self, srid: str, answers: Answers, channel: str) -> None:
        assert srid not in self.tickets, f"{srid} filed twice"
        self.tickets[srid] = answers
        self.channel_of[srid] = channel
        async with self.gate.passage():
            await set_status(self.http, self.stack, srid, "resolved")
        self.resolved += 1
        if self.resolved >= TOTAL // 2:
            self.halfway.set()


Say = Callable[[str], Awaitable[list[dict[str, Any]]]]


def _text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


def _titles(messages: list[dict[str, Any]]) -> list[str]:
    out = [str(b["title"]) for m in messages for b in m.get("buttons", [])]
    markup = [m.get("reply_markup") or {} for m in messages]
    return out + [
        str(b["text"]) for k in markup for row in k.get("inline_keyboard", []) for b in row
    ]


async def answer_survey(say: Say, shown: list[dict[str, Any]], a: Answers) -> str:
    """Answer whatever the survey asks, from the buttons it shows; its last words."""
    messages = shown
    for _ in range(6):
        titles, text = _titles(messages), _text(messages)
        if any(w in text for w in DONE_WORDS):
            return text
        if "已联系" in titles:
            reply = a.contacted
        elif "已解决" in titles:
            reply = a.resolved
        elif "基本满意" in titles:
            reply = a.satisfaction
        elif "原因" in text:
            reply = REASON
        else:
            raise AssertionError(f"unexpected survey turn: {messages}")
        messages = await say(reply)
    raise AssertionError(f"survey did not end: {messages}")


# -- web --------------------------------------------------------------------------
class GatedChat(ChatSession):
    def __init__(self, run: Run, sender: str) -> None:
        super().__init__(run.http, run.gw.url, sender)
        self.gate = run.gate

    async def say(self, text: str, metadata: dict[str, object] | None = None) -> list[dict]:
        async with self.gate.passage():
            return await super().say(text, metadata)


async def web_resident(run: Run, i: int, a: Answers) -> None:
    chat = GatedChat(run, f"run-{i}-{uuid.uuid4().hex[:8]}")
    srid = await file_complaint(chat, run.stack)
    await run.resolve(srid, a, "web")
    got: list[dict[str, Any]] = []

    async def pending() -> list[dict[str, Any]] | None:
        async with run.http.get(
            f"{run.gw.url}/api/chat/pending", params={"sender": chat.sender}
        ) as r:
            got.extend((await r.json())["messages"])
        return got if _titles(got) else None

    shown = await wait_for(pending, 90, f"the web survey of {srid}")
    run.intros[srid] += _text(shown).count(srid)
    done = await answer_survey(chat.say, shown, a)
    assert ("已记录您的意见" in done) == a.unhappy, done
    async with run.http.get(f"{run.gw.url}/api/chat/pending", params={"sender": chat.sender}) as r:
        assert (await r.json())["messages"] == [], "a second survey was delivered"


# -- Telegram ---------------------------------------------------------------------
async def tg_until(
    run: Run, chat: int, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The bot's messages to ``chat`` up to the first one ``done`` accepts."""
    seen: list[dict[str, Any]] = []
    for _ in range(12):
        seen.append(await run.fake.next_sent(chat, timeout=90))
        if done(seen[-1]):
            return seen
    raise AssertionError(f"the bot never finished its turn: {seen}")


def _intake_turn_over(m: dict[str, Any]) -> bool:
    return question_kind([m]) is not None or TICKET_RE.search(str(m.get("text"))) is not None


def _survey_turn_over(m: dict[str, Any]) -> bool:
    text = str(m.get("text") or "")
    return bool(_titles([m])) or "原因" in text or any(w in text for w in DONE_WORDS)


async def tg_resident(run: Run, i: int, a: Answers) -> None:
    chat = 910_000 + i
    last: list[dict[str, Any]] = []

    async def intake(text: str) -> list[dict[str, Any]]:
        async with run.gate.passage():  # held until the bot has answered
            await run.fake.user_text(chat, text)
            return await tg_until(run, chat, _intake_turn_over)

    await answer_until_readback(intake, await intake(COMPLAINT))
    told = TICKET_RE.search(_text(await intake("确认")))
    assert told, "no ticket number on Telegram"
    srid = await delivered_ticket(run.stack, told.group(1))
    await run.resolve(srid, a, "telegram")
    shown = await tg_until(run, chat, lambda m: srid in str(m.get("text")))
    run.intros[srid] += _text(shown).count(srid)
    shown += await tg_until(run, chat, _survey_turn_over)
    last = shown

    async def answer(reply: str) -> list[dict[str, Any]]:
        pressed = [
            (m, b) for m in last for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row if b["text"] == reply
        ]  # fmt: skip
        async with run.gate.passage():  # held until the bot has answered
            if pressed:
                message, button = pressed[-1]
                await run.fake.user_presses(chat, message, button["callback_data"])
            else:
                await run.fake.user_text(chat, reply)
            return await tg_until(run, chat, _survey_turn_over)

    async def say(reply: str) -> list[dict[str, Any]]:
        nonlocal last
        last = await answer(reply)
        return last

    done = await answer_survey(say, shown, a)
    assert ("已记录您的意见" in done) == a.unhappy, done


# -- phone ------------------------------------------------------------------------
async def phone_resident(run: Run, i: int, a: Answers) -> None:
    number = f"1390000{i:04d}"
    srid, _ = await file_phone_complaint(run.stack, run.http, number)
    pcap = run.tmp / f"phone_{i}.pcap"
    await asyncio.to_thread(write_caller_pcap, pcap, a.dtmf(), 260)
    scenario = await asyncio.to_thread(render_uas, SCENARIO, run.tmp, pcap, 60_000)
    async with run.phone_lock:  # no restart during a call
        callee = await SippCallee.start(str(scenario), port=run.callee_port, timeout_s=90)
        try:
            await run.resolve(srid, a, "phone")
            code, out = await callee.wait(90)
        finally:
            await callee.stop()
    assert code == 0, out[-3000:]
    run.intros[srid] += 1  # the call itself: SIPp answers one INVITE and exits


async def restart_halfway(run: Run) -> None:
    await run.halfway.wait()
    async with run.phone_lock, run.gate.closed():
        await run.gw.restart()
    await asyncio.wait_for(run.gw.app[TELEGRAM_CHANNEL].ready.wait(), 20)


async def test_hundred_tickets_across_channels_with_a_restart(
    stack: RunningStack,
    fake_tg: FakeBotApi,  # noqa: F811
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    callee_port = free_udp_port()
    gw = SurveyGateway(
        stack,
        {
            "TELEGRAM_BOT_TOKEN": fake_tg.token,
            "TELEGRAM_BASE_URL": fake_tg.base_url,
            "TELEGRAM_BASE_FILE_URL": fake_tg.base_file_url,
            "TELEGRAM_RATE_PER_S": "0",
            "TELEGRAM_CHAT_BURST": "50",
            "TELEGRAM_CHAT_RATE_PER_MIN": "600",
            "TELEGRAM_TYPING_DELAY": "0",
            "TELEGRAM_POLL_TIMEOUT": "5",
            "JIESU_SIP_PORT": str(free_udp_port()),
            "JIESU_SIP_HOST": "127.0.0.1",
            "JIESU_TTS_SPEED": "320",
            "JIESU_TTS_CACHE_DIR": "",
            "JIESU_SURVEY_CALL_URI": f"sip:{{phone}}@127.0.0.1:{callee_port}",
            "JIESU_SURVEY_DELAY": "0",
            "JIESU_SURVEY_TICK": "0.3",
        },
        ScriptedRecognizerFactory([REASON]),
    )
    store = SurveyStore(stack.config.effective_outbox_db_url)
    before_rates = compute_stats(store.jobs()).overall
    before = {**before_rates.as_dict(), "contacted": before_rates.contacted,
              "solved": before_rates.solved}  # fmt: skip
    stack.stack.stop_gateway()
    started = time.monotonic()
    try:
        await gw.start()
        await asyncio.wait_for(gw.app[TELEGRAM_CHANNEL].ready.wait(), 20)
        run = Run(stack, gw, http, fake_tg, tmp_path, callee_port)
        script = [VARIANTS[i % len(VARIANTS)] for i in range(TOTAL)]
        limit = asyncio.Semaphore(PARALLEL)

        async def resident(i: int) -> None:
            async with limit:
                if i < TELEGRAM:
                    await tg_resident(run, i, script[i])
                else:
                    await web_resident(run, i, script[i])

        async def phones() -> None:
            for i in range(TOTAL - PHONE, TOTAL):
                await phone_resident(run, i, script[i])

        await asyncio.gather(
            restart_halfway(run),
            phones(),
            *(resident(i) for i in range(TOTAL - PHONE)),
        )
        elapsed = time.monotonic() - started
        figures = await figures_after(run)
        cli_figures = json.loads(await stats_cli(stack))["overall"]
    finally:
        await gw.stop()
        stack.stack.start_gateway()
    print(f"\n{TOTAL} tickets ({PHONE} phone, {TELEGRAM} Telegram) surveyed in {elapsed:.1f}s")

    assert gw.restarts == 1
    assert len(run.tickets) == TOTAL
    assert Counter(run.channel_of.values()) == {
        "web": TOTAL - PHONE - TELEGRAM,
        "telegram": TELEGRAM,
        "phone": PHONE,
    }
    jobs = {j.ticket_id: j for j in store.jobs() if j.ticket_id in run.tickets}
    store.close()
    assert set(jobs) == set(run.tickets), "a ticket has no survey job"
    wrong = {
        srid: (run.channel_of[srid], j.status, j.attempts, j.postback, j.answers, j.channel)
        for srid, j in jobs.items()
        if (j.status, j.attempts, j.postback, j.channel) != ("answered", 1, POSTBACK_DONE,
                                                            run.channel_of[srid])
        or (j.answers.contacted, j.answers.resolved, j.answers.satisfaction, j.answers.reason)
        != run.tickets[srid].stored
    }  # fmt: skip
    assert wrong == {}
    assert set(run.intros.values()) == {1}, "a resident got the survey twice"
    statuses = await asyncio.gather(*(ticket_status(run, srid) for srid in run.tickets))
    expected_status = ["reopened" if a.unhappy else "closed" for a in run.tickets.values()]
    assert statuses == expected_status
    expected = expected_rates(before, list(run.tickets.values()))
    assert figures == expected
    assert cli_figures == expected


async def figures_after(run: Run) -> dict[str, Any]:
    async with run.http.get(f"{run.gw.url}/api/survey/stats") as r:
        assert r.status == 200
        return dict((await r.json())["overall"])


async def stats_cli(stack: RunningStack) -> str:
    from tests.e2e.test_survey_phone import cli

    return await cli(stack, "survey", "stats", "--json")


async def ticket_status(run: Run, srid: str) -> str:
    from tests.e2e.test_survey_phone import staff_ticket

    return str((await staff_ticket(run.http, run.stack, srid))["detailed_status"])
