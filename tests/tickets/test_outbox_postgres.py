"""Multi-instance delivery on the real PostgreSQL server: no entry is claimed twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.auxil.postgres import fresh_database
from tickets.outbox import Outbox


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def test_two_instances_claim_each_entry_exactly_once(pg_url: str) -> None:
    first, second = Outbox(pg_url), Outbox(pg_url)
    refs = {first.add({"n": str(i)}, f"web:{i}", "web").reference for i in range(200)}
    claimed: list[list[str]] = [[], []]

    def drain(idx: int, box: Outbox) -> None:
        while True:
            batch = box.claim_due(limit=7, lease_s=600)
            if not batch:
                return
            claimed[idx].extend(e.reference for e in batch)

    threads = [threading.Thread(target=drain, args=(i, b)) for i, b in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == sorted(refs)
    assert len(set(everything)) == len(everything) == 200
    first.close()
    second.close()
