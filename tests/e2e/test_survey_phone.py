"""The phone survey end to end: an outbound SIP call answered by SIPp with RFC 4733 DTMF.

A phone caller's complaint is filed on a ``tel:`` conversation (the phone
channel's contract with Rasa: sender ``tel:<call id>``, metadata with the
caller's number), staff resolve it with ``jiesu desk resolve``, ``jiesu survey
run-due`` makes the gateway call the number back (``JIESU_SURVEY_CALL_URI``),
and SIPp, as the resident's phone, answers the spoken questions with key
presses (and the reason, when asked, with speech the scripted recogniser
transcribes).  The answers must land on the desk ticket, reopen it when
unhappy, and show in ``jiesu survey stats``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.gateway.rasa_client import RasaClient
from tests.auxil.conversation import answer_until_readback, ticket_id_in, wait_for
from tests.auxil.sip_audio import Dtmf, Segment, Silence, Speech, write_caller_pcap
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory
from tests.auxil.sip_sipp import SCENARIOS, free_udp_port, sipp_available
from tests.auxil.sip_sipp_uas import SippCallee, render_uas
from tests.auxil.survey_gateway import SurveyGateway
from tests.conftest import DESK_KEY, RunningStack
from tests.e2e.test_survey import delivered_ticket
from tickets.survey.store import POSTBACK_DONE, SurveyStore

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(not sipp_available(), reason="sipp not installed"),
]

SCENARIO = SCENARIOS / "uas_survey_dtmf.xml"
REASON = "路灯还是不亮，只来看了一眼"
COMPLAINT = "小区门口的路灯坏了一个星期了，地址是朝阳区望京西园四区3号楼，不需要保密"


async def cli(stack: RunningStack, *args: str) -> str:
    """Run ``jiesu …`` as staff would (a child process; the loop keeps serving)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.main", *args, env=stack.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    return text


async def file_phone_complaint(
    stack: RunningStack, http: aiohttp.ClientSession, number: str
) -> tuple[str, str]:
    """A caller's complaint on a ``tel:`` conversation; (ticket id, sender)."""
    rasa = RasaClient(stack.rasa_url, http, timeout_s=60)
    call_id = uuid.uuid4().hex[:12]
    sender = f"tel:{call_id}"
    meta = {"channel": "phone", "phone": f"+86{number}", "call_id": call_id}

    async def say(text: str) -> list[dict[str, Any]]:
        return [dict(m) for m in await rasa.send(sender, text, meta)]

    await answer_until_readback(say, await say(COMPLAINT), {"phone": number})
    return await delivered_ticket(stack, ticket_id_in(await say("确认"))), sender


async def staff_ticket(http: aiohttp.ClientSession, stack: RunningStack, srid: str) -> Any:
    async with http.get(
        f"{stack.desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}
    ) as r:
        return (await r.json())[0]


async def stats(http: aiohttp.ClientSession, stack: RunningStack) -> dict[str, Any]:
    async with http.get(f"{stack.gateway_url}/api/survey/stats") as r:
        assert r.status == 200
        return dict((await r.json())["overall"])


@dataclass
class PhoneRig:
    """The survey gateway and the SIP port its call URI points at (SIPp listens there)."""

    gateway: SurveyGateway
    callee_port: int


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def phone_gateway(stack: RunningStack) -> AsyncIterator[PhoneRig]:
    """The gateway with its phone channel on; surveys go out only on ``run-due``."""
    callee_port = free_udp_port()
    gw = SurveyGateway(
        stack,
        {
            "JIESU_SIP_PORT": str(free_udp_port()),
            "JIESU_SIP_HOST": "127.0.0.1",
            "JIESU_TTS_SPEED": "320",
            "JIESU_TTS_CACHE_DIR": "",
            "JIESU_SURVEY_CALL_URI": f"sip:{{phone}}@127.0.0.1:{callee_port}",
            "JIESU_SURVEY_DELAY": "1",
            "JIESU_SURVEY_TICK": "3600",  # only `jiesu survey run-due` sends
        },
        ScriptedRecognizerFactory([REASON]),
    )
    stack.stack.stop_gateway()
    try:
        await gw.start()
        yield PhoneRig(gw, callee_port)
    finally:
        await gw.stop()
        stack.stack.start_gateway()


