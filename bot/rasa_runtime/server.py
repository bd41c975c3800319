"""Run Rasa's own command line with start-up fixes for turn latency.

Fixes for turn latency, all found with py-spy on a running stack:

- Rasa 3.6 checks every action-server response with ``jsonschema.validate``,
  which re-validates the *schema itself* on every call: more than half of the
  server's CPU per turn.  And each event is tried against all 23 branches of the
  schema's ``oneOf``.  Every branch pins ``event`` to one constant, so exactly the
  branch named by the event's ``event`` value can match: we build one validator
  per event type once and dispatch on that value — the same checks, a twentieth
  of the work.
- Rasa opens a new HTTP client session, and so a new TCP connection, for every
  action-server call (2–3 per form turn).  Calls to the action server share one
  keep-alive session per event loop instead.
- The SQLite tracker store commits with SQLite's defaults (rollback journal,
  fsync on every commit): about a third of the remaining time.  SQLite
  connections get WAL and ``synchronous=NORMAL``, as our own stores do
  (``tickets/db.py``); a process crash loses nothing committed.

And one for model load: the intent classifier is stored with skops, whose
import walks every loaded module for each trusted type name.  Imported after
TensorFlow, that took 8–20 s of the model load; imported first, about 2 s.

Usage: ``python -m bot.rasa_runtime.server run --enable-api ...`` (any ``rasa`` arguments).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = [
    "STANDBY_FLAG",
    "install_cached_action_result_validator",
    "install_pooled_action_session",
    "install_sqlite_pragmas",
    "validate_action_result",
    "main",
]


#: First argument of a warm spare (see :func:`main`).
STANDBY_FLAG = "--standby"


@functools.lru_cache(maxsize=1)
def _validators() -> tuple[Any, dict[str, Any]]:
    """(validator of the response without its events, {event type: event validator})."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    spec = RemoteAction.action_response_format_spec()
    outer = {**spec, "properties": {**spec["properties"], "events": {"type": "array"}}}
    base = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    by_type: dict[str, Any] = {}
    for branch in EVENT_SCHEMA["oneOf"]:
        schema = {**base, "allOf": [branch]}
        by_type[branch["properties"]["event"]["const"]] = validator_for(schema)(schema)
    return validator_for(outer)(outer), by_type


def validate_action_result(result: Any) -> None:
    """Raise ``jsonschema.ValidationError`` exactly when Rasa's own check would."""
    from jsonschema import ValidationError

    outer, by_type = _validators()
    outer.validate(result)
    for event in result.get("events") or []:
        kind = event.get("event") if isinstance(event, dict) else None
        validator = by_type.get(kind) if isinstance(kind, str) else None
        if validator is None:
            raise ValidationError(f"{event!r} is not valid under any of the given schemas")
        validator.validate(event)


def install_cached_action_result_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a pre-built validator."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validate_action_result(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def install_sqlite_pragmas() -> None:
    """WAL and ``synchronous=NORMAL`` on every SQLite connection this process opens."""
    import sqlite3

    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    if not sa.event.contains(Engine, "connect", _pragmas):
        sa.event.listen(Engine, "connect", _pragmas)


