"""A phone call against the real Rasa server + action server (session ``stack`` fixture).

Same SIPp peer and scripted recogniser as ``test_phone_calls.py``; only the
Rasa backend differs, so the assertions are about the contract: the bot
speaks Rasa's replies, and a caller who hangs up after describing a problem
leaves ``/call_ended`` in the tracker for the action that files it.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.phone.channel import PhoneService
from bot.channels.phone.prompts import match_button, phone_action, spoken_reply
from bot.gateway.rasa_client import BotButton, BotMessage, RasaClient
from speech.settings import PhoneSettings
from speech.tts import Tts
from tests.auxil.conversation import answer_until_readback, ticket_id_in
from tests.auxil.sip_audio import Segment, Silence, Speech, synth, write_caller_pcap
from tests.auxil.sip_recorder import RtpRecorder, speech_seconds
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory
from tests.auxil.sip_sipp import render_call, run_sipp, sipp_available

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(not sipp_available(), reason="sipp not installed"),
]

COMPLAINT = "我家楼下的烧烤店每天晚上噪音很大影响休息"


async def test_real_stack_hangup_after_complaint(
    stack, phone_settings: PhoneSettings, shared_tts: Tts, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(stack.rasa_url, http, timeout_s=60)
        await rasa.send("test:phone-warmup", "你好")  # first turn of a fresh server is slow
        service = PhoneService(phone_settings, rasa, ScriptedRecognizerFactory([COMPLAINT]),
                               shared_tts)  # fmt: skip
        await service.start()
        recorder = await RtpRecorder.open()
        try:
            pcap = tmp_path / "caller.pcap"
            segments: list[Segment] = [Silence(0.4), Speech(COMPLAINT), Silence(12)]
            await asyncio.to_thread(write_caller_pcap, pcap, segments, 260)
            spoken = len(await asyncio.to_thread(synth, COMPLAINT, 260)) / 16000
            scenario = await asyncio.to_thread(
                render_call, tmp_path, pcap, "caller", recorder.port, int((spoken + 8.4) * 1000)
            )
            result = await run_sipp(scenario, service.ua.local_address, tmp_path, timeout_s=60)
            assert result.returncode == 0, result.explain()
            flow = await asyncio.wait_for(service.finished.get(), 60)
        finally:
            recorder.close()
            await service.stop()
        assert speech_seconds(recorder.pcm) > 2.0  # greeting + Rasa's reply were spoken
        url = f"{stack.rasa_url}/conversations/{flow.sender}/tracker"
        async with http.get(url, params={"token": stack.rasa_token}) as resp:
            tracker = await resp.json()
    texts = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert texts[0] == COMPLAINT and texts[-1] == "/call_ended"
    last = [e for e in tracker["events"] if e.get("event") == "user"][-1]
    assert last["metadata"]["end_reason"] == "caller_hangup"
    assert last["metadata"]["channel"] == "phone"


async def _file_complaint(
    rasa: RasaClient, sender: str, metadata: dict[str, Any]
) -> tuple[list[BotMessage], list[str]]:
    """A caller's answers as the phone flow sends them: through :func:`match_button`.

    Returns the reply to 确认 and what the caller heard before each answer.
    """
    buttons: list[BotButton] = []
    heard: list[str] = []

    async def say(words: str) -> list[dict[str, Any]]:
        nonlocal buttons
        replies = await rasa.send(sender, match_button(words, buttons) or words, metadata)
        text, buttons = spoken_reply(replies)
        heard.append(text)
        return [dict(m) for m in replies]

    first = await say("小区门口的路灯坏了一个星期了，地址是朝阳区望京西园四区3号楼")
    # "嗯" at the own-number prompt, "不需要保密" at the confidentiality one.
    read_back, _ = await answer_until_readback(
        say, first, {"phone": "嗯", "anonymous": "不需要保密"}
    )
    text = "\n".join(str(m.get("text", "")) for m in read_back)
    assert "联系电话：13800001111" in text and "个人信息保密：否" in text, text
    return await rasa.send(sender, "确认", metadata), heard


async def test_real_stack_phone_answers_and_wrap_up(stack) -> None:
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(stack.rasa_url, http, timeout_s=60)
        call_id = uuid.uuid4().hex[:12]
        meta = {"channel": "phone", "phone": "+8613800001111", "call_id": call_id}
        done, heard = await _file_complaint(rasa, f"tel:{call_id}", meta)
        assert ticket_id_in([dict(m) for m in done])
        assert phone_action(done) == "wrap_up"  # the call may end after this reply
        own_number = next(h for h in heard if "来电号码" in h)
        assert "尾号1111" in own_number and "1381111" not in own_number
        # Web and Telegram get the same reply as before: no call control in it.
        web, _ = await _file_complaint(rasa, f"web:{call_id}", {**meta, "channel": "web"})
        assert [set(m.get("custom", {})) for m in web if m.get("custom")] == [
            {"ticket_id", "delivered"}]  # fmt: skip
