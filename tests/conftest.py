"""Shared fixtures: the real stack (Rasa server, action server, gateway) once per run.

The model is trained (or taken from the fingerprint cache) once; every
end-to-end test talks HTTP to real processes on loopback ports chosen here.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli.supervisor import Stack
from hotline.config import Config, load_config
from tests.auxil.log_scan import leaks_in

pytest_plugins = ["tests.auxil.telegram_fixtures", "tests.auxil.phone_fixtures"]

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
DESK_KEY = "test-desk-key"
# Rasa's --auth-token in the test stack (its HTTP API, e.g. /conversations/…/tracker, needs it).
RASA_TOKEN = "test-rasa-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningStack:
    """Handles for tests: URLs, config, and process control."""

    stack: Stack
    config: Config
    env: dict[str, str]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.config.rasa_port}"

    @property
    def rasa_token(self) -> str:
        return self.stack.rasa_token

    @property
    def desk_url(self) -> str:
        return f"{self.gateway_url}/open311/v2"

    def restart_gateway(self) -> None:
        self.stack.stop_gateway()
        self.stack.start_gateway()


def stack_env(data_dir: Path, settings: dict[str, str]) -> dict[str, str]:
    """The environment of a test stack: this process's, a data dir, free loopback ports, the
    desk key, no phone, no Telegram, embedded backends (no URL of a real one); ``settings``
    over all that."""
    env = {
        **os.environ,
        "JIESU_DATA_DIR": str(data_dir),
        "JIESU_PORT": str(free_port()),
        "JIESU_RASA_PORT": str(free_port()),
        "JIESU_ACTION_PORT": str(free_port()),
        "JIESU_DESK_API_KEY": DESK_KEY,
        "JIESU_SIP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": "",
    }
    for key in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
        env.pop(key, None)
    env.update(settings)
    return env


def new_stack(env: dict[str, str], **stack_options: Any) -> RunningStack:
    """A stack (not started) on ``env``, with the run's model (``JIESU_MODEL`` or trained once)."""
    from bot.cli.model_cache import ensure_model

    cfg = load_config(env)
    model = Path(os.environ["JIESU_MODEL"]) if os.environ.get("JIESU_MODEL") else ensure_model()
    return RunningStack(Stack(cfg, model, with_gateway=True, env=env, **stack_options), cfg, env)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole stack on embedded defaults, in a temporary data dir."""
    data_dir = tmp_path_factory.mktemp("jiesu-data")
    env = stack_env(
        data_dir,
        {
            "JIESU_RASA_TOKEN": RASA_TOKEN,
            "JIESU_OUTBOX_POLL": "0.5",
            "JIESU_OUTBOX_MAX_BACKOFF": "1",
            "JIESU_DELIVERY_TIMEOUT": "3",
            "JIESU_SURVEY_DELAY": "0",
            "JIESU_SURVEY_HOURS": "00:00-24:00",
            "JIESU_SURVEY_TICK": "0.5",
            "JIESU_WEBHOOK_KEY": "test-webhook-key",
            # The session's tests file the same complaint again and again; the duplicate
            # step has its own stack (tests/e2e/test_duplicates.py).
            "JIESU_DUPLICATE_CHECK": "off",
        },
    )
    running = new_stack(env)
    running.stack.start(timeout_s=180)
    try:
        yield running
    finally:
        running.stack.stop()
    # After the run: no log the stack wrote may show a resident's number in clear.
    leaks = leaks_in(data_dir / "logs")
    assert not leaks, f"phone/ID numbers in clear in the stack's logs: {leaks[:10]}"


class ChatSession:
    """One resident talking to the gateway's /api/chat."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, sender: str | None = None):
        self.http = http
        self.base_url = base_url
        self.sender = sender or f"test-{uuid.uuid4().hex[:10]}"
        self.transcript: list[tuple[str, str]] = []

    async def say(self, text: str, metadata: dict[str, object] | None = None) -> list[dict]:
        async with self.http.post(
            f"{self.base_url}/api/chat",
            json={"sender": self.sender, "text": text, "metadata": metadata or {}},
        ) as resp:
            body = await resp.json()
            assert resp.status == 200, body
        messages = body["messages"]
        self.transcript.append(("user", text))
        for m in messages:
            self.transcript.append(("bot", m.get("text", "")))
        return messages

    @staticmethod
    def text_of(messages: list[dict]) -> str:
        return "\n".join(m.get("text", "") for m in messages)

    @staticmethod
    def buttons_of(messages: list[dict]) -> list[str]:
        return [b["title"] for m in messages for b in m.get("buttons", [])]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def chat(stack: RunningStack, http: aiohttp.ClientSession) -> ChatSession:
    return ChatSession(http, stack.gateway_url)
