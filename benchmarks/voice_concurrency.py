"""20 concurrent calls placed by SIPp: RTP pacing jitter and CPU per call.

Each SIPp call replays an espeak-ng complaint (pcap), the bot runs VAD, TTS,
fake Rasa and the scripted recogniser, confirms by voice and hangs up.
Jitter is measured twice: send-side lateness of the shared 20 ms pacer, and
receive-side deviation of packet inter-arrival from 20 ms per stream at an
RTP sink named in SIPp's SDP.  CPU is this process (bot + sink + fake Rasa);
espeak-ng children are reported separately.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from voice_common import percentile, phone_service

from tests.auxil.sip_audio import Silence, Speech, write_caller_pcap
from tests.auxil.sip_recorder import RtpRecorder
from tests.auxil.sip_sipp import render_call, run_sipp

CALLS = int(os.environ.get("BENCH_CALLS", "20"))
COMPLAINT, ADDRESS = "小区楼下烧烤店晚上噪音很大", "望京西园三区"


def _cpu() -> tuple[float, float]:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pcap = tmp / "caller.pcap"
        write_caller_pcap(pcap, [Silence(0.4), Speech(COMPLAINT), Silence(2.5), Speech(ADDRESS),
                                 Silence(3.0), Speech("确认"), Silence(10)], 260)  # fmt: skip
        async with phone_service([COMPLAINT, ADDRESS, "确认"], max_calls=CALLS + 5) as service:
            recorder = await RtpRecorder.open()
            scenario = render_call(tmp, pcap, "bot", recorder.port, timeout_ms=60_000)
            service.ua.pacer.lateness.clear()
            cpu0, child0 = _cpu()
            t0 = time.perf_counter()
            result = await run_sipp(scenario, service.ua.local_address, tmp, calls=CALLS,
                                    timeout_s=90)  # fmt: skip
            wall = time.perf_counter() - t0
            cpu1, child1 = _cpu()
            recorder.close()
            lateness = list(service.ua.pacer.lateness)
            finished = service.finished.qsize()
    if result.returncode != 0:
        print(result.explain(), file=sys.stderr)
    streams: dict[int, list[float]] = defaultdict(list)
    for pkt, at in zip(recorder.packets, recorder.arrivals, strict=True):
        streams[pkt.ssrc].append(at)
    deviation = [
        abs((b - a) - 0.020) for ts in streams.values() for a, b in zip(ts, ts[1:], strict=False)
    ]
    print(
        f"calls: {CALLS} concurrent via SIPp, {finished} completed by the bot, "
        f"sipp exit {result.returncode}, wall {wall:.1f} s, cores {os.cpu_count()}"
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
        f"{100 * cpu / wall / CALLS:.2f}% of a core per call; espeak-ng children "
        f"{child1 - child0:.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
