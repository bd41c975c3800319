"""Talk to the Rasa server over its REST channel and HTTP API.

Every channel (web, Telegram, phone) funnels through :class:`RasaClient`, so
sender ids are prefixed by channel in one place (``web:…``, ``tg:…``,
``tel:…``) and Rasa's reply format is normalised into :class:`BotMessage`.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import aiohttp

__all__ = ["BotButton", "BotMessage", "RasaClient", "RasaUnavailable"]


class BotButton(TypedDict):
    title: str
    payload: str


class BotMessage(TypedDict, total=False):
    text: str
    buttons: list[BotButton]
    custom: dict[str, Any]
    image: str


class RasaUnavailable(RuntimeError):
    """The Rasa server did not answer (down, starting, or timed out)."""

    @property
    def maybe_processed(self) -> bool:
        """True when Rasa may have processed the message anyway (sent, then no answer).

        A refused connection or an HTTP error status means Rasa did not keep the turn
        (it saves a tracker only after the whole turn ran); a timeout or a connection
        lost after the request went out may mean the turn is in the tracker.
        """
        cause = self.__cause__
        if cause is None or isinstance(cause, aiohttp.ClientConnectorError):
            return False
        return isinstance(cause, (asyncio.TimeoutError, aiohttp.ClientError))


def _normalise(raw: list[dict[str, Any]]) -> list[BotMessage]:
    """Turn Rasa REST-channel replies into our message shape.

    Consecutive text messages stay separate (a channel may join them); buttons
    keep only ``title``/``payload`` so channels need not know Rasa's schema.
    """
    out: list[BotMessage] = []
    for item in raw:
        msg: BotMessage = {}
        if item.get("text"):
            msg["text"] = str(item["text"])
        buttons = item.get("buttons") or []
        if buttons:
            msg["buttons"] = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in buttons
            ]
        if item.get("custom"):
            msg["custom"] = dict(item["custom"])
        if item.get("image"):
            msg["image"] = str(item["image"])
        if msg:
            out.append(msg)
    return out


class RasaClient:
    """Async client for one Rasa server; share one per process."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        timeout_s: float = 30.0,
        token: str = "",
    ):
        """A client of the Rasa server at ``base_url``.

        Args:
            base_url: e.g. ``http://127.0.0.1:5005``.
            session: The process's shared HTTP session.
            timeout_s: Limit of one call.
            token: Rasa's ``--auth-token``, sent as ``?token=`` on its HTTP API
                (``JIESU_RASA_TOKEN``; the REST channel itself takes none).
        """
        self._base = base_url.rstrip("/")
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._auth = {"token": token} if token else {}

    @property
    def auth_params(self) -> dict[str, str]:
        """Query parameters that authenticate a call to Rasa's HTTP API (may be empty)."""
        return dict(self._auth)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Send one user message and return the bot's replies.

        The NLU pipeline normalises the text it keeps (full-width punctuation,
        traditional characters); ``raw_text`` in the metadata lets the actions
        keep the resident's words verbatim.
        """
        body = {
            "sender": sender,
            "message": text,
            "metadata": {**(metadata or {}), "raw_text": text},
        }
        url = f"{self._base}/webhooks/rest/webhook"
        try:
            async with self._session.post(url, json=body, timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                raw = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        return _normalise(raw or [])

    async def processed_since(
        self, sender: str, text: str, since: float
    ) -> list[BotMessage] | None:
        """The bot's replies to ``text`` if Rasa processed it at or after ``since``, else None.

        For a turn whose answer was lost (:attr:`RasaUnavailable.maybe_processed`): the
        tracker shows whether Rasa kept it (the user event carries the resident's words as
        ``raw_text``), so it is neither lost nor processed twice.

        Raises:
            RasaUnavailable: The tracker could not be read.
        """
        url = f"{self.base_url_for(sender)}/conversations/{sender}/tracker"
        params = {"include_events": "AFTER_RESTART", **self._auth}
        try:
            # Its own limit: the turn's may be short, and this read decides a replay.
            limit = aiohttp.ClientTimeout(total=max(10.0, self._timeout.total or 0))
            async with self._session.get(url, params=params, timeout=limit) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa tracker answered HTTP {resp.status}")
                tracker = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        events = list(tracker.get("events") or [])
        for i in range(len(events) - 1, -1, -1):
            ev = events[i]
            if ev.get("event") != "user" or float(ev.get("timestamp") or 0) < since:
                continue
            words = (ev.get("metadata") or {}).get("raw_text", ev.get("text"))
            if words != text:
                continue
            later = []
            for e in events[i + 1 :]:
                if e.get("event") == "user":
                    break
                if e.get("event") == "bot":
                    later.append(e)
            return _normalise([{"text": e.get("text"), **(e.get("data") or {})} for e in later])
        return None

    async def trigger_intent(
        self, sender: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Start a bot-initiated turn (e.g. the satisfaction survey)."""
        url = f"{self._base}/conversations/{sender}/trigger_intent?output_channel=latest"
        body = {"name": intent, "entities": entities or {}}
        try:
            async with self._session.post(
                url, json=body, params=self._auth, timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        return _normalise(data.get("messages") or [])

    @property
    def base_url(self) -> str:
        """The server's address, e.g. ``http://127.0.0.1:5005``."""
        return self._base

    def base_url_for(self, sender: str) -> str:
        """The address of the server that holds ``sender``'s conversation (one server: it)."""
        return self._base

    async def ready(self) -> bool:
        """True when the server has a model loaded."""
        try:
            async with self._session.get(
                f"{self._base}/status", params=self._auth, timeout=aiohttp.ClientTimeout(total=2)
            ) as resp:
                if resp.status != 200:
                    return False
                data = await resp.json(content_type=None)
                return bool(data.get("model_file"))
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
