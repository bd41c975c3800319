"""Whole calls on loopback: SIPp places them, RTP replayed from espeak-ng pcaps.

The recogniser is the only stand-in (it returns the script line for each
utterance the VAD cut out of the real RTP audio).  What the bot says is
recorded by an RTP sink named in SIPp's SDP and checked for speech.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.channels.phone.prompts import ANYTHING_ELSE, GO_AHEAD, GOODBYE, GREETING
from speech.codec_g711 import ulaw_decode
from speech.settings import PhoneSettings
from tests.auxil import sip_fake_rasa
from tests.auxil.sip_audio import Dtmf, Silence, Speech, synth, write_caller_pcap
from tests.auxil.sip_recorder import RtpRecorder, speech_seconds
from tests.auxil.sip_sipp import SCENARIOS, render_call, run_sipp

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.usefixtures("need_sipp")]

COMPLAINT = "小区楼下烧烤店晚上噪音很大"
ADDRESS = "望京西园三区"
ADDRESS2 = "望京西园四区"
SPEED = 260  # caller speech rate (espeak-ng words per minute)
CALLER = "+8613800001111"


async def _call(
    scenario_dir: Path,
    service,
    segments,
    ending: str,
    *,
    calls: int = 1,
    hold_ms: int = 0,
    timeout_s: float = 80,
) -> tuple[RtpRecorder, str]:
    pcap = scenario_dir / "caller.pcap"
    await asyncio.to_thread(write_caller_pcap, pcap, segments, SPEED)
    recorder = await RtpRecorder.open()
    scenario = await asyncio.to_thread(
        render_call, scenario_dir, pcap, ending, recorder.port, hold_ms, int(timeout_s * 1000)
    )
    try:
        result = await run_sipp(
            scenario, service.ua.local_address, scenario_dir, calls=calls, timeout_s=timeout_s
        )
    finally:
        recorder.close()
    assert result.returncode == 0, result.explain()
    return recorder, result.messages


def _senders(rasa_backend) -> list[str]:
    return sorted({r.sender for r in rasa_backend.fake.log})


async def _wait_finished(service, n: int = 1) -> None:
    for _ in range(n):
        await asyncio.wait_for(service.finished.get(), 20)


async def test_full_complaint_by_voice(
    make_phone, rasa_backend, scenario_dir: Path, shared_tts
) -> None:
    service, recs = await make_phone([COMPLAINT, ADDRESS, "确认"])
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(3.0),
                Speech("确认"), Silence(8)]  # fmt: skip
    recorder, _ = await _call(scenario_dir, service, segments, "bot")
    await _wait_finished(service)
    (sender,) = _senders(rasa_backend)
    assert sender.startswith("tel:")
    assert rasa_backend.messages(sender) == [COMPLAINT, ADDRESS, "/affirm"]
    meta = rasa_backend.fake.log[0].metadata
    assert {k: meta.get(k) for k in ("channel", "phone", "call_id")} == {
        "channel": "phone", "phone": CALLER, "call_id": sender[4:]}  # fmt: skip
    # The recogniser got real audio for each utterance (>= the spoken length).
    (rec,) = recs.created
    assert [b / 32000 for b in rec.utterance_bytes][0] >= len(
        await asyncio.to_thread(synth, COMPLAINT, SPEED)
    ) / 16000 * 0.8
    # The confirmation turn offered buttons, so it was decoded with the short-answer grammar.
    assert rec.grammars[2] is not None and "确认" in rec.grammars[2]
    # The bot spoke: greeting (barged in), two replies, the ticket read-back.
    assert speech_seconds(recorder.pcm) > 4.0
    # Barge-in: the caller talked over the greeting, so its talkspurt was cut short.
    starts = [i for i, p in enumerate(recorder.packets) if p.marker]
    greeting = b"".join(ulaw_decode(p.payload) for p in recorder.packets[starts[0] : starts[1]])
    greeting_sent = speech_seconds(greeting)
    greeting_full = len(await shared_tts.synthesize(GREETING)) / 16000
    assert greeting_sent < greeting_full / 2
    timings = service.deps.timings
    assert len(timings) == 3 and all(t.latency_s is not None for t in timings)


async def test_correction_then_voice_confirmation(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS, "不对", ADDRESS2, "确认"])
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(2.5),
                Speech("不对"), Silence(2.5), Speech(ADDRESS2), Silence(2.5), Speech("确认"),
                Silence(8)]  # fmt: skip
    await _call(scenario_dir, service, segments, "bot")
    (sender,) = _senders(rasa_backend)
    assert rasa_backend.messages(sender) == [COMPLAINT, ADDRESS, "不对", ADDRESS2, "/affirm"]


async def test_confirmation_by_dtmf(make_phone, rasa_backend, scenario_dir: Path) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS])
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(2.5),
                Dtmf("1"), Silence(8)]  # fmt: skip
    recorder, _ = await _call(scenario_dir, service, segments, "bot")
    (sender,) = _senders(rasa_backend)
    assert rasa_backend.messages(sender) == [COMPLAINT, ADDRESS, "/affirm"]
    assert speech_seconds(recorder.pcm) > 2.0


async def test_silence_reprompts_twice_then_closes(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([], no_input_s=1.0)
    recorder, _ = await _call(scenario_dir, service, [Silence(60)], "bot")
    assert rasa_backend.fake.log == []  # nothing was said, nothing to register
    # greeting, reprompt 1, reprompt 2, goodbye: four talkspurts (RTP marker bit)
    assert sum(p.marker for p in recorder.packets) == 4
    assert speech_seconds(recorder.pcm) > 4.0


async def test_no_input_after_complaint_registers_it(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT], no_input_s=1.0)
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(60)]
    await _call(scenario_dir, service, segments, "bot")
    (sender,) = _senders(rasa_backend)
    assert rasa_backend.messages(sender) == [COMPLAINT, "/call_ended"]
    assert rasa_backend.fake.log[-1].metadata["end_reason"] == "no_input"


async def test_hangup_mid_complaint_still_files(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT, "望京西园"])
    complaint_s = len(await asyncio.to_thread(synth, COMPLAINT, SPEED)) / 16000
    address_s = len(await asyncio.to_thread(synth, ADDRESS, SPEED)) / 16000
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(5)]
    hang_at = 0.4 + complaint_s + 3.0 + address_s / 2  # in the middle of the address
    await _call(scenario_dir, service, segments, "caller", hold_ms=int(hang_at * 1000))
    await _wait_finished(service)
    (sender,) = _senders(rasa_backend)
    # what was said before hanging up, the half-said address, then the flag for a callback
    assert rasa_backend.messages(sender) == [COMPLAINT, "望京西园", "/call_ended"]
    assert rasa_backend.fake.log[-1].metadata["end_reason"] == "caller_hangup"


async def test_two_calls_at_once(make_phone, rasa_backend, scenario_dir: Path) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认"])
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(3.0),
                Speech("确认"), Silence(8)]  # fmt: skip
    recorder, _ = await _call(scenario_dir, service, segments, "bot", calls=2)
    await _wait_finished(service, 2)
    senders = _senders(rasa_backend)
    assert len(senders) == 2
    for sender in senders:
        assert rasa_backend.messages(sender) == [COMPLAINT, ADDRESS, "/affirm"]
    assert len({p.ssrc for p in recorder.packets}) == 2


async def test_a_call_beyond_capacity_hears_the_busy_message(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认"], max_conversations=1)
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(3.0),
                Speech("确认"), Silence(8)]  # fmt: skip
    recorder, _ = await _call(scenario_dir, service, segments, "bot", calls=2)
    await _wait_finished(service, 1)
    assert service.turned_away == 1
    (sender,) = _senders(rasa_backend)  # the other call never reached Rasa
    assert rasa_backend.messages(sender) == [COMPLAINT, ADDRESS, "/affirm"]
    by_ssrc: dict[int, int] = {}
    for p in recorder.packets:
        by_ssrc[p.ssrc] = by_ssrc.get(p.ssrc, 0) + 1
    assert len(by_ssrc) == 2, "both callers heard the bot (one of them the busy message)"
    # the busy message is a few seconds of speech, then the bot hangs up
    assert 2 * 50 <= min(by_ssrc.values()) < max(by_ssrc.values())


async def test_transfer_to_human_uses_refer(make_phone, rasa_backend, scenario_dir: Path) -> None:
    queue = "sip:queue@127.0.0.1:5999"
    service, _ = await make_phone(["我要转人工"], transfer_uri=queue)
    segments = [Silence(0.4), Speech("我要转人工"), Silence(20)]
    _, messages = await _call(scenario_dir, service, segments, "refer")
    assert f"Refer-To: <{queue}>" in messages
    (sender,) = _senders(rasa_backend)
    assert rasa_backend.messages(sender) == ["我要转人工"]


async def test_malformed_invites_get_errors(
    make_phone, scenario_dir: Path, phone_settings: PhoneSettings
) -> None:
    from tests.auxil.sip_sipp import run_sipp as run

    service, _ = await make_phone([])
    result = await run(
        SCENARIOS / "uac_malformed.xml", service.ua.local_address, scenario_dir, timeout_s=20
    )
    assert result.returncode == 0, result.explain()
    assert "Warning: 399" in result.messages
    assert service.ua.calls == {}


async def test_cancel_while_ringing(make_phone, scenario_dir: Path) -> None:
    service, _ = await make_phone([], answer_delay_s=5.0)
    result = await run_sipp(
        SCENARIOS / "uac_cancel.xml", service.ua.local_address, scenario_dir, timeout_s=20
    )
    assert result.returncode == 0, result.explain()
    assert service.ua.calls == {}


@pytest.fixture
def ticket_wraps_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake's ticket reply carries what action_submit_complaint sends on ``tel:``."""
    original = sip_fake_rasa.hotline_reply

    def reply(message: str, history: list[str]) -> list[dict[str, Any]]:
        if message == "/affirm":
            return [{"text": "您的诉求已受理，工单号：BJ20240001。",
                     "custom": {"ticket_id": "BJ20240001", "phone": "wrap_up"}}]  # fmt: skip
        replies = original(message, history)
        if len(history) == 1 and not message.startswith("/"):
            replies[0]["custom"] = {"ask": "location"}  # as the real form's location prompt
        if message == "谢谢你们的帮助":  # utter_thank: no form, the call stays in its wrap-up
            return [{"text": "不客气，这是我们应该做的。"}]
        return replies

    monkeypatch.setattr(sip_fake_rasa, "hotline_reply", reply)


