"""Concurrent calls placed by SIPp: RTP pacing jitter, calls completed and CPU per call.

``--asr scripted`` (default, 20 calls): each SIPp call replays an espeak-ng
complaint (pcap), the bot runs VAD, TTS, fake Rasa and the scripted recogniser,
confirms by voice and hangs up.

``--asr whisper`` (default 4 calls = Whisper's capacity on 2 cores): each call
says three real recorded clips from ``../shared/audio`` (8 kHz, as on a phone
line), decoded by the real Whisper recogniser the phone channel loads (shared
model, decodes in its thread pool) while the event loop paces every RTP stream;
Rasa is the fake (this measures the media path under decoding load, not the
dialogue).  A call counts as served when every clip came back as text.

Jitter is measured twice: send-side lateness of the shared 20 ms pacer, and
receive-side deviation of packet inter-arrival from 20 ms per stream at an RTP
sink named in SIPp's SDP.  CPU is this process (bot + sink + fake Rasa);
espeak-ng children are reported separately.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from voice_common import ROOT, percentile, phone_service

from speech.asr import AsrResult, Recognizer, RecognizerFactory
from tests.auxil.sip_audio import Clip, Segment, Silence, Speech, write_caller_pcap
from tests.auxil.sip_recorder import RtpRecorder
from tests.auxil.sip_sipp import render_call, run_sipp

COMPLAINT, ADDRESS = "小区楼下烧烤店晚上噪音很大", "望京西园三区"
AUDIO = ROOT.parent / "shared" / "audio"
CLIPS = ["funasr_paraformer_ex0.wav", "paddlespeech_zh.wav", "thchs30_A2_0.wav"]


def _cpu() -> tuple[float, float]:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


class _CountingRecognizer:
    """Passes through to the real recogniser and records each final result."""

    def __init__(self, inner: Recognizer, results: list[AsrResult]) -> None:
        self._inner, self._results = inner, results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def finish(self) -> AsrResult:
        result = await self._inner.finish()
        self._results.append(result)
        return result


class _CountingFactory:
    def __init__(self, inner: RecognizerFactory) -> None:
        self.inner = inner
        self.results: list[AsrResult] = []

    @property
    def conversation_capacity(self) -> int | None:
        return getattr(self.inner, "conversation_capacity", None)

    def create(self) -> Recognizer:
        return _CountingRecognizer(self.inner.create(), self.results)  # type: ignore[return-value]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asr", choices=["scripted", "whisper"], default="scripted")
    ap.add_argument("--calls", type=int, default=None, help="scripted: 20; whisper: 4")
    args = ap.parse_args()
    calls = args.calls or int(
        os.environ.get("BENCH_CALLS", "20" if args.asr == "scripted" else "4")
    )
    counting: _CountingFactory | None = None
    segments: list[Segment]
    if args.asr == "whisper":
        from speech.asr_engine import shared_recognizer_factory
        from speech.settings import PhoneSettings

        t0 = time.perf_counter()
        counting = _CountingFactory(await shared_recognizer_factory(PhoneSettings()))
        print(f"whisper loaded in {time.perf_counter() - t0:.1f} s; capacity "
              f"{counting.conversation_capacity} calls")  # fmt: skip
        segments = [Silence(0.4)]
        for clip in CLIPS:
            segments += [Clip(AUDIO / clip), Silence(4.0)]
        script: list[str] = []
        ending = "caller"
    else:
        segments = [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS),
                    Silence(3.0), Speech("确认"), Silence(10)]  # fmt: skip
        script = [COMPLAINT, ADDRESS, "确认"]
        ending = "bot"
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pcap = tmp / "caller.pcap"
        write_caller_pcap(pcap, segments, 260)
        async with phone_service(
            script, recognizers=counting, max_calls=calls + 5, no_input_s=30
        ) as service:
            recorder = await RtpRecorder.open()
            scenario = render_call(tmp, pcap, ending, recorder.port, timeout_ms=90_000)
            service.ua.pacer.lateness.clear()
            cpu0, child0 = _cpu()
            t0 = time.perf_counter()
            result = await run_sipp(scenario, service.ua.local_address, tmp, calls=calls,
                                    timeout_s=150)  # fmt: skip
            wall = time.perf_counter() - t0
            cpu1, child1 = _cpu()
            recorder.close()
            lateness = list(service.ua.pacer.lateness)
            finished = service.finished.qsize()
            turned_away = service.turned_away
    if result.returncode != 0:
        print(result.explain(), file=sys.stderr)
    streams: dict[int, list[float]] = defaultdict(list)
    for pkt, at in zip(recorder.packets, recorder.arrivals, strict=True):
        streams[pkt.ssrc].append(at)
    deviation = [
        abs((b - a) - 0.020) for ts in streams.values() for a, b in zip(ts, ts[1:], strict=False)
    ]
    print(
        f"calls: {calls} concurrent via SIPp ({args.asr} recogniser), {finished} completed by "
        f"the bot, {turned_away} turned away, sipp exit {result.returncode}, wall {wall:.1f} s, "
        f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}"
    )
    if counting is not None:
        heard = [r for r in counting.results if r.text]
        decodes = sorted(r.decode_s for r in counting.results)
        print(
            f"decodes: {len(counting.results)} (expected {calls * len(CLIPS)}), "
            f"{len(heard)} with text; decode wait p50 {percentile(decodes, 50):.2f} s, "
            f"p95 {percentile(decodes, 95):.2f} s, max {decodes[-1] if decodes else 0:.2f} s"
        )
    print(
        f"pacer send lateness (n={len(lateness)}): p50 {percentile(lateness, 50) * 1e3:.2f} ms, "
        f"p99 {percentile(lateness, 99) * 1e3:.2f} ms, max {max(lateness) * 1e3:.2f} ms"
    )
    print(
        f"receive inter-arrival jitter |dt-20ms| over {len(streams)} streams "
        f"(n={len(deviation)}): p50 {percentile(deviation, 50) * 1e3:.2f} ms, "
        f"p99 {percentile(deviation, 99) * 1e3:.2f} ms"
    )
    cpu = cpu1 - cpu0
    print(
        f"CPU (this process): {cpu:.2f} s over {wall:.1f} s = {100 * cpu / wall:.1f}% of one core, "
        f"{100 * cpu / wall / calls:.2f}% of a core per call; espeak-ng children "
        f"{child1 - child0:.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
