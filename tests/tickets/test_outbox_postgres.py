"""Multi-instance delivery on the real PostgreSQL server: no entry is claimed twice."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tickets.outbox import Outbox

PG_ADMIN_URL = os.environ.get("JIESU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"jiesu_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
