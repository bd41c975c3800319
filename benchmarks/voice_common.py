"""Shared set-up for the voice benchmarks: a phone service on loopback with a
fake Rasa REST server and the scripted recogniser (the tests' only stand-in).
Run the benchmarks from the repository root: ``python benchmarks/voice_latency.py``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from bot.channel_phone import PhoneService  # noqa: E402
from bot.rasa_client import RasaClient  # noqa: E402
from speech.settings import PhoneSettings  # noqa: E402
from speech.tts import EspeakEngine, PromptCache, Tts  # noqa: E402
from tests.auxil.sip_fake_rasa import FakeRasa  # noqa: E402
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory  # noqa: E402

__all__ = ["percentile", "phone_service"]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


@asynccontextmanager
async def phone_service(script: list[str], **overrides: Any) -> AsyncIterator[PhoneService]:
    """A started phone service on 127.0.0.1 (OS-chosen port)."""
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = PhoneSettings(sip_host="127.0.0.1", sip_port=0, tts_cache_dir="", **overrides)
    async with ClientSession() as session:
        rasa = RasaClient(str(server.make_url("")), session)
        tts = Tts(EspeakEngine(settings.tts_voice, settings.tts_speed), PromptCache(512))
        service = PhoneService(settings, rasa, ScriptedRecognizerFactory(script), tts)
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
    await server.close()
