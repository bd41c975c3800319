"""Per-chat flow control: a token-bucket throttle and in-order turns.

Both are pure asyncio/bookkeeping with an injectable clock, so tests drive them
without sleeping.  A chat that floods the bot is told once to slow down and its
further messages are dropped until the bucket refills; turns of one chat run
one at a time (Rasa must see a conversation's messages in order) while
different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["ChatLocks", "ChatThrottle", "Verdict"]

_MAX_TRACKED = 10_000


class Verdict(enum.Enum):
    """What to do with an incoming message."""

    ALLOW = "allow"
    NOTIFY = "notify"  # first message over the limit: tell the resident to slow down
    DROP = "drop"  # still over the limit: drop silently


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    notified: bool = False


class ChatThrottle:
    """Token bucket per chat: ``burst`` messages at once, ``rate_per_min`` sustained."""

    def __init__(
        self, burst: int, rate_per_min: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Create a throttle.

        Args:
            burst: Bucket capacity (messages a chat may send back to back).
            rate_per_min: Refill rate in messages per minute.
            clock: Monotonic time source in seconds.
        """
        self._burst = float(burst)
        self._rate = rate_per_min / 60.0
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def check(self, chat_id: int) -> Verdict:
        """Take one token for ``chat_id`` and say whether the message may be handled."""
        now = self._clock()
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._prune(now)
            bucket = self._buckets[chat_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.notified = False
            return Verdict.ALLOW
        if bucket.notified:
            return Verdict.DROP
        bucket.notified = True
        return Verdict.NOTIFY

    def _prune(self, now: float) -> None:
        full = [
            cid
            for cid, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * self._rate >= self._burst
        ]
        for cid in full:
            del self._buckets[cid]


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
