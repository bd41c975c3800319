"""The cached action-result validator checks exactly what Rasa's own check does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.rasa_runtime.server import install_cached_action_result_validator

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
MORE_GOOD = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "followup", "name": "action_x"}, {"event": "active_loop", "name": None}]},
    {"events": [{"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}}]},
    {"events": [{"event": "bot", "text": "hi", "timestamp": None, "metadata": {}}]},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": [1]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": 3}]},
    {"events": ["slot"]},
    {"events": [{"event": "slot", "name": "x"}]},  # a slot event needs its value
    {"events": [{"event": "slot", "name": 5, "value": 1}]},
    {"events": [{"event": "user", "parse_data": {"intent": {"confidence": "high"}}}]},
    {"events": [{"event": "entities", "entities": [{"entity": "x"}]}]},
    {"events": [{"event": "bot", "timestamp": "noon"}]},
    [],
]


def _rasa_verdict(result: dict) -> bool:
    try:
        validate(result, RemoteAction.action_response_format_spec())
        return True
    except ValidationError:
        return False


def test_same_verdicts_as_rasa() -> None:
    original = RemoteAction._validate_action_result
    install_cached_action_result_validator()
    try:
        action = RemoteAction.__new__(RemoteAction)
        assert action._validate_action_result(GOOD) is True
        for good in MORE_GOOD:
            assert _rasa_verdict(good) is True, good
            assert action._validate_action_result(good) is True
        for bad in BAD:
            assert _rasa_verdict(bad) is False, bad
            with pytest.raises(ValidationError, match="Failed to validate Action server"):
                action._validate_action_result(bad)
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]


@pytest.mark.asyncio(loop_scope="session")
async def test_pooled_action_session_keeps_one_connection() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from bot.rasa_runtime.server import (
        _sessions,
        close_pooled_sessions,
        install_pooled_action_session,
    )

    peers: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.json()
        if body.get("fail"):
            return web.json_response({"error": "boom"}, status=500)
        return web.json_response({"events": [], "echo": body, "token": request.query.get("token")})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    original = EndpointConfig.request
    install_pooled_action_session()
    try:
        async with TestServer(app, host="127.0.0.1") as server:
            endpoint = EndpointConfig(url=str(server.make_url("/webhook")), token="t0k")
            first = await endpoint.request(json={"next_action": "a"}, method="post")
            second = await endpoint.request(json={"next_action": "b"}, method="post")
            assert first["echo"] == {"next_action": "a"} and second["echo"]["next_action"] == "b"
            assert first["token"] == "t0k"
            assert peers[0] == peers[1]  # the same TCP connection, kept alive
            with pytest.raises(ClientResponseError) as info:
                await endpoint.request(json={"fail": True}, method="post")
            assert info.value.status == 500
            sessions = [session for _, session in _sessions.values()]
            assert len(sessions) == 1
            await close_pooled_sessions()
            assert sessions[0].closed and not _sessions
    finally:
        EndpointConfig.request = original  # type: ignore[method-assign]
