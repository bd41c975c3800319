"""Database calls wait out a restart: connection errors are retried for a while, then raised."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tickets.db import in_thread_retrying


def _refused() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


async def test_a_call_is_retried_until_the_database_is_back() -> None:
    calls: list[int] = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) < 3:
            raise _refused()
        return x * 2

    assert await in_thread_retrying(flaky, 21) == 42
    assert calls == [21, 21, 21]


async def test_a_database_that_stays_down_is_reported_and_other_errors_at_once() -> None:
    def down() -> None:
        raise _refused()

    with pytest.raises(sa.exc.OperationalError):
        await in_thread_retrying(down, limit_s=0.5)
    tries: list[int] = []

    def wrong() -> None:
        tries.append(1)
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        await in_thread_retrying(wrong)
    assert tries == [1]  # not a connection problem: not retried
