"""The action server warms its parsers before it takes requests."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_warm_up_runs_in_a_thread_before_the_server_starts() -> None:
    from sanic import Sanic

    from actions.action_server import on_action_server_start

    ran: list[str] = []

    def warm() -> None:
        ran.append(threading.current_thread().name)

    assert not on_action_server_start(warm)  # no action server in this process
    app = Sanic("rasa_sdk")
    try:
        assert on_action_server_start(warm)
        app.signal_router.finalize()
        await app.dispatch("server.init.before", context={"app": app, "loop": None})
        assert len(ran) == 1 and ran[0] != threading.main_thread().name
    finally:
        Sanic._app_registry.pop("rasa_sdk", None)


def test_the_parsers_warm_up_without_error() -> None:
    from actions.slot_values import value_for_field, warm_up

    warm_up()
    assert value_for_field("complaint_location", "朝阳区望京西园三区").slots
