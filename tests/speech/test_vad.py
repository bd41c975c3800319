"""End-of-utterance detection on espeak-ng speech, silence and noise (fake time)."""

from __future__ import annotations

import pytest

from speech._audioop import audioop
from speech.clock import ManualClock
from speech.vad import EndpointConfig, Endpointer, NoInput, SpeechStarted, Utterance
from tests.auxil.sip_audio import noise, silence, synth

FRAME = 320  # 20 ms at 8 kHz


def _run(ep: Endpointer, pcm: bytes, clock: ManualClock) -> list:
    events = []
    for i in range(0, len(pcm), FRAME):
        clock.advance(0.02)
        events += ep.feed(pcm[i : i + FRAME], clock.now())
    return events


def test_one_utterance_is_detected_with_its_end_time() -> None:
    speech = synth("请问具体地址在哪里")
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(end_silence_ms=600))
    events = _run(ep, silence(1.0) + speech + silence(1.5), clock)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, Utterance]
    start, utt = events
    assert 0.9 <= start.at <= 1.3
    speech_end = 1.0 + len(speech) / 16000
    assert speech_end - 0.5 <= utt.speech_ended_at <= speech_end + 0.05
    assert utt.detected_at == pytest.approx(utt.speech_ended_at + 0.6, abs=0.03)
    assert len(utt.audio) >= len(speech) * 0.8 and utt.reason == "silence"


def test_two_utterances_split_on_a_long_pause() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(end_silence_ms=500))
    a, b = synth("确认"), synth("不对")
    events = _run(ep, silence(0.5) + a + silence(1.2) + b + silence(1.0), clock)
    assert [type(e) for e in events] == [SpeechStarted, Utterance, SpeechStarted, Utterance]


def test_silence_gives_no_input_after_the_timeout() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(no_input_s=2.0))
    ep.arm(clock.now())
    assert _run(ep, silence(1.9), clock) == []
    events = _run(ep, silence(0.2), clock)
    assert [type(e) for e in events] == [NoInput]
    assert _run(ep, silence(3.0), clock) == []  # fires once per arm


def test_no_input_fires_without_any_audio() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(no_input_s=1.0))
    ep.arm(clock.now())
    clock.advance(0.5)
    assert ep.poll(clock.now()) == []
    clock.advance(0.6)
    assert [type(e) for e in ep.poll(clock.now())] == [NoInput]


def test_line_noise_is_not_speech() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(no_input_s=4.0))
    ep.arm(clock.now())
    events = _run(ep, noise(3.0), clock)
    assert events == []


def test_speech_over_noise_is_detected() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig())
    sp = synth("我要反映噪音问题")
    hiss = noise(len(sp) / 16000)
    mixed = audioop.add(sp, hiss[: len(sp)], 2)
    events = _run(ep, noise(0.5) + mixed + noise(1.0, seed=3), clock)
    assert [type(e) for e in events] == [SpeechStarted, Utterance]


def test_flush_and_max_length() -> None:
    clock = ManualClock()
    ep = Endpointer(EndpointConfig(max_utterance_s=1.0))
    long_speech = synth("我们小区楼下的烧烤店每天晚上噪音很大")
    events = _run(ep, long_speech, clock)
    assert any(isinstance(e, Utterance) and e.reason == "max_length" for e in events)
    ep2 = Endpointer(EndpointConfig())
    _run(ep2, synth("朝阳区望京"), ManualClock())
    # still in speech (no trailing silence yet): a hang-up flushes it
    assert ep2.in_speech
    assert ep2.flush(9.0) is not None and not ep2.in_speech


@pytest.mark.parametrize(
    "text", ["确认", "小区楼下烧烤店晚上噪音很大", "地址不对，是丰台区方庄芳城园一区"]
)
def test_trailing_silence_is_the_configured_one_despite_webrtcvad_overhang(text: str) -> None:
    """webrtcvad calls a few frames after speech "voiced"; they count as silence.

    Without the compensation, 500 ms of configured silence waited 560-620 ms after the
    last loud frame (the latency benchmark's "VAD wait" showed it).
    """
    speech = synth(text)
    frames = [speech[i : i + FRAME] for i in range(0, len(speech) - FRAME + 1, FRAME)]
    last_loud = max(i for i, f in enumerate(frames) if audioop.rms(f, 2) > 100)
    loud_end = 0.5 + (last_loud + 1) * 0.02  # after the leading 0.5 s of silence
    clock = ManualClock()
    events = _run(Endpointer(EndpointConfig(end_silence_ms=500)), silence(0.5) + speech
                  + silence(1.0), clock)  # fmt: skip
    [utt] = [e for e in events if isinstance(e, Utterance)]
    assert 0.48 <= utt.detected_at - loud_end <= 0.54
    assert utt.detected_at - utt.speech_ended_at == pytest.approx(0.5, abs=1e-6)