def _record_spoken(service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every piece of text the call flow hands to TTS, in order."""
    spoken: list[str] = []
    synthesize = service.deps.tts.synthesize

    async def recording(text: str) -> bytes:
        spoken.append(text)
        return await synthesize(text)

    monkeypatch.setattr(service.deps.tts, "synthesize", recording)
    return spoken


TO_TICKET = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS), Silence(3.0),
             Speech("确认")]  # fmt: skip


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_silence_after_the_ticket_says_goodbye_and_hangs_up(
    make_phone, rasa_backend, scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认"])
    spoken = _record_spoken(service, monkeypatch)
    # "bot" ending: SIPp fails unless the bot sends BYE within the timeout.
    await _call(scenario_dir, service, [*TO_TICKET, Silence(12)], "bot", timeout_s=40)
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason == "completed"
    # The ticket reply is cut at its colon (the first piece plays sooner), then the
    # wrap-up question, and after the silence the goodbye is the last thing said.
    assert spoken[-4:] == ["您的诉求已受理，工单号：", "BJ20240001。", ANYTHING_ELSE, GOODBYE]
    # The complaint was filed by the ticket turn: no /call_ended after it.
    assert rasa_backend.messages(flow.sender) == [COMPLAINT, ADDRESS, "/affirm"]


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_nothing_more_after_the_ticket_hangs_up(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    # A long no-input timer: only the caller's 没有了 can end the call in time.
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", "没有了"], no_input_s=60)
    segments = [*TO_TICKET, Silence(3.0), Speech("没有了"), Silence(10)]
    await _call(scenario_dir, service, segments, "bot", timeout_s=40)
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason == "completed"
    assert rasa_backend.messages(flow.sender) == [COMPLAINT, ADDRESS, "/affirm"]


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_something_else_after_the_ticket_continues_the_conversation(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    other = "还有路灯坏了"
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", other], no_input_s=60)
    other_s = len(await asyncio.to_thread(synth, other, SPEED)) / 16000
    to_ticket_s = sum(
        [0.4, 2.5, 3.0, 3.0]
        + [
            len(await asyncio.to_thread(synth, t, SPEED)) / 16000
            for t in (COMPLAINT, ADDRESS, "确认")
        ]
    )
    segments = [*TO_TICKET, Silence(3.0), Speech(other), Silence(10)]
    hang_at = to_ticket_s + other_s + 4.0  # after the bot answered the new problem
    await _call(scenario_dir, service, segments, "caller", hold_ms=int(hang_at * 1000))
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason != "completed"
    # The new problem went to Rasa, and hanging up in the middle of it files it.
    assert rasa_backend.messages(flow.sender) == [
        COMPLAINT, ADDRESS, "/affirm", other, "/call_ended"]  # fmt: skip


async def _seconds(*texts: str) -> float:
    return sum([len(await asyncio.to_thread(synth, t, SPEED)) / 16000 for t in texts])


@pytest.mark.usefixtures("ticket_wraps_up")
@pytest.mark.parametrize("answer", ["没其他事了", "不需要了"])
async def test_other_ways_of_saying_nothing_more_hang_up_without_rasa(
    make_phone, rasa_backend, scenario_dir: Path, answer: str
) -> None:
    # Rasa would read these as a new complaint (nlu_fallback opens the form).
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", answer], no_input_s=60)
    segments = [*TO_TICKET, Silence(3.0), Speech(answer), Silence(10)]
    await _call(scenario_dir, service, segments, "bot", timeout_s=40)
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason == "completed"
    assert rasa_backend.messages(flow.sender) == [COMPLAINT, ADDRESS, "/affirm"]


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_hanging_up_mid_answer_at_the_wrap_up_files_nothing_more(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    answer = "没什么了"
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", answer], no_input_s=60)
    hang_at = await _seconds(COMPLAINT, ADDRESS, "确认") + 0.4 + 2.5 + 3.0 + 3.0
    hang_at += await _seconds(answer) / 2
    segments = [*TO_TICKET, Silence(3.0), Speech(answer), Silence(5)]
    await _call(scenario_dir, service, segments, "caller", hold_ms=int(hang_at * 1000))
    flow = await asyncio.wait_for(service.finished.get(), 20)
    # No half-said 没什么了 opening a complaint, no /call_ended filing it.
    assert rasa_backend.messages(flow.sender) == [COMPLAINT, ADDRESS, "/affirm"]


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_yes_there_is_more_asks_for_it_and_sends_only_the_problem(
    make_phone, rasa_backend, scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "楼下路灯坏了"
    script = [COMPLAINT, ADDRESS, "确认", "嗯", "还有一件事", other]
    service, _ = await make_phone(script, no_input_s=60)
    spoken = _record_spoken(service, monkeypatch)
    segments = [*TO_TICKET, Silence(3.0), Speech("嗯"), Silence(3.0), Speech("还有一件事"),
                Silence(2.5), Speech(other), Silence(10)]  # fmt: skip
    hang_at = await _seconds(COMPLAINT, ADDRESS, "确认", "嗯", "还有一件事", other) + 19.5
    await _call(scenario_dir, service, segments, "caller", hold_ms=int(hang_at * 1000))
    flow = await asyncio.wait_for(service.finished.get(), 20)
    # 嗯 asked again, 还有一件事 got 请讲, and only the problem is the new complaint.
    assert spoken.count(ANYTHING_ELSE) == 2 and GO_AHEAD in spoken
    assert rasa_backend.messages(flow.sender) == [
        COMPLAINT, ADDRESS, "/affirm", other, "/call_ended"]  # fmt: skip


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_talking_over_the_goodbye_keeps_the_call(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    more = "我还想问一下路灯的事"
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", "谢谢", more], no_input_s=60)
    # 谢谢, a pause long enough to end the utterance, then more words over the goodbye.
    segments = [*TO_TICKET, Silence(3.0), Speech("谢谢"), Silence(0.9), Speech(more),
                Silence(4)]  # fmt: skip
    hang_at = await _seconds(COMPLAINT, ADDRESS, "确认", "谢谢", more) + 0.4 + 2.5 + 3.0 + 3.0
    hang_at += 0.9 + 3.0
    await _call(scenario_dir, service, segments, "caller", hold_ms=int(hang_at * 1000))
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason != "completed"
    assert rasa_backend.messages(flow.sender)[:4] == [COMPLAINT, ADDRESS, "/affirm", more]


@pytest.mark.usefixtures("ticket_wraps_up")
async def test_star_at_the_wrap_up_repeats_the_ticket_and_a_later_goodbye_still_ends(
    make_phone, rasa_backend, scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thanks = "谢谢你们的帮助"
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认", thanks, "再见"], no_input_s=60)
    spoken = _record_spoken(service, monkeypatch)
    segments = [*TO_TICKET, Silence(3.0), Dtmf("*"), Silence(5.0), Speech(thanks), Silence(3.0),
                Speech("再见"), Silence(10)]  # fmt: skip
    await _call(scenario_dir, service, segments, "bot", timeout_s=50)
    flow = await asyncio.wait_for(service.finished.get(), 20)
    assert flow.call.end_reason == "completed"
    ticket = ["您的诉求已受理，工单号：", "BJ20240001。", ANYTHING_ELSE]
    thanks_reply = ["不客气，这是我们应该做的。"]
    # The reply, then * said it all again, then Rasa's answer to the thanks, the goodbye.
    assert spoken[-8:] == [*ticket, *ticket, *thanks_reply, GOODBYE]
    # Rasa's answer opened no form, so 再见 still closed the call without a ticket.
    assert rasa_backend.messages(flow.sender) == [COMPLAINT, ADDRESS, "/affirm", thanks]


async def _recover_after_first_failure(rasa_backend) -> None:
    """Rasa answers 503 to the first turn (it is restarting), then recovers."""
    await rasa_backend.fake.received.get()
    rasa_backend.fake.fail = False


async def test_rasa_restarting_mid_call_the_turn_is_retried_and_the_call_goes_on(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT, ADDRESS, "确认"])
    rasa_backend.fake.fail = True
    recover = asyncio.create_task(_recover_after_first_failure(rasa_backend))
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(5.0), Speech(ADDRESS), Silence(3.0),
                Speech("确认"), Silence(8)]  # fmt: skip
    await _call(scenario_dir, service, segments, "bot")
    await _wait_finished(service)
    await recover
    (sender,) = _senders(rasa_backend)
    # The first attempt failed, the retry got through; the call was not dropped.
    assert rasa_backend.messages(sender) == [COMPLAINT, COMPLAINT, ADDRESS, "/affirm"]


async def test_rasa_down_longer_than_the_retry_window_ends_the_call_politely(
    make_phone, rasa_backend, scenario_dir: Path
) -> None:
    service, _ = await make_phone([COMPLAINT], rasa_retry_s=1.5)
    rasa_backend.fake.fail = True
    segments = [Silence(0.4), Speech(COMPLAINT), Silence(12)]
    try:
        await _call(scenario_dir, service, segments, "bot")
        await _wait_finished(service)
    finally:
        rasa_backend.fake.fail = False
    (sender,) = _senders(rasa_backend)
    tries = rasa_backend.messages(sender)
    # 0.5 s, then 1 s apart within 1.5 s: the first try and two retries, then SYSTEM_BUSY.
    assert tries == [COMPLAINT] * 3, tries
