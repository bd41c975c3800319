"""A fake Telegram Bot API server that speaks the real HTTP API over a loopback socket.

python-telegram-bot is pointed at it with ``base_url``/``base_file_url``; the
test plays the resident by queueing updates (:meth:`FakeBotApi.user_text`,
:meth:`FakeBotApi.user_voice`, …) and awaits what the bot does
(:meth:`FakeBotApi.next_sent`, :meth:`FakeBotApi.wait_call`) — no sleeping.

Implemented methods: getMe, getUpdates (long poll with ``timeout`` and
``offset``), sendMessage, editMessageReplyMarkup, answerCallbackQuery,
sendChatAction, getFile (+ ``/file/bot<token>/<path>`` downloads),
setMyCommands, getMyCommands, setWebhook, deleteWebhook, getWebhookInfo.
While a webhook is set, updates are POSTed to it with the secret header (and
getUpdates answers 409, as Telegram does).  :meth:`FakeBotApi.fail_next`
makes the next calls of a method answer 429 with ``retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["BOT_ID", "Call", "FakeBotApi", "TOKEN"]

TOKEN = "123456789:TEST-fake-token_for-jiesu"
BOT_ID = 123456789
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "scope",
    "entities",
}
Json = dict[str, Any]


@dataclass
class Call:
    """One Bot API request as the server saw it."""

    method: str
    params: Json
    at: float = field(default_factory=time.monotonic)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _err(code: int, description: str, **parameters: Any) -> web.Response:
    body: Json = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


class FakeBotApi:
    """An in-process Bot API server on ``127.0.0.1`` and a dynamic port."""

    def __init__(self, token: str = TOKEN) -> None:
        """Serve a bot with ``token`` (requests with another token get 401)."""
        self.token = token
        self.port = 0
        self.calls: list[Call] = []
        self.commands: list[Json] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_statuses: asyncio.Queue[int] = asyncio.Queue()
        self.callback_answers: dict[str, Json] = {}
        self.messages: dict[tuple[int, int], Json] = {}
        self.sent: asyncio.Queue[Json] = asyncio.Queue()
        self._sent_by_chat: dict[int, asyncio.Queue[Json]] = defaultdict(asyncio.Queue)
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._msg_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[Json, bytes]] = {}
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._stalls: dict[str, int] = defaultdict(int)
        self._never = asyncio.Event()
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Value for ``TELEGRAM_BASE_URL`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``TELEGRAM_BASE_FILE_URL``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Wake long polls, stop webhook deliveries and stop listening."""
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        for task in list(self._deliveries):
            task.cancel()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- knobs and observation ----------------------------------------------------

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        self._failures[method].extend([retry_after] * times)

    def stall_next(self, method: str, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``method`` (a message is delivered) but
        never answer them: the client times out not knowing whether they arrived."""
        self._stalls[method] += times

    def calls_of(self, method: str) -> list[Call]:
        """Every call of ``method`` so far, in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_call(
        self,
        method: str,
        predicate: Callable[[Json], bool] = lambda _: True,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Call:
        """The first call of ``method`` (from index ``after``) whose params match."""

        async def find() -> Call:
            async with self._changed:
                while True:
                    for call in self.calls[after:]:
                        if call.method == method and predicate(call.params):
                            return call
                    await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    async def next_sent(self, chat_id: int, timeout: float = 10.0) -> Json:
        """The next message the bot sent to ``chat_id`` (``sendMessage`` result)."""
        return await asyncio.wait_for(self._sent_by_chat[chat_id].get(), timeout)

    def pending_sent(self, chat_id: int) -> int:
        """How many sent messages of ``chat_id`` were not taken by :meth:`next_sent` yet."""
        return self._sent_by_chat[chat_id].qsize()

    # ---- the resident's side --------------------------------------------------------

    def _user(self, user_id: int) -> Json:
        return {"id": user_id, "is_bot": False, "first_name": "居民", "language_code": "zh-hans"}

    def _message(self, chat_id: int, user_id: int | None, **content: Any) -> Json:
        uid = user_id if user_id is not None else abs(chat_id)
        chat: Json = (
            {"id": chat_id, "type": "private", "first_name": "居民"}
            if chat_id > 0
            else {"id": chat_id, "type": "group", "title": "小区业主群"}
        )
        return {
            "message_id": next(self._msg_ids[chat_id]),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(uid),
            **content,
        }

    async def push_update(self, content: Json) -> Json:
        """Queue one update (``content`` is e.g. ``{"message": {...}}``); return it."""
        if self.webhook_url:
            update = {"update_id": next(self._update_ids), **content}
            task = asyncio.create_task(self._deliver(update))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
            return update
        async with self._changed:  # ids are assigned in queue order, as getUpdates needs
            update = {"update_id": next(self._update_ids), **content}
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def user_text(self, chat_id: int, text: str, user_id: int | None = None) -> Json:
        """The resident sends ``text`` (``/commands`` get a ``bot_command`` entity)."""
        extra: Json = {}
        match = _COMMAND_RE.match(text)
        if match:
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        return await self.push_update(
            {"message": self._message(chat_id, user_id, text=text, **extra)}
        )

    async def user_location(self, chat_id: int, lat: float, long: float) -> Json:
        """The resident shares a location."""
        loc = {"latitude": lat, "longitude": long}
        return await self.push_update({"message": self._message(chat_id, None, location=loc)})

    async def user_contact(
        self, chat_id: int, phone: str, contact_user_id: int | None = None
    ) -> Json:
        """The resident shares a contact (their own unless ``contact_user_id`` differs)."""
        contact = {
            "phone_number": phone,
            "first_name": "居民",
            "user_id": contact_user_id if contact_user_id is not None else chat_id,
        }
        return await self.push_update({"message": self._message(chat_id, None, contact=contact)})

    def add_file(self, data: bytes, folder: str, ext: str) -> Json:
        """Store a file as Telegram would; return its ``File`` object (with ``file_path``)."""
        n = next(self._file_ids)
        meta: Json = {
            "file_id": f"FILE-{n}-{folder}",
            "file_unique_id": f"U{n:06d}",
            "file_size": len(data),
            "file_path": f"{folder}/file_{n}.{ext}",
        }
        self._files[meta["file_id"]] = (meta, data)
        return meta

    async def user_photo(self, chat_id: int, jpeg: bytes, caption: str | None = None) -> Json:
        """The resident sends a photo (two sizes, the larger is the full file)."""
        small = self.add_file(jpeg[: max(1, len(jpeg) // 4)], "photos", "jpg")
        big = self.add_file(jpeg, "photos", "jpg")
        sizes = [
            {**{k: small[k] for k in ("file_id", "file_unique_id", "file_size")},
             "width": 90, "height": 90},
            {**{k: big[k] for k in ("file_id", "file_unique_id", "file_size")},
             "width": 1280, "height": 960},
        ]  # fmt: skip
        extra: Json = {"caption": caption} if caption else {}
        return await self.push_update(
            {"message": self._message(chat_id, None, photo=sizes, **extra)}
        )

    async def user_document(
        self, chat_id: int, data: bytes, mime_type: str, file_name: str
    ) -> Json:
        """The resident sends a file."""
        meta = self.add_file(data, "documents", file_name.rsplit(".", 1)[-1])
        doc = {
            **{k: meta[k] for k in ("file_id", "file_unique_id", "file_size")},
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return await self.push_update({"message": self._message(chat_id, None, document=doc)})

    async def user_voice(self, chat_id: int, ogg: bytes, duration: int) -> Json:
        """The resident sends a voice note (OGG/Opus bytes)."""
        meta = self.add_file(ogg, "voice", "oga")
        voice = {
            **{k: meta[k] for k in ("file_id", "file_unique_id", "file_size")},
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return await self.push_update({"message": self._message(chat_id, None, voice=voice)})

    async def user_sticker(self, chat_id: int) -> Json:
        """The resident sends a sticker."""
        sticker = {
            "file_id": "STICKER-1",
            "file_unique_id": "S1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self.push_update({"message": self._message(chat_id, None, sticker=sticker)})

    async def user_presses(self, chat_id: int, message: Json, callback_data: str) -> Json:
        """The resident presses the inline button with ``callback_data`` on ``message``."""
        query = {
            "id": f"CQ{next(self._query_ids)}",
            "from": self._user(chat_id),
            "message": self.messages.get((chat_id, message["message_id"]), message),
            "chat_instance": f"ci{chat_id}",
            "data": callback_data,
        }
        return await self.push_update({"callback_query": query})

    # ---- HTTP side --------------------------------------------------------------------

    async def _deliver(self, update: Json) -> None:
        assert self._session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
        async with self._session.post(self.webhook_url, json=update, headers=headers) as resp:
            await self.webhook_statuses.put(resp.status)

    async def _params(self, request: web.Request) -> Json:
        params: Json = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                with contextlib.suppress(json.JSONDecodeError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _err(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            async with self._changed:
                self.calls.append(Call(method, params))
                self._changed.notify_all()
        failures = self._failures.get(method)
        if failures:
            retry_after = failures.pop(0)
            return _err(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _err(404, "Not Found")
        response: web.Response = await handler(params)
        if self._stalls[method] > 0:
            self._stalls[method] -= 1
            await self._never.wait()  # the client gives up; closing the server ends this
        return response

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _err(401, "Unauthorized")
        path = request.match_info["path"]
        for meta, data in self._files.values():
            if meta["file_path"] == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return _err(404, "Not Found")

    # ---- methods ------------------------------------------------------------------------

    async def _m_getMe(self, _: Json) -> web.Response:
        return _ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "接诉",
                "username": "jiesu_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _m_getUpdates(self, p: Json) -> web.Response:
        if self.webhook_url:
            return _err(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )  # fmt: skip
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + timeout
        async with self._changed:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            return _ok(self._updates[:limit])

    async def _m_sendMessage(self, p: Json) -> web.Response:
        chat_id = int(p["chat_id"])
        text = str(p.get("text") or "")
        if not text.strip():
            return _err(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _err(400, "Bad Request: message is too long")
        markup = p.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    return _err(400, "Bad Request: BUTTON_DATA_INVALID")
        message: Json = {
            "message_id": next(self._msg_ids[chat_id]),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "居民"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "接诉"},
            "text": text,
        }
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        sent = {**message, "reply_markup": markup}
        await self._sent_by_chat[chat_id].put(sent)
        await self.sent.put(sent)
        return _ok(message)

    async def _m_editMessageReplyMarkup(self, p: Json) -> web.Response:
        key = (int(p["chat_id"]), int(p["message_id"]))
        message = self.messages.get(key)
        if message is None:
            return _err(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup")
        if markup == message.get("reply_markup"):
            return _err(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return _ok(message)

    async def _m_answerCallbackQuery(self, p: Json) -> web.Response:
        qid = str(p["callback_query_id"])
        if qid in self.callback_answers:
            return _err(400, "Bad Request: query is too old and response timeout expired")
        self.callback_answers[qid] = p
        return _ok(True)

    async def _m_sendChatAction(self, p: Json) -> web.Response:
        return _ok(True)

    async def _m_getFile(self, p: Json) -> web.Response:
        entry = self._files.get(str(p.get("file_id")))
        if entry is None:
            return _err(400, "Bad Request: invalid file_id")
        meta, _ = entry
        if meta["file_size"] > 20 * 1024 * 1024:
            return _err(400, "Bad Request: file is too big")
        return _ok(meta)

    async def _m_setMyCommands(self, p: Json) -> web.Response:
        self.commands = list(p.get("commands") or [])
        return _ok(True)

    async def _m_getMyCommands(self, _: Json) -> web.Response:
        return _ok(self.commands)

    async def _m_setWebhook(self, p: Json) -> web.Response:
        self.webhook_url = str(p.get("url") or "")
        self.webhook_secret = str(p.get("secret_token") or "")
        return _ok(True)

    async def _m_deleteWebhook(self, p: Json) -> web.Response:
        self.webhook_url = ""
        self.webhook_secret = ""
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        return _ok(True)

    async def _m_getWebhookInfo(self, _: Json) -> web.Response:
        return _ok(
            {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
        )
