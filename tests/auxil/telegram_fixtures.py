"""Fixtures for the Telegram channel: fake Bot API, fake Rasa, a gateway wired to both.

``rasa_url`` is the fake Rasa by default.  The tests that only check the
channel's contract script the fake; ``test_telegram_stack.py`` runs against the
real stack (the ``stack`` session fixture) when it exists.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.voice import Transcriber
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_fake_rasa import FakeRasa
from tests.auxil.telegram_gateway import (
    GatewayFactory,
    RunningGateway,
    VoiceNote,
    start_gateway,
    tg_settings,
)


@pytest_asyncio.fixture(loop_scope="session")
async def fake_tg() -> AsyncIterator[FakeBotApi]:
    """A fresh fake Bot API server."""
    server = FakeBotApi()
    await server.start()
    yield server
    await server.close()


@pytest_asyncio.fixture(loop_scope="session")
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    """A fresh scripted fake Rasa (default script: echo)."""
    server = FakeRasa()
    await server.start()
    yield server
    await server.close()


@pytest_asyncio.fixture(loop_scope="session")
async def gateway_factory(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, tmp_path: Path
) -> AsyncIterator[GatewayFactory]:
    """Start gateways: ``await gateway_factory(transcriber=..., webhook=True, **settings)``."""
    started: list[RunningGateway] = []

    async def make(
        transcriber: Transcriber | None = None,
        webhook: bool = False,
        rasa_url: str | None = None,
        **overrides: object,
    ) -> RunningGateway:
        def settings(url: str) -> TelegramSettings:
            extra = dict(overrides)
            if webhook:
                extra.setdefault("webhook_url", f"{url}/telegram/webhook")
                extra.setdefault("webhook_secret", "s3cret-Token_1")
            return tg_settings(fake_tg, **extra)

        gw = await start_gateway(settings, rasa_url or fake_rasa.url, tmp_path, transcriber)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.close()


@pytest.fixture(scope="session")
def spoken_ogg(tmp_path_factory: pytest.TempPathFactory) -> VoiceNote:
    """A real OGG/Opus voice note: espeak-ng speech encoded by ffmpeg like Telegram's."""
    folder = tmp_path_factory.mktemp("voice")
    wav, ogg = folder / "speech.wav", folder / "speech.oga"
    subprocess.run(
        ["espeak-ng", "-v", "cmn", "-w", str(wav), "小区门口的路灯坏了"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
         "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k", "-f", "ogg", str(ogg)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    return VoiceNote(ogg.read_bytes(), seconds)


@pytest.fixture(scope="session")
def jpeg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real small JPEG made by ffmpeg."""
    path = tmp_path_factory.mktemp("img") / "lamp.jpg"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "color=c=orange:s=320x240", "-frames:v", "1", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()
