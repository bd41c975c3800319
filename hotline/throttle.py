"""Per-sender rate limit of resident turns: a token bucket with an injectable clock.

Used by the Telegram channel (per chat), the web channel (per sender id) and the SIP
user agent (INVITEs per source address).  A sender
that floods is told once to slow down (:attr:`Verdict.NOTIFY`), then dropped or refused
(:attr:`Verdict.DROP`) until the bucket refills.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

__all__ = ["ChatThrottle", "Verdict"]

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
    """Token bucket per chat or sender: ``burst`` messages at once, ``rate_per_min`` sustained."""

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
        self._buckets: dict[Hashable, _Bucket] = {}

    def check(self, chat_id: Hashable) -> Verdict:
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
