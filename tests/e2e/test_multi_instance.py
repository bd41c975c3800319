"""Two Rasa servers sharing PostgreSQL (tracker, outbox, desk) and Redis (locks).

One conversation alternates between the servers turn by turn: nothing that a
turn needs may live in one process's memory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.cli.model_cache import ensure_model
from bot.cli.supervisor import Stack
from hotline.config import load_config
from tests.auxil.conversation import answer_until_readback, ticket_id_in
from tests.auxil.postgres import fresh_database
from tests.conftest import DESK_KEY, free_port

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str]]:
    """Rasa URLs of two servers (each with its action server) and the desk URL."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis not reachable on 127.0.0.1:6379: {exc}")
    model = Path(os.environ["JIESU_MODEL"]) if os.environ.get("JIESU_MODEL") else ensure_model()
    with fresh_database() as pg:
        gateway_port = free_port()
        stacks: list[Stack] = []
        try:
            for i in range(2):
                env = {
                    **os.environ,
                    "JIESU_DATA_DIR": str(tmp_path_factory.mktemp(f"multi{i}")),
                    "JIESU_PORT": str(gateway_port),
                    "JIESU_RASA_PORT": str(free_port()),
                    "JIESU_ACTION_PORT": str(free_port()),
                    "JIESU_DESK_API_KEY": DESK_KEY,
                    "JIESU_TRACKER_URL": pg,
                    "JIESU_DB_URL": pg,
                    "JIESU_DESK_DB_URL": pg,
                    "JIESU_LOCK_STORE": "redis",
                    "JIESU_REDIS_HOST": "127.0.0.1",
                    "JIESU_SIP_PORT": "0",
                    "TELEGRAM_BOT_TOKEN": "",
                }
                env.pop("JIESU_OPEN311_URL", None)
                stack = Stack(load_config(env), model, with_gateway=(i == 0), env=env)
                stacks.append(stack)
                stack.start(timeout_s=180)
            yield (
                [f"http://127.0.0.1:{s.config.rasa_port}" for s in stacks],
                f"http://127.0.0.1:{gateway_port}/open311/v2",
            )
        finally:
            for stack in stacks:
                stack.stop()


async def test_one_conversation_across_two_rasa_servers(two_servers) -> None:
    import redis

    rasa_urls, desk_url = two_servers
    rds = redis.Redis(host="127.0.0.1")
    lock_calls_before = sum(v["calls"] for v in rds.info("commandstats").values())
    sender = f"web:multi-{uuid.uuid4().hex[:8]}"
    turn = 0
    async with aiohttp.ClientSession() as http:

        async def say(text: str) -> list[dict]:
            nonlocal turn
            url = rasa_urls[turn % 2]
            turn += 1
            async with http.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            ) as r:
                assert r.status == 200
                return list(await r.json())

        first = await say("楼道里堆满了杂物，消防通道被堵了")
        readback, asked = await answer_until_readback(say, first)
        assert asked[:1] == ["location"] or asked[:1] == ["category"]
        assert "消防通道被堵" in "\n".join(m.get("text", "") for m in readback)
        srid = ticket_id_in(await say("确认"))
        async with http.get(f"{desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}) as r:
            ticket = (await r.json())[0]
    assert turn >= 5
    # Every turn took and released the conversation lock in Redis.
    assert sum(v["calls"] for v in rds.info("commandstats").values()) - lock_calls_before >= turn
    assert ticket["attributes"]["conversation_id"] == sender
    assert ticket["phone"] == "13800138000"