# The action server (Sanic) closes idle connections after 5 s; we let go of ours
# sooner, so a request never goes out on a connection the server is closing.
_KEEPALIVE_S = 2.0
_sessions: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def install_pooled_action_session() -> None:
    """``EndpointConfig.request`` on one keep-alive session per loop and endpoint.

    Same request, headers, parameters, errors and JSON handling as Rasa's; only the
    session is not created and torn down around every single call.
    """
    import asyncio
    import ssl

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils import endpoints
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

    async def request(
        self: EndpointConfig,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(kwargs.pop("headers", None) or {})
        if self.headers:
            headers.update(self.headers)
        sslcontext = None
        if self.cafile:
            try:
                sslcontext = ssl.create_default_context(cafile=self.cafile)
            except FileNotFoundError as e:
                raise endpoints.FileNotFoundException(
                    f"Failed to find certificate file, '{self.cafile}' does not exist."
                ) from e
        session = _session_for(self)
        async with session.request(
            method,
            concat_url(self.url, subpath),
            headers=headers,
            params=self.combine_parameters(kwargs),
            compress=compress,
            ssl=sslcontext,
            **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(
                    response.status, response.reason, await response.content.read()
                )
            try:
                return await response.json()
            except aiohttp.ContentTypeError:
                return None

    def _session_for(config: EndpointConfig) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        auth = config.basic_auth or {}
        key = (
            id(loop),
            tuple(sorted((config.headers or {}).items())),
            auth.get("username"),
            auth.get("password"),
        )
        known = _sessions.get(key)
        if known is not None and known[0] is loop and not known[1].closed:
            return known[1]  # type: ignore[no-any-return]
        session = aiohttp.ClientSession(
            headers=config.headers,
            auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            # limit=0: no cap on parallel calls, as with Rasa's session per call.
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=_KEEPALIVE_S),
        )
        _sessions[key] = (loop, session)
        return session

    EndpointConfig.request = request  # type: ignore[method-assign]
    _close_sessions_when_rasa_stops()


async def close_pooled_sessions(*_: Any) -> None:
    """Close the shared sessions of the running loop (Sanic ``after_server_stop``)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for key, (owner, session) in list(_sessions.items()):
        if owner is loop:
            del _sessions[key]
            await session.close()


def _close_sessions_when_rasa_stops() -> None:
    """Register :func:`close_pooled_sessions` on the Sanic app Rasa builds."""
    from rasa.core import run

    configure = run.configure_app
    if getattr(configure, "_jiesu_closes_sessions", False):
        return

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = configure(*args, **kwargs)
        app.register_listener(close_pooled_sessions, "after_server_stop")
        return app

    configure_app._jiesu_closes_sessions = True  # type: ignore[attr-defined]
    run.configure_app = configure_app


def _preload() -> None:
    """Import what ``rasa run`` imports before it binds its port: most of its start-up.

    Measured on the 2-core test machine, a restarted server spent ~11 s importing
    (TensorFlow, Sanic, the recipe's components) and ~5 s loading the model.
    """
    import rasa.core.agent  # noqa: F401
    import rasa.core.run  # noqa: F401
    import rasa.engine.recipes.default_recipe  # noqa: F401 — every default component
    import rasa.server  # noqa: F401

    import nlu.components.category_classifier  # noqa: F401
    import nlu.components.entity_extractor  # noqa: F401
    import nlu.components.intent_guard  # noqa: F401
    import nlu.components.text_normalizer  # noqa: F401


def _wait_for_go() -> bool:
    """Say "ready" (``JIESU_STANDBY_READY_FILE`` gets our pid), then block until the
    supervisor writes ``go`` on stdin; False on EOF (the supervisor went away)."""
    import os
    import sys

    ready = os.environ.get("JIESU_STANDBY_READY_FILE")
    if ready:
        tmp = f"{ready}.{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(str(os.getpid()))
        os.replace(tmp, ready)
    return sys.stdin.readline().strip() == "go"


def main() -> None:
    """Rasa's command line, patched; ``--standby`` first preloads and waits for ``go``.

    A standby server is the supervisor's warm spare (``bot/cli/supervisor.py``): when
    the running server dies, the spare is told ``go`` on stdin and only has to load the
    model and bind the port — about a third of a cold start.
    """
    import sys

    standby = STANDBY_FLAG in sys.argv[1:2]
    if standby:
        del sys.argv[1]
    import skops.io  # noqa: F401 — before Rasa pulls in TensorFlow (see module docstring)

    from tickets.log_privacy import install_masked_log_records

    install_masked_log_records()  # tracebacks of failed actions carry residents' numbers

    install_cached_action_result_validator()
    install_pooled_action_session()
    install_sqlite_pragmas()
    from rasa.__main__ import main as rasa_main

    if standby:
        _preload()
        if not _wait_for_go():
            return
    rasa_main()


if __name__ == "__main__":
    main()
