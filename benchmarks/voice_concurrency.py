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
from dataclasses import dataclass
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


@dataclass
class Run:
    """What one load run measured."""

    label: str
    calls: int
    finished: int
    turned_away: int
    sipp_exit: int
    wall: float
    lateness: list[float]
    deviation: list[float]
    streams: int
    cpu: float
    child_cpu: float
    results: list[AsrResult]


async def run_load(
    label: str,
    calls: int,
    segments: list[Segment],
    script: list[str],
    ending: str,
    recognizers: _CountingFactory | None,
) -> Run:
    """Place ``calls`` SIPp calls at once against a phone service; collect the figures."""
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pcap = tmp / "caller.pcap"
        seconds = write_caller_pcap(pcap, segments, 260)
        # the caller hangs up once its recording has played (scripted: the bot hangs up)
        hold_ms = int(seconds * 1000) + 1000 if ending == "caller" else 0
        async with phone_service(
            script, recognizers=recognizers, max_calls=calls + 5, no_input_s=30
        ) as service:
            recorder = await RtpRecorder.open()
            scenario = render_call(tmp, pcap, ending, recorder.port, hold_ms, timeout_ms=90_000)
            service.ua.pacer.lateness.clear()
            cpu0, child0 = _cpu()
            t0 = time.perf_counter()
            result = await run_sipp(scenario, service.ua.local_address, tmp, calls=calls,
                                    timeout_s=150)  # fmt: skip
            wall = time.perf_counter() - t0
            finished = 0
            for _ in range(calls - service.turned_away):  # each flow ends after its BYE
                try:
                    await asyncio.wait_for(service.finished.get(), 20)
                except asyncio.TimeoutError:
                    break
                finished += 1
            cpu1, child1 = _cpu()
            recorder.close()
    if result.returncode != 0:
        print(result.explain(), file=sys.stderr)
    streams: dict[int, list[float]] = defaultdict(list)
    for pkt, at in zip(recorder.packets, recorder.arrivals, strict=True):
        streams[pkt.ssrc].append(at)
    deviation = [
        abs((b - a) - 0.020) for ts in streams.values() for a, b in zip(ts, ts[1:], strict=False)
    ]
    return Run(label, calls, finished, service.turned_away, result.returncode, wall,
               list(service.ua.pacer.lateness), deviation, len(streams), cpu1 - cpu0,
               child1 - child0, recognizers.results if recognizers else [])  # fmt: skip


def report(run: Run) -> None:
    """Print one run's figures."""
    print(f"[{run.label}] calls: {run.calls} concurrent via SIPp, {run.finished} completed by the "
          f"bot, {run.turned_away} turned away, sipp exit {run.sipp_exit}, wall {run.wall:.1f} s, "
          f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    if run.results:
        heard = [r for r in run.results if r.text]
        decodes = sorted(r.decode_s for r in run.results)
        print(f"  decodes: {len(run.results)} (expected {run.calls * len(CLIPS)}), {len(heard)} "
              f"with text; decode wait p50 {percentile(decodes, 50):.2f} s, p95 "
              f"{percentile(decodes, 95):.2f} s, max {decodes[-1]:.2f} s")  # fmt: skip
    lat = run.lateness
    print(f"  pacer send lateness (n={len(lat)}): p50 {percentile(lat, 50) * 1e3:.2f} ms, "
          f"p99 {percentile(lat, 99) * 1e3:.2f} ms, max {max(lat) * 1e3:.2f} ms")  # fmt: skip
    dev = run.deviation
    print(f"  receive inter-arrival jitter |dt-20ms| over {run.streams} streams (n={len(dev)}): "
          f"p50 {percentile(dev, 50) * 1e3:.2f} ms, p99 {percentile(dev, 99) * 1e3:.2f} ms")  # fmt: skip
    print(f"  CPU (this process): {run.cpu:.2f} s over {run.wall:.1f} s = "
          f"{100 * run.cpu / run.wall:.1f}% of one core, "
          f"{100 * run.cpu / run.wall / run.calls:.2f}% of a core per call; espeak-ng children "
          f"{run.child_cpu:.2f} s")  # fmt: skip


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asr", choices=["scripted", "whisper"], default="scripted")
    ap.add_argument("--calls", type=int, default=None, help="scripted: 20; whisper: 4")
    args = ap.parse_args()
    default_calls = "20" if args.asr == "scripted" else "4"
    calls = args.calls or int(os.environ.get("BENCH_CALLS", default_calls))
    if args.asr == "scripted":
        segments: list[Segment] = [
            Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS),
            Silence(3.0), Speech("确认"), Silence(10),
        ]  # fmt: skip
        report(await run_load("scripted", calls, segments, [COMPLAINT, ADDRESS, "确认"], "bot",
                              None))  # fmt: skip
        return
    from speech.asr_engine import shared_recognizer_factory
    from speech.settings import PhoneSettings

    t0 = time.perf_counter()
    counting = _CountingFactory(await shared_recognizer_factory(PhoneSettings()))
    print(f"whisper loaded in {time.perf_counter() - t0:.1f} s; capacity "
          f"{counting.conversation_capacity} calls")  # fmt: skip
    segments = [Silence(0.4)]
    for clip in CLIPS:
        segments += [Clip(AUDIO / clip), Silence(4.0)]
    # Baseline in the same run: the same calls and audio, a recogniser that costs nothing.
    base = await run_load("baseline: scripted recogniser", calls, segments, CLIPS * calls,
                          "caller", None)  # fmt: skip
    report(base)
    real = await run_load("whisper base", calls, segments, [], "caller", counting)
    report(real)
    for p in (50, 99):
        b, r = percentile(base.lateness, p), percentile(real.lateness, p)
        print(f"pacer lateness p{p}: whisper {r * 1e3:.2f} ms vs baseline {b * 1e3:.2f} ms "
              f"(x{r / b if b else float('nan'):.1f})")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
