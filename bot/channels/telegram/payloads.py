"""Button payloads longer than Telegram's 64-byte ``callback_data``: ``#hash`` keys.

Kept in memory and, with a :class:`~bot.channels.telegram.state.TelegramState`, in SQL,
so a keyboard sent before a gateway restart (or by another gateway) still works.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.channels.telegram.state import TelegramState

__all__ = ["MAX_CALLBACK_BYTES", "CallbackPayloads"]

MAX_CALLBACK_BYTES = 64


class CallbackPayloads:
    """Maps Rasa button payloads to ``callback_data`` (≤ 64 bytes) and back.

    A long payload becomes ``#`` + a hash of it, so the same payload has the same key in
    every gateway and after a restart.  New keys wait in :meth:`take_unsaved` until the
    sender stores them (``TelegramState``) — before the keyboard is sent — and
    :meth:`lookup` falls back to that store for keys this process never saw.
    """

    def __init__(self, capacity: int = 20_000, store: TelegramState | None = None) -> None:
        """Remember the ``capacity`` most recent long payloads in memory; ``store`` keeps all."""
        self._capacity = capacity
        self._by_key: OrderedDict[str, str] = OrderedDict()
        self._unsaved: dict[str, str] = {}
        self.store = store

    def encode(self, payload: str) -> str:
        """``callback_data`` for ``payload``: itself if short, else a ``#hash``."""
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith("#"):
            return payload
        digest = hashlib.sha256(payload.encode()).digest()[:18]
        key = "#" + base64.urlsafe_b64encode(digest).decode()
        if key not in self._by_key:
            self._unsaved[key] = payload
        self._remember(key, payload)
        return key

    def _remember(self, key: str, payload: str) -> None:
        self._by_key[key] = payload
        self._by_key.move_to_end(key)
        if len(self._by_key) > self._capacity:
            self._by_key.popitem(last=False)

    def take_unsaved(self) -> dict[str, str]:
        """Keys made since the last call (to be stored before they are sent)."""
        out, self._unsaved = self._unsaved, {}
        return out

    async def save(self) -> None:
        """Store new keys (in a thread); without a store they live in memory only."""
        unsaved = self.take_unsaved()
        if unsaved and self.store is not None:
            await asyncio.to_thread(self.store.save_payloads, unsaved)

    def decode(self, data: str) -> str | None:
        """The payload for ``callback_data`` from memory; ``None`` if unknown or a marker."""
        if not data.startswith("#"):
            return data
        return self._by_key.get(data)

    async def lookup(self, data: str) -> str | None:
        """:meth:`decode`, then the store (a keyboard sent before a restart)."""
        found = self.decode(data)
        if found is not None or not data.startswith("#") or self.store is None:
            return found
        found = await asyncio.to_thread(self.store.payload, data)
        if found is not None:
            self._remember(data, found)
        return found
