"""End of resident speech -> first bot audio packet, over SIP/RTP on loopback.

Callers are a second SIP UA in this process streaming espeak-ng speech as
PCMU at 20 ms pacing; the bot runs the real VAD, espeak-ng TTS, a fake Rasa
REST server and the scripted recogniser (so ASR decode time is 0 here; with
JIESU_VOSK_MODEL set, decode time per utterance is measured separately).
The figure includes the end-of-utterance silence (JIESU_SIP_END_SILENCE_MS).
"""

from __future__ import annotations

import asyncio
import os
import struct
import time

from voice_common import percentile, phone_service

from speech.rtp_session import AudioIn
from speech.settings import PhoneSettings
from speech.sip_ua import SipUA
from tests.auxil.sip_audio import silence, synth

UTTERANCES = ["望京西园三区", "小区楼下烧烤店晚上噪音很大", "不对", "确认", "朝阳区望京街道"]
CALLS, TURNS = 3, 8


def _last_loud_frame(pcm: bytes, threshold: int = 100) -> int:
    n = len(pcm) // 320
    last = 0
    for i in range(n):
        frame = struct.unpack("<160h", pcm[i * 320 : (i + 1) * 320])
        if (sum(s * s for s in frame) / 160) ** 0.5 > threshold:
            last = i
    return last


def _loud(pcm: bytes, threshold: int = 100) -> bool:
    n = len(pcm) // 2
    samples = struct.unpack(f"<{n}h", pcm)
    return (sum(s * s for s in samples) / max(1, n)) ** 0.5 > threshold


async def one_call(caller: SipUA, uri: str, results: list[float]) -> None:
    call = await caller.place_call(uri, 5)
    q = call.media.inbound
    try:
        for turn in range(TURNS):
            pcm = synth(UTTERANCES[turn % len(UTTERANCES)], 220) + silence(0.05)
            # let the bot finish its prompt start, then speak (barge-in if still talking)
            pb = call.play(pcm)
            await pb.done
            assert pb.first_sent_at is not None
            end_of_speech = pb.first_sent_at + (_last_loud_frame(pcm) + 1) * 0.02
            while not q.empty():
                q.get_nowait()
            while True:
                item = await asyncio.wait_for(q.get(), 10)
                if isinstance(item, AudioIn) and item.at > end_of_speech and _loud(item.pcm):
                    results.append(item.at - end_of_speech - 0.02)  # packet start, not its end
                    break
            await asyncio.sleep(0.3)  # benchmark pacing: let the reply play a little
    finally:
        await call.hangup()


async def main() -> None:
    script = [UTTERANCES[i % len(UTTERANCES)] for i in range(TURNS)]
    for text in UTTERANCES:  # synthesise before the bot runs (lru-cached; keeps the loop free)
        synth(text, 220)
    end_ms = int(os.environ.get("JIESU_SIP_END_SILENCE_MS", "500"))
    async with phone_service(script, end_silence_ms=end_ms, no_input_s=30) as service:
        caller = SipUA(PhoneSettings(sip_host="127.0.0.1", sip_port=0, sip_user="bench"))
        await caller.start()
        host, port = service.ua.local_address
        results: list[float] = []
        t0 = time.perf_counter()
        await asyncio.gather(*(one_call(caller, f"sip:12345@{host}:{port}", results)
                               for _ in range(CALLS)))  # fmt: skip
        wall = time.perf_counter() - t0
        await caller.stop()
        internal = [t.latency_s for t in service.deps.timings if t.latency_s is not None]
    print(f"turns measured: {len(results)} ({CALLS} concurrent calls x {TURNS}), {wall:.1f} s")
    print(f"end-of-utterance silence setting: {end_ms} ms (included in the figures)")
    print("caller-side, end of speech -> first bot audio packet: "
          f"p50 {percentile(results, 50)*1e3:.0f} ms, p95 {percentile(results, 95)*1e3:.0f} ms, "
          f"max {max(results)*1e3:.0f} ms")  # fmt: skip
    print(
        "bot-side (VAD speech end -> first reply packet sent, minus ASR decode): "
        f"p50 {percentile(internal, 50) * 1e3:.0f} ms, p95 {percentile(internal, 95) * 1e3:.0f} ms"
    )
    print("ASR decode: 0 ms (scripted recogniser); see voice_asr.py with JIESU_VOSK_MODEL")


if __name__ == "__main__":
    asyncio.run(main())
