"""kill -9 of each process under conversations in flight: time to healthy, complaints lost.

Starts its own stack (temporary data dir; ports from ``--port-base``, default 23100),
supervised as by ``jiesu up``.  Each round, ``--residents`` web residents open a
complaint, then one child (Rasa server, action server, gateway in turn) gets SIGKILL;
the residents keep answering through the outage (a held 202 reply is fetched from
``/api/chat/pending``, a refused connection is retried once ``/healthz`` is back) and
confirm.  A complaint counts as lost unless its ticket exists with the description and
the address the resident gave.  Last, the same Rasa kill with the warm spare switched
off, for the ratio.  Prints one JSON object.

    .venv/bin/python benchmarks/kill_recovery.py [--rounds 2] [--residents 4] [--cold 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli.model_cache import ensure_model  # noqa: E402
from bot.cli.supervisor import Stack, wait_http  # noqa: E402
from hotline.config import load_config  # noqa: E402
from tests.auxil.conversation import answer_until_readback, ticket_id_in  # noqa: E402

DESK_KEY = "bench-desk-key-0123456789"
COMPLAINTS = [
    ("小区门口的路灯坏了，晚上黑漆漆的", "朝阳区望京西园四区3号楼"),
    ("楼下烧烤店油烟太大，窗户都不敢开", "海淀区中关村大街27号"),
    ("马路上有个大坑，车都颠坏了", "丰台区方庄芳城园一区门口"),
    ("共享单车堵住了小区出口", "西城区德胜门外大街5号"),
]


class Resident:
    def __init__(self, http: aiohttp.ClientSession, base: str, name: str, health: str) -> None:
        self.http, self.base, self.sender, self.health = http, base, name, health

    async def say(self, text: str) -> list[dict[str, Any]]:
        """One turn as the chat page does it: held → wait for the answer; no gateway → resend."""
        for _ in range(30):
            try:
                async with self.http.post(
                    f"{self.base}/api/chat", json={"sender": self.sender, "text": text}
                ) as resp:
                    status, body = resp.status, await resp.json()
            except aiohttp.ClientError:
                await asyncio.to_thread(wait_http, self.health, 60)
                continue
            if status == 200:
                return list(body["messages"])
            if status == 202:
                return await self._pending()
            raise AssertionError(f"HTTP {status}: {body}")
        raise AssertionError("gateway never came back")

    async def _pending(self) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                async with self.http.get(
                    f"{self.base}/api/chat/pending", params={"sender": self.sender}
                ) as resp:
                    messages = list((await resp.json())["messages"])
            except aiohttp.ClientError:
                messages = []
            if messages:
                return messages
            await asyncio.sleep(0.3)
        raise AssertionError("held turn never answered")


async def _ticket(http: aiohttp.ClientSession, desk: str, srid: str) -> dict[str, Any] | None:
    async with http.get(f"{desk}/requests/{srid}.json", params={"api_key": DESK_KEY}) as resp:
        if resp.status != 200:
            return None
        rows = await resp.json()
        return dict(rows[0]) if rows else None


async def _complaint(
    r: Resident, opened: asyncio.Event, killed: asyncio.Event, text: str, address: str
) -> str | None:
    """Open, wait for the kill, finish; the ticket id, or None when it went wrong."""
    first = await r.say(text)
    opened.set()
    await killed.wait()
    try:
        asked = await r.say(address)
        readback, _ = await answer_until_readback(r.say, asked)
        return ticket_id_in(await r.say("确认"))
    except AssertionError as exc:
        print(f"  lost: {r.sender}: {exc}", file=sys.stderr)
        del first
        return None


async def _round(
    stack: Stack, http: aiohttp.ClientSession, child: str, n: int, tag: str
) -> tuple[float, int, int]:
    cfg = stack.config
    base, desk = f"http://127.0.0.1:{cfg.port}", f"http://127.0.0.1:{cfg.port}/open311/v2"
    health = f"{base}/healthz"
    killed = asyncio.Event()
    opened = [asyncio.Event() for _ in range(n)]
    residents = [Resident(http, base, f"{tag}-{i}-{time.monotonic_ns()}", health) for i in range(n)]
    tasks = [
        asyncio.create_task(_complaint(r, o, killed, *COMPLAINTS[i % len(COMPLAINTS)]))
        for i, (r, o) in enumerate(zip(residents, opened, strict=True))
    ]
    await asyncio.gather(*(o.wait() for o in opened))
    proc = stack.child(child)
    assert proc.pid is not None
    # Kill a child that has been healthy for stable_s: one killed sooner counts as a crash
    # loop and is restarted after a longer backoff, on purpose.
    await asyncio.to_thread(_wait_stable, proc, stack.stable_s)
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    killed.set()
    await asyncio.sleep(0.3)  # let the watchdog see the death before /healthz is polled
    await asyncio.to_thread(wait_http, health, 120)
    healed = time.monotonic() - t0
    ids = await asyncio.gather(*tasks)
    kept = 0
    for i, srid in enumerate(ids):
        text, address = COMPLAINTS[i % len(COMPLAINTS)]
        ticket = await _ticket(http, desk, srid) if srid else None
        if ticket and text[:6] in ticket["description"] and address[:6] in ticket["address"]:
            kept += 1
    return healed, kept, n


def _wait_stable(proc: Any, stable_s: float, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.up_since is not None and time.monotonic() - proc.up_since >= stable_s:
            return
        time.sleep(0.2)


def _wait_spare_ready(rasa: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while rasa.spare_state != "ready" and time.monotonic() < deadline:
        time.sleep(0.5)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jiesu-kill-") as tmp:
        base = args.port_base
        env = {
            **os.environ,
            "JIESU_DATA_DIR": tmp,
            "JIESU_PORT": str(base),
            "JIESU_RASA_PORT": str(base + 1),
            "JIESU_ACTION_PORT": str(base + 2),
            "JIESU_DESK_API_KEY": DESK_KEY,
            "JIESU_OUTBOX_POLL": "0.5",
            "JIESU_SIP_PORT": "0",
            "TELEGRAM_BOT_TOKEN": "",
            "JIESU_SURVEY_DELAY": "3600",
            # The same four complaints every round: no "is this the same problem?" question.
            "JIESU_DUPLICATE_CHECK": "off",
        }
        for key in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
            env.pop(key, None)
        stack = Stack(load_config(env), ensure_model(), with_gateway=True, env=env)
        stack.start(timeout_s=180)
        heal: dict[str, list[float]] = {"rasa": [], "actions": [], "gateway": [], "rasa_cold": []}
        kept = total = 0
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True)
            ) as http:
                rasa = stack.child("rasa")
                for k in range(args.rounds):
                    for child in ("rasa", "actions", "gateway"):
                        if child == "rasa":  # as in production: the spare is warm
                            await asyncio.to_thread(_wait_spare_ready, rasa)
                        s, ok, n = await _round(stack, http, child, args.residents, f"{child}{k}")
                        heal[child].append(s)
                        kept, total = kept + ok, total + n
                        print(f"  {child}: healthy after {s:.1f}s, {ok}/{n} kept", file=sys.stderr)
                rasa.standby_arg = None  # no spare from here on
                if rasa.spare is not None:
                    os.killpg(rasa.spare.pid, signal.SIGKILL)
                    rasa.spare.wait()
                    rasa.spare = None
                for k in range(args.cold):
                    s, ok, n = await _round(stack, http, "rasa", args.residents, f"cold{k}")
                    heal["rasa_cold"].append(s)
                    kept, total = kept + ok, total + n
                    print(f"  rasa (cold): healthy after {s:.1f}s, {ok}/{n} kept", file=sys.stderr)
        finally:
            stack.stop()
    summary: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (shared)",
        "kills": sum(len(v) for v in heal.values()),
        "complaints": total,
        "complaints_lost": total - kept,
    }
    for name, values in heal.items():
        if values:
            summary[f"heal_s_{name}"] = {
                "median": round(statistics.median(values), 1),
                "max": round(max(values), 1),
                "n": len(values),
            }
    if heal["rasa"] and heal["rasa_cold"]:
        ratio = statistics.median(heal["rasa"]) / statistics.median(heal["rasa_cold"])
        summary["rasa_heal_ratio_spare_vs_cold"] = round(ratio, 2)
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rounds", type=int, default=2, help="kills of each child (warm spare)")
    p.add_argument("--residents", type=int, default=4, help="conversations in flight per kill")
    p.add_argument("--cold", type=int, default=2, help="Rasa kills without the warm spare")
    p.add_argument("--port-base", type=int, default=23100)
    print(json.dumps(asyncio.run(run(p.parse_args())), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
