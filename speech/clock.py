"""The only place in :mod:`speech` that reads the time.

VAD, end-of-utterance and pacing logic take a :class:`Clock` so tests can
drive them with :class:`ManualClock` instead of sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "MonotonicClock"]


class Clock(Protocol):
    """Something that tells monotonic time in seconds."""

    def now(self) -> float:
        """Return the current monotonic time in seconds."""
        ...


class MonotonicClock:
    """The real clock: :func:`time.monotonic`."""

    def now(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to (for tests and offline replay)."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def now(self) -> float:
        """Return the current fake time."""
        return self._t

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._t += seconds
