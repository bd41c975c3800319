"""Shared set-up for the voice benchmarks: a phone service on loopback with the
scripted recogniser (the tests' only stand-in), talking either to a fake Rasa
REST server or to the real stack (Rasa server + action server + gateway with
the embedded desk, started by ``bot.cli.supervisor.Stack`` as ``jiesu up`` and the
test suite do).  Run the benchmarks from the repository root:
``python benchmarks/voice_latency.py``.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from bot.channels.phone.channel import PhoneService  # noqa: E402
from bot.cli.supervisor import Stack  # noqa: E402
from bot.gateway.rasa_client import RasaClient  # noqa: E402
from hotline.config import Config, load_config  # noqa: E402
from speech.asr import RecognizerFactory  # noqa: E402
from speech.settings import PhoneSettings  # noqa: E402
from speech.tts import EspeakEngine, PromptCache, Tts  # noqa: E402
from tests.auxil.sip_fake_rasa import FakeRasa  # noqa: E402
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory  # noqa: E402

__all__ = ["BENCH_DESK_KEY", "percentile", "phone_service", "real_stack"]

BENCH_DESK_KEY = "bench-desk-key"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


@asynccontextmanager
async def phone_service(
    script: list[str], recognizers: RecognizerFactory | None = None, **overrides: Any
) -> AsyncIterator[PhoneService]:
    """A started phone service on 127.0.0.1 (OS-chosen port), fake Rasa.

    The recogniser is the scripted one (``script``) unless ``recognizers`` is given.
    """
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    # Every simulated caller comes from 127.0.0.1: no per-source INVITE limit here.
    overrides.setdefault("invite_burst", 100_000)
    settings = PhoneSettings(sip_host="127.0.0.1", sip_port=0, tts_cache_dir="", **overrides)
    async with ClientSession() as session:
        rasa = RasaClient(str(server.make_url("")), session)
        tts = Tts(EspeakEngine(settings.tts_voice, settings.tts_speed), PromptCache(512))
        recs = recognizers or ScriptedRecognizerFactory(script)
        service = PhoneService(settings, rasa, recs, tts)
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
    await server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def real_stack(timeout_s: float = 300.0) -> Iterator[Config]:
    """Rasa server, action server and gateway (embedded desk, outbox worker) as children.

    Same wiring as ``tests/conftest.py``'s ``stack`` fixture: loopback ports chosen
    here, a throw-away data dir, the gateway's own phone channel off (the benchmark
    runs its phone service in-process so both ends share one clock).  The model is
    the fingerprint-cached one; it is trained first if its inputs changed.
    """
    from bot.cli.model_cache import ensure_model

    with tempfile.TemporaryDirectory(prefix="jiesu-voice-bench-") as data_dir:
        env = {
            **os.environ, "JIESU_DATA_DIR": data_dir, "JIESU_PORT": str(_free_port()),
            "JIESU_RASA_PORT": str(_free_port()), "JIESU_ACTION_PORT": str(_free_port()),
            "JIESU_DESK_API_KEY": BENCH_DESK_KEY, "JIESU_SIP_PORT": "0",
            "TELEGRAM_BOT_TOKEN": "", "JIESU_OUTBOX_POLL": "0.5", "JIESU_SURVEY_TICK": "30",
        }  # fmt: skip
        for key in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
            env.pop(key, None)
        cfg = load_config(env)
        stack = Stack(cfg, ensure_model(), with_gateway=True, env=env)
        stack.start(timeout_s=timeout_s)
        try:
            yield cfg
        finally:
            stack.stop()
