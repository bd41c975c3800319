"""``jiesu up --rasa-workers 2``: two Rasa servers behind the gateway, conversations pinned.

A stack of its own (``Stack(rasa_workers=2)``, what ``jiesu up --rasa-workers 2`` runs):
both servers answer with the token, residents talk through the gateway to a ticket, and
when one server is killed with SIGKILL its conversations go on on the other (the tracker
store is shared) while the supervisor brings it back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Iterator

import aiohttp
import pytest

from bot.cli.supervisor import wait_http
from bot.gateway.rasa_pool import rank_servers
from tests.auxil.conversation import answer_until_readback, ticket_id_in
from tests.conftest import DESK_KEY, RASA_TOKEN, RunningStack, free_port, new_stack, stack_env

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def _free_pair() -> int:
    """A port p with p + 1 free too (the second Rasa server's)."""
    for _ in range(50):
        p = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
            except OSError:
                continue
        return p
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    env = stack_env(
        tmp_path_factory.mktemp("jiesu-workers"),
        {
            "JIESU_RASA_PORT": str(_free_pair()),
            "JIESU_RASA_TOKEN": RASA_TOKEN,
            "JIESU_OUTBOX_POLL": "0.5",
            "JIESU_SURVEY_DELAY": "3600",
            "JIESU_DUPLICATE_CHECK": "off",
        },
    )
    running = new_stack(env, rasa_workers=2, rasa_standby=False)
    running.stack.start(timeout_s=240)
    try:
        yield running
    finally:
        running.stack.stop()


async def _complaint(http: aiohttp.ClientSession, gateway: str, sender: str) -> str:
    async def say(text: str) -> list[dict]:
        async with http.post(f"{gateway}/api/chat", json={"sender": sender, "text": text}) as r:
            assert r.status == 200, await r.text()
            return list((await r.json())["messages"])

    first = await say("小区门口的路灯坏了一个星期了，晚上特别黑")
    _, asked = await answer_until_readback(say, first)
    return ticket_id_in(await say("确认"))


async def test_two_servers_serve_and_one_can_die(two_servers: RunningStack) -> None:
    st = two_servers.stack
    assert len(st.rasa_urls) == 2 and st.rasa_urls[1].endswith(
        str(two_servers.config.rasa_port + 1)
    )
    for url in st.rasa_urls:  # both up, both behind the token
        wait_http(f"{url}/status?token={RASA_TOKEN}", 10)
    stamp = time.monotonic_ns() % 10**8
    by_server: dict[int, list[str]] = {0: [], 1: []}
    for i in range(200):
        s = f"workers-{i}-{stamp}"
        by_server[rank_servers(f"web:{s}", st.rasa_urls)[0]].append(s)
    # before the kill: one resident pinned to each server, one more on the second;
    # after it: the same again, so two residents of the dead server move
    a, b = by_server[0][:2], by_server[1][:4]
    senders = [a[0], b[0], b[1], a[1], b[2], b[3]]
    async with aiohttp.ClientSession() as http:
        first = await asyncio.gather(
            *(_complaint(http, two_servers.gateway_url, s) for s in senders[:3])
        )
        second = st.child("rasa2")
        assert second.pid is not None
        os.kill(second.pid, signal.SIGKILL)  # the second server dies: its residents move
        rest = [await _complaint(http, two_servers.gateway_url, s) for s in senders[3:]]
        tickets = [*first, *rest]
        assert len(set(tickets)) == len(senders)
        for srid in tickets:
            async with http.get(
                f"{two_servers.desk_url}/requests/{srid}.json", params={"api_key": DESK_KEY}
            ) as resp:
                assert resp.status == 200
    wait_http(f"{st.rasa_urls[1]}/status?token={RASA_TOKEN}", 60)  # and it came back
    assert st.child("rasa2").restarts >= 1
