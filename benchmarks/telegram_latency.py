"""Reply latency: 50 concurrent Telegram chats vs the same conversations over ``/api/chat``.

The Telegram side runs the real channel (PTB long polling) against the fake Bot
API from ``tests/auxil``; a turn's latency is from the update being queued at
the fake server to the turn's last ``sendMessage`` arriving there.  The web side
times ``POST /api/chat`` round trips, against ``--gateway-url`` (the running
gateway) or, by default, the same in-process gateway.  Both use the same Rasa.

Usage::

    # real stack (make run): Rasa on :5005, gateway on :8080
    python benchmarks/telegram_latency.py --rasa-url http://127.0.0.1:5005 \\
        --gateway-url http://127.0.0.1:8080
    # no stack: a fake Rasa answering after N ms
    python benchmarks/telegram_latency.py --fake-rasa-ms 100

Prints p50/p95/max per channel and the p95 ratio (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.telegram.render import CallbackPayloads, render  # noqa: E402
from bot.gateway.rasa_client import BotMessage, RasaClient  # noqa: E402
from tests.auxil.fake_telegram import FakeBotApi  # noqa: E402
from tests.auxil.telegram_fake_rasa import FakeRasa  # noqa: E402
from tests.auxil.telegram_gateway import start_gateway, tg_settings  # noqa: E402

TURNS = ["你好", "小区门口的路灯坏了，晚上很黑", "在朝阳区望京西园三区东门", "是的"]


class CountingRasaClient(RasaClient):
    """Records how many Telegram messages each turn's replies render to."""

    expected: dict[str, asyncio.Queue[int]] = defaultdict(asyncio.Queue)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Forward to Rasa and note the number of messages the chat will receive."""
        replies = await super().send(sender, text, metadata)
        self.expected[sender].put_nowait(len(render(replies, CallbackPayloads())) or 0)
        return replies


def _fake_script(delay_s: float) -> Any:
    async def script(sender: str, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
        await asyncio.sleep(delay_s)  # simulated NLU + policy time
        return [
            {"text": f"收到：{text}"},
            {"text": "请确认：", "buttons": [{"title": "是", "payload": "/affirm"}]},
        ]

    return script


def _summary(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    out = {
        "p50": statistics.median(ordered),
        "p95": p95,
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }
    print(
        f"{name:9s} n={len(samples):4d}  p50={out['p50'] * 1000:7.1f} ms  "
        f"p95={out['p95'] * 1000:7.1f} ms  max={out['max'] * 1000:7.1f} ms"
    )
    return out


async def _web_conversation(
    http: aiohttp.ClientSession, url: str, sender: str, samples: list[float]
) -> None:
    for text in TURNS:
        t0 = time.perf_counter()
        async with http.post(f"{url}/api/chat", json={"sender": sender, "text": text}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"/api/chat answered {resp.status}")
        samples.append(time.perf_counter() - t0)


async def _tg_conversation(fake: FakeBotApi, chat_id: int, samples: list[float]) -> None:
    expected = CountingRasaClient.expected[f"tg:{chat_id}"]
    for text in TURNS:
        t0 = time.perf_counter()
        await fake.user_text(chat_id, text)
        count = await asyncio.wait_for(expected.get(), 120)
        for _ in range(count):
            await fake.next_sent(chat_id, timeout=120)
        samples.append(time.perf_counter() - t0)


async def main(args: argparse.Namespace) -> int:
    """Run both channels and print the figures."""
    fake_rasa: FakeRasa | None = None
    rasa_url = args.rasa_url
    if args.fake_rasa_ms is not None:
        fake_rasa = FakeRasa(_fake_script(args.fake_rasa_ms / 1000))
        await fake_rasa.start()
        rasa_url = fake_rasa.url
    fake_tg = FakeBotApi()
    await fake_tg.start()
    tmp = tempfile.TemporaryDirectory(prefix="jiesu-bench-")
    overrides = {
        "overall_rate_per_s": args.rate_per_s,
        "typing_delay_s": args.typing_delay,
        "chat_burst": 8,
        "chat_rate_per_min": 20,
    }
    gw = await start_gateway(
        lambda _: tg_settings(fake_tg, **overrides),
        rasa_url,
        Path(tmp.name),
        client_cls=CountingRasaClient,
    )
    web_url = args.gateway_url or gw.url
    run = int(time.time()) % 100_000
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.chats * 2)
        ) as http:
            await _web_conversation(http, web_url, f"bench-warm-{run}", [])  # warm-up
            await _tg_conversation(fake_tg, run * 1000 + 999, [])
            web: list[float] = []
            await asyncio.gather(
                *(
                    _web_conversation(http, web_url, f"bench-{run}-{i}", web)
                    for i in range(args.chats)
                )
            )
            tg: list[float] = []
            await asyncio.gather(
                *(_tg_conversation(fake_tg, run * 1000 + i, tg) for i in range(args.chats))
            )
    finally:
        await gw.close()
        await fake_tg.close()
        if fake_rasa is not None:
            await fake_rasa.close()
        tmp.cleanup()

    rasa = f"fake Rasa ({args.fake_rasa_ms} ms)" if fake_rasa else rasa_url
    print(
        f"{args.chats} concurrent chats × {len(TURNS)} turns; Rasa: {rasa}; "
        f"/api/chat: {'in-process gateway' if not args.gateway_url else web_url}; "
        f"Telegram overall rate limit: {args.rate_per_s or 'off'}/s, "
        f"typing delay {args.typing_delay}s"
    )
    w = _summary("/api/chat", web)
    t = _summary("telegram", tg)
    ratio = t["p95"] / w["p95"]
    print(f"p95 ratio telegram/web = {ratio:.2f} (target ≤ 1.30)")
    return 0 if ratio <= 1.3 else 1


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--rasa-url", default=os.environ.get("JIESU_RASA_URL", "http://127.0.0.1:5005"))
    p.add_argument(
        "--gateway-url",
        default=os.environ.get("JIESU_GATEWAY_URL", ""),
        help="gateway serving /api/chat (default: the benchmark's in-process gateway)",
    )
    p.add_argument("--fake-rasa-ms", type=float, default=None, help="use a fake Rasa")
    p.add_argument("--chats", type=int, default=50)
    p.add_argument(
        "--rate-per-s",
        type=float,
        default=0.0,
        help="TELEGRAM_RATE_PER_S for the bot (production default 30; 0 = off)",
    )
    p.add_argument("--typing-delay", type=float, default=0.3, help="TELEGRAM_TYPING_DELAY")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_parse())))
