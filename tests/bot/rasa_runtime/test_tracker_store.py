"""The cached SQL tracker store: same rows as Rasa's, never a stale tracker."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from bot.rasa_runtime.tracker_store import CachedSQLTrackerStore

pytestmark = pytest.mark.asyncio(loop_scope="session")

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT / "domain.yml"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def _store(domain: Domain, url: str, **kwargs: object) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=domain, host=url, **kwargs)


async def _turn(store: SQLTrackerStore, sender: str, text: str) -> None:
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "report_problem", "confidence": 0.9}))
    tracker.update(SlotSet("complaint_description", text))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


def _dicts(tracker: object) -> list[dict]:
    return [event.as_dict() for event in tracker.events]  # type: ignore[attr-defined]


async def test_hit_returns_the_saved_tracker_and_rows_match_rasa(
    domain: Domain, db_url: str
) -> None:
    store = _store(domain, db_url)
    await _turn(store, "web:a", "路灯坏了")
    first = await store.retrieve("web:a")
    await _turn(store, "web:a", "朝阳区望京西园四区")
    second = await store.retrieve("web:a")
    assert second is first  # served from the cache, not rebuilt
    stock = await SQLTrackerStore(domain=domain, host=db_url).retrieve("web:a")
    assert stock is not None and _dicts(stock) == _dicts(second)
    assert stock.get_slot("complaint_description") == "朝阳区望京西园四区"


async def test_another_writer_invalidates(domain: Domain, db_url: str) -> None:
    mine, other = _store(domain, db_url), _store(domain, db_url)
    await _turn(mine, "tg:1", "第一句")
    cached = await mine.retrieve("tg:1")
    await _turn(other, "tg:1", "另一个实例写的")  # e.g. a second Rasa server
    fresh = await mine.retrieve("tg:1")
    assert fresh is not cached
    assert fresh is not None and fresh.get_slot("complaint_description") == "另一个实例写的"
    # and the next turn on this instance appends after the other's events
    await _turn(mine, "tg:1", "第三句")
    stock = await SQLTrackerStore(domain=domain, host=db_url).retrieve("tg:1")
    assert stock is not None
    texts = [e.text for e in stock.events if isinstance(e, UserUttered)]
    assert texts == ["第一句", "另一个实例写的", "第三句"]


async def test_unsaved_changes_are_never_handed_out(domain: Domain, db_url: str) -> None:
    store = _store(domain, db_url)
    await _turn(store, "web:b", "路灯坏了")
    tracker = await store.retrieve("web:b")
    assert tracker is not None
    # a turn that failed half-way:
    tracker.update(SlotSet("complaint_description", "没有保存的改动"))
    again = await store.retrieve("web:b")
    assert again is not tracker
    assert again is not None and again.get_slot("complaint_description") == "路灯坏了"
    await store.save(again)  # saving the other object is safe too
    after = await SQLTrackerStore(domain=domain, host=db_url).retrieve("web:b")
    assert after is not None and after.get_slot("complaint_description") == "路灯坏了"


async def test_cache_off_and_bounded(domain: Domain, db_url: str) -> None:
    off = _store(domain, db_url, cache_size=0)
    await _turn(off, "web:c", "一")
    assert await off.retrieve("web:c") is not await off.retrieve("web:c")
    small = _store(domain, db_url, cache_size=2)
    for sender in ("s1", "s2", "s3"):
        await _turn(small, sender, "x")
        await small.retrieve(sender)
    assert list(small._cache) == ["s2", "s3"]


async def test_sqlite_connection_is_pooled(domain: Domain, db_url: str) -> None:
    store = _store(domain, db_url)
    assert type(store.engine.pool).__name__ == "QueuePool"


async def _new_session(store: SQLTrackerStore, sender: str, text: str) -> None:
    """A turn that starts a new conversation session (as after session expiry)."""
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "report_problem", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


async def test_a_new_session_is_loaded_like_rasa_does(domain: Domain, db_url: str) -> None:
    store = _store(domain, db_url)
    stock = SQLTrackerStore(domain=domain, host=db_url)
    await _new_session(store, "tel:1", "old-1")
    await _turn(store, "tel:1", "old-2")
    await _new_session(store, "tel:1", "new-1")
    mine = await store.retrieve("tel:1")
    theirs = await stock.retrieve("tel:1")
    assert mine is not None and theirs is not None
    assert _dicts(mine) == _dicts(theirs)  # only the latest session, as Rasa loads it
    # A turn whose cache entry is evicted half-way falls back to Rasa's save:
    # nothing may be written twice.
    mine.update(UserUttered("new-2", {"name": "report_problem", "confidence": 0.9}))
    store._cache.clear()
    await store.save(mine)
    full = await stock.retrieve_full_tracker("tel:1")
    assert full is not None
    texts = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert texts == ["old-1", "old-2", "new-1", "new-2"]


async def test_a_new_domain_drops_cached_trackers(domain: Domain, db_url: str) -> None:
    store = _store(domain, db_url)
    await _turn(store, "web:d", "一")
    cached = await store.retrieve("web:d")
    assert await store.retrieve("web:d") is cached
    store.domain = Domain.load(str(PROJECT / "domain.yml"))  # what PUT /model does
    assert await store.retrieve("web:d") is not cached
