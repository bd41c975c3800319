"""Hostile requests for the gateway's HTTP endpoints, and a gateway to throw them at.

:class:`GatewayThread` runs the real ``build_app`` gateway (web chat, embedded desk,
survey routes, the Telegram channel in webhook mode against the fake Bot API server,
with the fake Rasa) on its own event loop in a thread, so Hypothesis' synchronous
``@given`` tests and ``benchmarks/fuzz_endpoints.py`` talk to it over a real socket with
:mod:`http.client`.  :data:`ENDPOINTS` says what each endpoint is sent: any bytes, any
JSON, or the expected fields holding any JSON, under any content type.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from hypothesis import strategies as st

from bot.gateway.app import build_app
from hotline.config import load_config
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.survey_gateway import patched_environ
from tests.auxil.telegram_fake_rasa import FakeRasa

__all__ = ["ENDPOINTS", "Endpoint", "GatewayThread", "Request", "clear_error"]

DESK_KEY = "fuzz-desk-key-0123456789"
WEBHOOK_KEY = "fuzz-webhook-key-0123456789"
TG_SECRET = "fuzz-telegram-secret"
TG_PATH = "/telegram/webhook"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


class GatewayThread:
    """The gateway app, the fake Rasa and the fake Bot API on a loop of their own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._fakes: list[Any] = []
        self._conn: http.client.HTTPConnection | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(60)

    async def _start(self) -> None:
        rasa, tg = FakeRasa(), FakeBotApi()
        await rasa.start()
        await tg.start()
        self._fakes = [rasa, tg]
        env = {
            "JIESU_DATA_DIR": str(self.data_dir),
            "JIESU_PORT": str(self.port),
            "JIESU_RASA_URL": rasa.url,
            "JIESU_ACTION_PORT": str(_free_port()),
            "JIESU_SIP_PORT": "0",
            "JIESU_DESK_API_KEY": DESK_KEY,
            "JIESU_WEBHOOK_KEY": WEBHOOK_KEY,
            "JIESU_SURVEY_TICK": "3600",
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_BASE_URL": tg.base_url,
            "TELEGRAM_BASE_FILE_URL": tg.base_file_url,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{self.port}{TG_PATH}",
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "TELEGRAM_WEBHOOK_PATH": TG_PATH,
            # Fuzzing sends thousands of turns from few senders: no throttling here.
            "TELEGRAM_CHAT_BURST": "100000",
            "TELEGRAM_CHAT_RATE_PER_MIN": "1000000",
            "JIESU_WEB_CHAT_BURST": "100000",
            "JIESU_WEB_CHAT_RATE_PER_MIN": "1000000",
        }
        with patched_environ(env):
            app = build_app(load_config(env))
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        from bot.channels.telegram.channel import TELEGRAM_CHANNEL

        await asyncio.wait_for(app[TELEGRAM_CHANNEL].ready.wait(), 30)

    def stop(self) -> None:
        async def _stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            for fake in reversed(self._fakes):
                await fake.close()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def send(self, req: Request, timeout_s: float = 15.0) -> tuple[int, bytes, str]:
        """One request (keep-alive; a new connection after an error): status, body, type."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
            try:
                self._conn.request(req.method, req.path, body=req.body, headers=req.headers)
                resp = self._conn.getresponse()
                out = resp.status, resp.read(), resp.getheader("Content-Type", "")
                if resp.will_close:
                    self._drop()
                return out
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop()  # the server closed an idle keep-alive connection: once more
                if attempt == 2:
                    raise
            except BaseException:
                self._drop()
                raise
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def clear_error(status: int, body: bytes, content_type: str) -> bool:
    """A 4xx that says why, as JSON: ours (``error.message``) or Open311's list."""
    if "json" not in content_type:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if isinstance(data, dict):
        err = data.get("error")
        return isinstance(err, dict) and bool(err.get("message")) and bool(err.get("code"))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return bool(data[0].get("description")) and data[0].get("code") == status
    return False


# -- strategies --------------------------------------------------------------------

_text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "multipart/form-data",
    ]
)
_header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)


