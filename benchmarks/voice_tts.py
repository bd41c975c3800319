"""TTS speed: espeak-ng per sentence (cold) and cached prompts (memory, disk)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.tts import EspeakEngine, PromptCache, Tts  # noqa: E402

SENTENCES = [
    "您好，这里是12345市民服务热线智能助理。",
    "请问具体地址在哪里？",
    "您反映的问题地址是朝阳区望京西园三区，请确认。",
    "确认请按1，修改请按2。",
    "已为您登记，工单号BJ20240001。",
    "我们会在24小时内联系您。",
    "抱歉，没有听到您的声音，请再说一遍。",
    "感谢来电，再见。",
]


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tts = Tts(EspeakEngine(), PromptCache(512, Path(tmp)))
        cold: list[float] = []
        for rep in range(5):
            for s in SENTENCES:
                tts.cache = PromptCache(512)  # force a miss
                t0 = time.perf_counter()
                await tts.synthesize(f"{s}{rep}")
                cold.append(time.perf_counter() - t0)
        tts = Tts(EspeakEngine(), PromptCache(512, Path(tmp)))
        for s in SENTENCES:
            await tts.synthesize(s)
        mem: list[float] = []
        for _ in range(200):
            for s in SENTENCES:
                t0 = time.perf_counter()
                await tts.synthesize(s)
                mem.append(time.perf_counter() - t0)
        disk: list[float] = []
        for _ in range(5):
            fresh = Tts(EspeakEngine(), PromptCache(512, Path(tmp)))
            for s in SENTENCES:
                t0 = time.perf_counter()
                await fresh.synthesize(s)
                disk.append(time.perf_counter() - t0)

    def ms(xs: list[float], q: float) -> float:
        return sorted(xs)[int(q * (len(xs) - 1))] * 1e3

    print(
        f"espeak-ng cold, per sentence (n={len(cold)}): mean {statistics.mean(cold) * 1e3:.1f} ms, "
        f"p50 {ms(cold, 0.5):.1f} ms, p95 {ms(cold, 0.95):.1f} ms, max {max(cold) * 1e3:.1f} ms"
    )
    print(
        f"cached, memory (n={len(mem)}): p50 {ms(mem, 0.5) * 1e3:.1f} us, p99 {ms(mem, 0.99) * 1e3:.1f} us"
    )
    print(f"cached, disk (n={len(disk)}): p50 {ms(disk, 0.5):.2f} ms, p99 {ms(disk, 0.99):.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
