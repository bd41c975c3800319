"""Fixtures for phone-call tests: a Rasa backend, the phone service, SIPp.

``rasa_backend`` is the seam for the real stack: by default it is the fake
REST server from ``tests/auxil/sip_fake_rasa.py``; a suite that has the real
Rasa + action server can override it with an object that has the same
``client``/``messages()``/``wait_for()`` surface.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.channels.phone.channel import PhoneService
from bot.gateway.rasa_client import RasaClient
from speech.settings import PhoneSettings
from speech.tts import EspeakEngine, PromptCache, Tts
from tests.auxil.sip_fake_rasa import FakeRasa
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory
from tests.auxil.sip_sipp import sipp_available


@dataclasses.dataclass
class RasaBackend:
    """What call-flow tests need from Rasa: a client and a view of what it received."""

    client: RasaClient
    fake: FakeRasa

    def messages(self, sender: str | None = None) -> list[str]:
        """Messages Rasa received."""
        return self.fake.messages(sender)


@pytest_asyncio.fixture(loop_scope="session")
async def rasa_backend() -> AsyncIterator[RasaBackend]:
    """A fake Rasa REST server on 127.0.0.1 (port chosen by the OS)."""
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as session:
        yield RasaBackend(RasaClient(str(server.make_url("")), session, timeout_s=10), fake)
    await server.close()


@pytest.fixture
def phone_settings() -> PhoneSettings:
    """Settings for tests: loopback, OS-chosen ports, quick timers."""
    return PhoneSettings(
        sip_host="127.0.0.1", sip_port=0, no_input_s=1.5,
        tts_speed=320, tts_cache_dir="", max_calls=25,
    )  # fmt: skip


@pytest.fixture(scope="session")
def shared_tts() -> Tts:
    """One TTS (memory cache) for the session: prompts are synthesised once."""
    return Tts(EspeakEngine(speed_wpm=320), PromptCache(512))


PhoneFactory = Callable[..., Awaitable[tuple[PhoneService, ScriptedRecognizerFactory]]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_phone(
    rasa_backend: RasaBackend, phone_settings: PhoneSettings, shared_tts: Tts
) -> AsyncIterator[PhoneFactory]:
    """Start a phone service with a scripted recogniser; stopped after the test."""
    started: list[PhoneService] = []

    async def factory(
        script: list[str], **overrides: Any
    ) -> tuple[PhoneService, ScriptedRecognizerFactory]:
        settings = dataclasses.replace(phone_settings, **overrides)
        recognizers = ScriptedRecognizerFactory(script)
        service = PhoneService(settings, rasa_backend.client, recognizers, shared_tts)
        await service.start()
        started.append(service)
        return service, recognizers

    yield factory
    for service in started:
        await service.stop()


@pytest.fixture
def need_sipp() -> None:
    """Skip when SIPp is not installed."""
    if not sipp_available():
        pytest.skip("sipp not installed (Debian package sip-tester; `make system-deps`)")


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """Where rendered scenarios, pcaps and SIPp logs go."""
    return tmp_path
