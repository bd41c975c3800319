"""A phone call against the real Rasa server + action server (session ``stack`` fixture).

Same SIPp peer and scripted recogniser as ``test_phone_calls.py``; only the
Rasa backend differs, so the assertions are about the contract: the bot
speaks Rasa's replies, and a caller who hangs up after describing a problem
leaves ``/call_ended`` in the tracker for the action that files it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.channel_phone import PhoneService
from bot.rasa_client import RasaClient
from speech.settings import PhoneSettings
from speech.tts import Tts
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
        async with http.get(url) as resp:
            tracker = await resp.json()
    texts = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert texts[0] == COMPLAINT and texts[-1] == "/call_ended"
    last = [e for e in tracker["events"] if e.get("event") == "user"][-1]
    assert last["metadata"]["end_reason"] == "caller_hangup"
    assert last["metadata"]["channel"] == "phone"
