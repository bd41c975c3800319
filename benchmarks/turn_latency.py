"""Turn latency through the gateway vs straight to Rasa, plus start-up times.

Starts its own stack (temporary data dir, free ports), then runs N scripted
conversations (default 200) twice: through ``/api/chat`` and straight to
Rasa's REST channel, in the same run, and prints p50/p95 per turn and the
gateway's overhead ratio.  Also prints the Rasa model load time, the time
until the whole stack is healthy, and the CPU each process spent per turn
(from /proc: unlike wall-clock latency, it hardly moves when other programs
load the machine, so it tells a real change from noise).

    .venv/bin/python benchmarks/turn_latency.py [--conversations 200] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli.model_cache import ensure_model  # noqa: E402
from bot.cli.supervisor import Stack  # noqa: E402
from hotline.config import load_config  # noqa: E402

TURNS = [
    "你好",
    "小区门口的路灯坏了一个星期了，朝阳区望京西园四区3号楼，电话13800138000",
    "不需要保密",
    "地址不对，是望京西园四区5号楼",
    "取消",
    "谢谢",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_ms(pid: int) -> float:
    """User + system CPU milliseconds the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_conversations(
    http: aiohttp.ClientSession, url: str, rasa: bool, n: int, concurrency: int, tag: str
) -> list[float]:
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        sender = f"bench-{tag}-{i}"
        async with sem:
            for text in TURNS:
                body = (
                    {"sender": f"web:{sender}", "message": text}
                    if rasa
                    else {"sender": sender, "text": text}
                )
                t0 = time.perf_counter()
                async with http.post(url, json=body) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


async def measure(gateway: str, rasa: str, n: int, concurrency: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        # Warm-up (first-call caches on both paths).
        await run_conversations(http, f"{rasa}/webhooks/rest/webhook", True, 3, 1, "warm-r")
        await run_conversations(http, f"{gateway}/api/chat", False, 3, 1, "warm-g")
        direct = await run_conversations(
            http, f"{rasa}/webhooks/rest/webhook", True, n, concurrency, "r"
        )
        via = await run_conversations(http, f"{gateway}/api/chat", False, n, concurrency, "g")
    return {
        "turns": len(via),
        "gateway_p50_ms": pct(via, 50),
        "gateway_p95_ms": pct(via, 95),
        "rasa_p50_ms": pct(direct, 50),
        "rasa_p95_ms": pct(direct, 95),
        "overhead_ratio_p50": pct(via, 50) / pct(direct, 50),
        "overhead_ratio_p95": pct(via, 95) / pct(direct, 95),
        "gateway_mean_ms": statistics.fmean(via),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=1)
    args = ap.parse_args()
    model = Path(os.environ["JIESU_MODEL"]) if os.environ.get("JIESU_MODEL") else ensure_model()
    data_dir = Path(tempfile.mkdtemp(prefix="jiesu-bench-"))
    env = {
        **os.environ,
        "JIESU_DATA_DIR": str(data_dir),
        "JIESU_PORT": str(free_port()),
        "JIESU_RASA_PORT": str(free_port()),
        "JIESU_ACTION_PORT": str(free_port()),
        "JIESU_LOG_LEVEL": "WARNING",
        "JIESU_SIP_PORT": "0",
    }
    cfg = load_config(env)
    t0 = time.perf_counter()
    stack = Stack(cfg, model, with_gateway=True, env=env)
    stack.start()
    healthy_s = time.perf_counter() - t0
    pids = {p.name: p.proc.pid for p in stack.processes if p.proc is not None}
    cpu_before = {name: cpu_ms(pid) for name, pid in pids.items()}
    try:
        figures = asyncio.run(
            measure(
                f"http://127.0.0.1:{cfg.port}",
                f"http://127.0.0.1:{cfg.rasa_port}",
                args.conversations,
                args.concurrency,
            )
        )
        warm_up = 3 * len(TURNS)
        for name, pid in pids.items():
            # The gateway sees only the /api/chat half; Rasa and the actions see both.
            turns = (
                figures["turns"] + warm_up
                if name == "gateway"
                else 2 * (figures["turns"] + warm_up)
            )
            figures[f"cpu_ms_per_turn_{name}"] = (cpu_ms(pid) - cpu_before[name]) / turns
    finally:
        stack.stop()
    figures["stack_healthy_s"] = healthy_s
    figures["rasa_server_ready_s"] = stack.ready_after_s["rasa"]
    figures["action_server_ready_s"] = stack.ready_after_s["actions"]
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