def _bodies(fields: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Raw bytes, any JSON, or the expected fields with any (or plausible) values."""
    shaped = st.fixed_dictionaries(
        {}, optional={k: st.one_of(json_values, v) for k, v in fields.items()}
    ).map(lambda d: json.dumps(d, ensure_ascii=False).encode())
    any_json = json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode())
    form = st.dictionaries(st.sampled_from(sorted(fields) or ["x"]), _text, max_size=4).map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "surrogatepass")
    )
    return st.one_of(st.binary(max_size=300), any_json, shaped, form)


def _headers(extra: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {"Content-Type": _content_types}, optional=dict(extra.items())
    ).map(lambda h: {k: v for k, v in h.items() if v})


def _path_param() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("BJ20261202-000001"),
        st.text(st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1, max_size=30),
    ).map(lambda s: "".join(c if c.isalnum() or c in "-_." else "x" for c in s) or "x")


def _query() -> st.SearchStrategy[str]:
    return st.dictionaries(
        st.sampled_from(["api_key", "status", "start_date", "end_date", "service_code", "sender",
                         "from", "to", "page", "x"]),
        st.one_of(st.just(DESK_KEY), _text),
        max_size=4,
    ).map(
        lambda q: "&".join(
            f"{k}={''.join(c if c.isascii() and c.isalnum() else '%25' for c in v)}" for k, v in q.items()
        )
    )  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    name: str
    requests: st.SearchStrategy[Request]


def _post(path: str, fields: dict[str, Any], headers: dict[str, st.SearchStrategy[str]]) -> Any:
    return st.builds(Request, st.just("POST"), st.just(path), _bodies(fields), _headers(headers))


_sender = st.one_of(_text, st.just("fuzz-resident"))
_update = st.fixed_dictionaries(
    {"update_id": st.integers()},
    optional={"message": json_values, "callback_query": json_values, "edited_message": json_values},
)

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST /api/chat",
        _post("/api/chat", {"sender": _sender, "text": _text, "metadata": json_values}, {}),
    ),
    Endpoint(
        "POST telegram webhook",
        st.builds(
            Request,
            st.just("POST"),
            st.just(TG_PATH),
            st.one_of(
                _bodies({"update_id": st.integers()}), _update.map(lambda u: json.dumps(u).encode())
            ),
            _headers(
                {"X-Telegram-Bot-Api-Secret-Token": st.one_of(st.just(TG_SECRET), _header_values)}
            ),
        ),  # fmt: skip
    ),
    Endpoint(
        "POST /api/ticket-events",
        _post(
            "/api/ticket-events",
            {
                "service_request_id": _text,
                "status": _text,
                "event": _text,
                "updated_datetime": _text,
            },
            {
                "X-Jiesu-Key": st.one_of(st.just(WEBHOOK_KEY), _header_values),
                "X-Jiesu-Signature": _header_values,
            },
        ),  # fmt: skip
    ),
    Endpoint(
        "POST /open311/v2/requests.json",
        _post(
            "/open311/v2/requests.json",
            {
                "service_code": _text,
                "description": _text,
                "api_key": st.just(DESK_KEY),
                "lat": json_values,
                "long": json_values,
                "address_string": _text,
            },
            {"X-Api-Key": st.one_of(st.just(DESK_KEY), _header_values)},
        ),  # fmt: skip
    ),
    Endpoint(
        "POST /open311/v2/requests/{id}/status.json",
        st.builds(
            lambda srid, body, headers: Request(
                "POST", f"/open311/v2/requests/{srid}/status.json", body, headers
            ),
            _path_param(),
            _bodies({"api_key": st.just(DESK_KEY), "status": _text, "note": _text}),
            _headers({"X-Api-Key": st.one_of(st.just(DESK_KEY), _header_values)}),
        ),
    ),
    Endpoint(
        "GET desk and staff routes",
        st.builds(
            lambda path, query, headers: Request("GET", f"{path}?{query}", b"", headers),
            st.sampled_from(
                [
                    "/open311/v2/requests.json",
                    "/open311/v2/services.json",
                    "/open311/v2/requests/BJ20261202-000001.json",
                    "/api/survey/stats",
                    "/api/chat/pending",
                ]
            ),
            _query(),
            _headers({"X-Api-Key": st.one_of(st.just(DESK_KEY), _header_values)}),
        ),  # fmt: skip
    ),
    Endpoint(
        "POST /api/survey/run-due",
        _post(
            "/api/survey/run-due",
            {"api_key": st.just(DESK_KEY)},
            {"X-Api-Key": st.one_of(st.just(DESK_KEY), _header_values)},
        ),
    ),  # fmt: skip
]
