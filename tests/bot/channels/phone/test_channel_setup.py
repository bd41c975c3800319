"""`bot.channels.phone.channel.setup(app)`: disabled, missing model, and a real start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from bot.channels.phone.channel import PHONE, PhoneService, setup
from bot.gateway.app_keys import RASA_CLIENT
from bot.gateway.rasa_client import RasaClient

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def _run_app(env: dict[str, str]) -> PhoneService | None:
    app = web.Application()
    session = ClientSession()
    app[RASA_CLIENT] = RasaClient("http://127.0.0.1:9", session)
    setup(app, env)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()  # runs cleanup_ctx startup
    holder = app[PHONE]
    service = holder.service
    await server.close()
    await session.close()
    return service


async def test_port_zero_disables_phone() -> None:
    assert await _run_app({"JIESU_SIP_PORT": "0"}) is None


async def test_missing_model_disables_phone_with_the_fix_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"JIESU_SIP_PORT": "5080", "JIESU_SIP_HOST": "127.0.0.1", "JIESU_ASR_ENGINE": "vosk",
           "JIESU_VOSK_MODEL": str(tmp_path / "none")}  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="jiesu.phone"):
        assert await _run_app(env) is None
    assert "jiesu speech fetch-model" in caplog.text


async def test_missing_whisper_model_names_make_venv(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"JIESU_SIP_PORT": "5080", "JIESU_SIP_HOST": "127.0.0.1", "JIESU_ASR_ENGINE": "whisper",
           "JIESU_WHISPER_MODEL": str(tmp_path / "no-whisper")}  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="jiesu.phone"):
        assert await _run_app(env) is None
    assert "make venv" in caplog.text