async def survey_call(
    stack: RunningStack,
    rig: PhoneRig,
    srid: str,
    segments: list[Segment],
    tmp_path: Path,
) -> str:
    """Resolve on the desk, let `run-due` call SIPp, wait for the call to end; SIPp's log."""
    pcap = tmp_path / f"answers_{srid}.pcap"
    await asyncio.to_thread(write_caller_pcap, pcap, segments, 260)
    scenario = await asyncio.to_thread(render_uas, SCENARIO, tmp_path, pcap, 60_000)
    callee = await SippCallee.start(str(scenario), port=rig.callee_port, timeout_s=90)
    try:
        print(await cli(stack, "desk", "resolve", srid, "--note", "已修复"))

        async def sent() -> bool:
            return json.loads(await cli(stack, "survey", "run-due"))["sent"] == 1

        await wait_for(sent, 30, f"run-due calling about {srid}")
        code, out = await callee.wait(90)
    finally:
        await callee.stop()
    assert code == 0, out[-3000:]
    return out


async def test_phone_survey_by_dtmf_reopens_the_ticket(
    stack: RunningStack, phone_gateway: PhoneRig, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    before = await stats(http, stack)
    srid, sender = await file_phone_complaint(stack, http, "13900139001")
    answers: list[Segment] = [
        Silence(1.5), Dtmf("1"), Silence(1.0), Dtmf("2"), Silence(1.0), Dtmf("3"),
        Silence(2.0), Speech(REASON), Silence(6.0),
    ]  # fmt: skip
    await survey_call(stack, phone_gateway, srid, answers, tmp_path)

    async def posted() -> Any:
        ticket = await staff_ticket(http, stack, srid)
        return ticket if ticket["attributes"].get("survey_satisfaction") else None

    ticket = await wait_for(posted, 20, "the answers on the ticket")
    assert ticket["detailed_status"] == "reopened"
    attrs = ticket["attributes"]
    assert (attrs["survey_contacted"], attrs["survey_resolved"]) == ("yes", "no")
    assert attrs["survey_satisfaction"] == "不满意"
    assert attrs["survey_reason"] == REASON
    store = SurveyStore(stack.config.effective_outbox_db_url)
    try:
        job = store.get(srid)
    finally:
        store.close()
    assert (job.channel, job.channel_user, job.sender_id) == ("phone", "tel:13900139001", sender)
    assert (job.status, job.attempts, job.postback) == ("answered", 1, POSTBACK_DONE)
    after = await stats(http, stack)
    assert after["answered"] == before["answered"] + 1
    assert after["unsatisfied"] == before["unsatisfied"] + 1
    figures = json.loads(await cli(stack, "survey", "stats", "--json"))["overall"]
    assert figures == after


async def test_phone_survey_by_dtmf_closes_a_happy_ticket(
    stack: RunningStack, phone_gateway: PhoneRig, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    before = await stats(http, stack)
    srid, _ = await file_phone_complaint(stack, http, "13900139002")
    answers: list[Segment] = [
        Silence(1.5), Dtmf("1"), Silence(1.0), Dtmf("1"), Silence(1.0), Dtmf("2"), Silence(6.0),
    ]  # fmt: skip
    await survey_call(stack, phone_gateway, srid, answers, tmp_path)

    async def posted() -> Any:
        ticket = await staff_ticket(http, stack, srid)
        return ticket if ticket["attributes"].get("survey_satisfaction") else None

    ticket = await wait_for(posted, 20, "the answers on the ticket")
    assert ticket["detailed_status"] == "closed"
    attrs = ticket["attributes"]
    assert (attrs["survey_contacted"], attrs["survey_resolved"]) == ("yes", "yes")
    assert (attrs["survey_satisfaction"], attrs["survey_reason"]) == ("基本满意", "")
    after = await stats(http, stack)
    assert after["answered"] == before["answered"] + 1
    assert after["basically_satisfied"] == before["basically_satisfied"] + 1
    assert after["unsatisfied"] == before["unsatisfied"]
