"""Thread-safe lazy values (models and dictionaries are built on first use)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value computed once, on first access, under a lock.

    Args:
        factory: Zero-argument callable building the value.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None
        self._ready = False

    def get(self) -> T:
        """Return the value, building it on the first call."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._value = self._factory()
                    self._ready = True
        return self._value  # type: ignore[return-value]

    def reset(self) -> None:
        """Forget the value so that the next ``get`` rebuilds it."""
        with self._lock:
            self._value = None
            self._ready = False
