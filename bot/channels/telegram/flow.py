"""Per-chat flow control: a token-bucket throttle (``hotline.throttle``, shared with
the web channel) and in-order turns.

Both are pure asyncio/bookkeeping with an injectable clock, so tests drive them
without sleeping.  A chat that floods the bot is told once to slow down and its
further messages are dropped until the bucket refills; turns of one chat run
one at a time (Rasa must see a conversation's messages in order) while
different chats run concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hotline.throttle import ChatThrottle, Verdict

__all__ = ["ChatLocks", "ChatThrottle", "Verdict"]


class ChatLocks:
    """One lock per chat, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        """Create an empty registry."""
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        """Run the body while holding ``chat_id``'s lock (FIFO among waiters)."""
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)
