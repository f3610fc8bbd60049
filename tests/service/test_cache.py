"""Answers kept between requests, for live endpoints and bounded ones made live
(``ANALYTICS_MAX_STALENESS=0``, the test default): hits between writes, recomputed after every
write on any app (another worker or task sharing the database), never kept for failed or
invalid reads. Bounded staleness itself: test_freshness.py."""

from __future__ import annotations

import threading
import time
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ecommerce_analytics.cache import (
    CachedResponse,
    ResponseCache,
    SeenVersions,
    SharedResponses,
    Snapshot,
    Snapshots,
)
from ecommerce_analytics.db import get_db
from ecommerce_analytics.models import SharedResponse

from .conftest import Api, new_key
from .factories import Clock, order

SALES = "/api/v1/sales"
RANGE = {"start": "2024-03-01", "end": "2024-03-31", "granularity": "month"}


def _orders(api: Api) -> int:
    return int(api.get(SALES, **RANGE).json["totals"]["orders"])


def test_repeated_reads_are_served_from_the_cache(api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    first = api.get(SALES, **RANGE)
    second = api.get(SALES, **RANGE)
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert first.data == second.data


def test_ingest_invalidates_cached_reads(api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert _orders(api) == 1
    assert _orders(api) == 1  # cached
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    response = api.get(SALES, **RANGE)
    assert response.headers["X-Cache"] == "miss"
    assert response.json["totals"]["orders"] == 2


def test_a_retried_batch_that_stores_nothing_keeps_the_cache(api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    _orders(api)
    assert api.post("/api/v1/orders", {"orders": [order("A1")]}).status_code == 200
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "hit"


def test_refund_invalidates_cached_reads(api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    before = api.get(SALES, **RANGE).json["totals"]["returns"]
    assert before == "0.00"
    refund = {"amount": "5.00", "created_at": "2024-03-06T12:00:00+00:00"}
    assert api.post("/api/v1/orders/A1/refunds", refund).status_code == 201
    assert api.get(SALES, **RANGE).json["totals"]["returns"] == "5.00"


def test_a_write_through_another_worker_invalidates_this_workers_cache(make_app, api):
    """Two apps on one database stand for two gunicorn workers (or two tasks)."""
    other_app = make_app()
    other = Api(other_app.test_client(), new_key(other_app, "read", "write"))
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert _orders(api) == 1
    assert _orders(other) == 1
    other.post("/api/v1/orders", {"orders": [order("A2")]})
    assert _orders(api) == 2


def test_cached_reads_still_require_a_valid_key_with_read_scope(app, api, client):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    api.get(SALES, **RANGE)
    assert client.get(SALES, query_string=RANGE).status_code == 401
    write_only = new_key(app, "write")
    response = client.get(
        SALES, query_string=RANGE, headers={"Authorization": f"Bearer {write_only}"}
    )
    assert response.status_code == 403


def test_query_order_does_not_matter_but_values_do(api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})

    def get(query: str) -> Any:
        return api.client.get(f"{SALES}?{query}", headers=api.headers())

    get("start=2024-03-01&end=2024-03-31&granularity=month")
    same = get("granularity=month&end=2024-03-31&start=2024-03-01")
    other = get("granularity=day&end=2024-03-31&start=2024-03-01")
    assert same.headers["X-Cache"] == "hit"
    assert other.headers["X-Cache"] == "miss"
    assert len(other.json["rows"]) == 31


def test_invalid_queries_are_not_cached(api):
    for _ in range(2):
        response = api.get(SALES, start="2024-03-31", end="2024-03-01x")
        assert response.status_code == 400
        assert response.headers.get("X-Cache") != "hit"


def test_cache_can_be_disabled(make_app):
    app = make_app(RESPONSE_CACHE_ENTRIES=0)
    api = Api(app.test_client(), new_key(app, "read", "write"))
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    for _ in range(2):
        response = api.get(SALES, **RANGE)
        assert response.status_code == 200
        assert (response.headers["X-Cache"], response.headers["X-Data-Age"]) == ("miss", "0.000")


def _never() -> None:
    raise AssertionError("a fresh answer needs no refresh")


def test_concurrent_misses_compute_once():
    snapshots = Snapshots(ResponseCache(8), None, wait_s=5)
    calls = []
    gate = threading.Event()

    def compute() -> CachedResponse:
        calls.append(1)
        gate.wait(5)
        return CachedResponse(b"{}", 200)

    threads = [
        threading.Thread(target=snapshots.serve, args=("k", 1, 0.0, compute, _never))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert snapshots.local.stats.hits == 7


def test_a_live_answer_is_computed_again_after_any_write():
    snapshots = Snapshots(ResponseCache(8), None, wait_s=5)
    snapshots.serve("a", 1, 0.0, lambda: CachedResponse(b"old", 200), _never)
    again = snapshots.serve("a", 1, 0.0, lambda: CachedResponse(b"other", 200), _never)
    fresh = snapshots.serve("a", 2, 0.0, lambda: CachedResponse(b"new", 200), _never)
    assert (again.body, again.source, fresh.body, fresh.source) == (b"old", "hit", b"new", "miss")


def test_failed_answers_are_not_kept():
    snapshots = Snapshots(ResponseCache(8), None, wait_s=5)
    first = snapshots.serve("a", 1, 0.0, lambda: CachedResponse(b"no", 404), _never)
    second = snapshots.serve("a", 1, 0.0, lambda: CachedResponse(b"yes", 200), _never)
    assert (first.status, second.body, second.source) == (404, b"yes", "miss")


def test_the_cache_is_bounded_least_recently_used_first():
    cache = ResponseCache(2)
    for key in ("a", "b", "a", "c"):
        cache.put(key, Snapshot(key.encode(), 1, 0.0))
        cache.get(key)
    assert len(cache) == 2
    assert cache.get("a") is not None
    assert cache.get("b") is None


# ---- the shared layer (response_cache table) -----------------------------------------------


def _entries(app: Any) -> list[tuple[int, int]]:
    """(version, body length) of every shared answer."""
    with app.app_context():
        with get_db().engine.connect() as connection:
            rows = connection.execute(
                select(SharedResponse.version, SharedResponse.body).where(
                    SharedResponse.body.is_not(None)
                )
            )
            return [(version, len(body or b"")) for version, body in rows]


def test_a_response_computed_by_one_worker_serves_the_others(make_app, api):
    """A second app on the same database stands for another worker, task, or a restart."""
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    first = api.get(SALES, **RANGE)
    other_app = make_app()
    other = Api(other_app.test_client(), new_key(other_app, "read"))
    shared = other.get(SALES, **RANGE)
    again = other.get(SALES, **RANGE)
    assert [first.headers["X-Cache"], shared.headers["X-Cache"], again.headers["X-Cache"]] == [
        "miss",
        "shared",
        "hit",
    ]
    assert first.data == shared.data == again.data


def test_shared_entries_are_never_served_after_a_write(make_app, api):
    other_app = make_app()
    other = Api(other_app.test_client(), new_key(other_app, "read", "write"))
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert _orders(api) == 1
    other.post("/api/v1/orders", {"orders": [order("A2")]})
    after = api.get(SALES, **RANGE)
    assert after.headers["X-Cache"] == "miss"
    assert after.json["totals"]["orders"] == 2
    # The recomputed body is the one shared now, in place of the old one.
    shared = other.get(SALES, **RANGE)
    assert (shared.headers["X-Cache"], shared.json["totals"]["orders"]) == ("shared", 2)
    assert len(_entries(api.client.application)) == 1


def test_an_older_answer_never_replaces_a_newer_one(app):
    with app.app_context():
        shared = SharedResponses(get_db(), "build-1")
        assert shared.save("/sales?x=1", Snapshot(b"new", 5, 1000.0))
        assert not shared.save("/sales?x=1", Snapshot(b"old", 4, 990.0))
        assert shared.load("/sales?x=1") == Snapshot(b"new", 5, 1000.0)
        assert shared.save("/sales?x=1", Snapshot(b"newer", 6, 1010.5))
        assert shared.load("/sales?x=1") == Snapshot(b"newer", 6, 1010.5)
    assert _entries(app) == [(6, 5)]


def test_one_worker_at_a_time_holds_the_lease_on_an_answer(app):
    clock = Clock()
    with app.app_context():
        mine = SharedResponses(get_db(), "build-1", lease_s=60, clock=clock)
        theirs = SharedResponses(get_db(), "build-1", lease_s=60, clock=clock)
        assert mine.claim("/rfm")  # first computation: the row is created with the lease
        assert not theirs.claim("/rfm")
        assert theirs.load("/rfm") is None  # no answer yet
        mine.release("/rfm")
        assert theirs.claim("/rfm")
        assert not mine.claim("/rfm")
        # Saving ends the lease; an expired lease (its holder died) is taken over.
        assert theirs.save("/rfm", Snapshot(b"{}", 1, clock.now))
        assert mine.claim("/rfm")
        clock.now += 61
        assert theirs.claim("/rfm")


def test_answers_no_one_asked_for_in_a_day_are_deleted(app):
    clock = Clock()
    with app.app_context():
        shared = SharedResponses(get_db(), "build-1", clock=clock)
        assert shared.save("/old", Snapshot(b"old", 1, clock.now))
        clock.now += 2 * 86400
        assert shared.save("/new", Snapshot(b"new", 2, clock.now))
        assert shared.load("/old") is None
        assert shared.load("/new") is not None


def test_entries_of_another_build_or_store_setting_are_not_served(app, make_app, api):
    """A rolling deploy runs old and new code on one database; a changed time zone changes
    every day boundary. Neither may be answered with the other's bodies."""
    with app.app_context():
        SharedResponses(get_db(), "build-1").save("/sales?x=1", Snapshot(b"old build", 5, 1.0))
        assert SharedResponses(get_db(), "build-2").load("/sales?x=1") is None
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    berlin = make_app(STORE_TIMEZONE="Europe/Berlin")
    other = Api(berlin.test_client(), new_key(berlin, "read"))
    assert other.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    same = make_app()
    assert (
        Api(same.test_client(), new_key(same, "read")).get(SALES, **RANGE).headers["X-Cache"]
        == "shared"
    )


def test_an_unreadable_shared_cache_does_not_fail_the_read(api, monkeypatch):
    def broken(*_args: Any) -> Any:
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr("ecommerce_analytics.cache.shared.fetch_one", broken)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    response = api.get(SALES, **RANGE)
    assert (response.status_code, response.headers["X-Cache"]) == (200, "miss")
    assert response.json["totals"]["orders"] == 1


def test_the_shared_layer_can_be_turned_off(make_app):
    apps = [make_app(RESPONSE_CACHE_SHARED=False) for _ in range(2)]
    first, second = (Api(a.test_client(), new_key(a, "read", "write")) for a in apps)
    first.post("/api/v1/orders", {"orders": [order("A1")]})
    assert first.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    assert second.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    assert _entries(apps[0]) == []


def test_a_locked_sqlite_database_skips_the_save_instead_of_waiting(app, api, backend):
    """Ingest holds SQLite's write lock; a read must not wait its 30 s busy timeout to save."""
    if backend != "sqlite":
        pytest.skip("only SQLite has one database-wide write lock")
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    with app.app_context():
        blocker = get_db().engine.raw_connection()
    try:
        blocker.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        started = time.monotonic()
        response = api.get(SALES, **RANGE)
        waited = time.monotonic() - started
    finally:
        blocker.driver_connection.rollback()  # type: ignore[union-attr]
        blocker.close()
    assert (response.status_code, response.headers["X-Cache"]) == (200, "miss")
    assert response.json["totals"]["orders"] == 1
    assert waited < 10
    assert _entries(app) == []


def test_the_data_version_counts_committed_writes(app, api):
    """What a cached endpoint without an API key would read before its data."""
    from ecommerce_analytics.cache import current_version

    with app.app_context():
        before = current_version(get_db())
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    api.post("/api/v1/orders", {"orders": [order("A1")]})  # a retry stores nothing
    with app.app_context():
        assert current_version(get_db()) == before + 1


def test_a_refused_request_leaves_nothing_in_the_shared_table(app, api):
    for n in range(5):
        response = api.get(SALES, start="2024-03-31", end=f"2024-03-0{n}x")
        assert response.status_code == 400
    assert _rows(app) == 0


def _rows(app: Any) -> int:
    with app.app_context():
        with get_db().engine.connect() as connection:
            return len(connection.execute(select(SharedResponse.key_hash)).all())


def test_a_lease_whose_computation_never_answered_is_deleted_in_time(app):
    clock = Clock()
    with app.app_context():
        shared = SharedResponses(get_db(), "build-1", clock=clock)
        assert shared.claim("/failed")  # its computation then raised: no answer, no release
        clock.now += 2 * 86400
        assert shared.save("/other", Snapshot(b"{}", 1, clock.now))
    assert _rows(app) == 1


def test_a_save_refused_by_a_lock_still_gives_the_lease_up(app, backend):
    """Ingest holds SQLite's write lock when the computing worker saves: the save is skipped,
    but the lease must not stay behind (every other worker would wait for it to expire)."""
    if backend != "sqlite":
        pytest.skip("only SQLite has one database-wide write lock")
    with app.app_context():
        mine = SharedResponses(get_db(), "build-1")
        theirs = SharedResponses(get_db(), "build-1")
        assert mine.claim("/rfm")
        blocker = get_db().engine.raw_connection()
        blocker.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        unlock = threading.Timer(0.3, blocker.driver_connection.rollback)  # type: ignore[union-attr]
        unlock.start()
        try:
            assert not mine.save("/rfm", Snapshot(b"{}", 1, time.time()))
        finally:
            unlock.join()
            blocker.close()
        assert theirs.claim("/rfm")


def test_an_answer_is_labelled_with_the_version_read_as_its_computation_starts():
    """A write that committed after a request read its version but before the computation
    started is in the answer: requests that read the newer version take it without a
    computation of their own."""
    committed = [3]
    snapshots = Snapshots(ResponseCache(8), None, wait_s=5, read_version=lambda: committed[0])
    first = snapshots.serve("a", 2, 0.0, lambda: CachedResponse(b"v3", 200), _never)
    again = snapshots.serve("a", 3, 0.0, lambda: CachedResponse(b"other", 200), _never)
    assert (first.version, again.body, again.source) == (3, b"v3", "hit")


class _FrozenShared:
    """A shared cache on a database that froze mid-computation: the lease was taken, and
    giving it up hangs until ``thaw`` (as every statement on a frozen server does)."""

    lease_s = 60.0

    def __init__(self) -> None:
        self.thaw = threading.Event()
        self.released = threading.Event()

    def load(self, key: str) -> None:
        return None

    def claim(self, key: str) -> bool:
        return True

    def release(self, key: str, **_: Any) -> None:
        self.thaw.wait(10)
        self.released.set()

    def save(self, key: str, snapshot: Any) -> bool:
        # The real save gives up on a frozen server with the driver's timeout, then raises.
        raise OperationalError("UPDATE ...", {}, pymysql.err.OperationalError(2013, "Lost"))


def test_an_answer_the_frozen_database_could_not_keep_is_still_served_at_once():
    """The database froze after the answer was computed: keeping it for other workers failed.
    The request still gets its answer without waiting for the lease to be given up, which
    happens off the request once the server answers again."""
    shared = _FrozenShared()
    snapshots = Snapshots(ResponseCache(8), shared, wait_s=5)  # type: ignore[arg-type]
    started = time.monotonic()
    served = snapshots.serve("/rfm", 1, 0.0, lambda: CachedResponse(b"ranked", 200), _never)
    assert time.monotonic() - started < 1.0
    assert (served.status, served.body, served.source) == (200, b"ranked", "miss")
    assert not shared.released.is_set()
    shared.thaw.set()
    assert shared.released.wait(5)


def test_a_computation_cut_off_by_the_database_answers_at_once_and_releases_later():
    """The computation's statement gave up (the server is away): the request must answer 503
    now, not after a second give-up on releasing the lease, and the lease is still given up
    (off the request) so other workers do not wait for it to expire once the server is back."""
    shared = _FrozenShared()
    snapshots = Snapshots(ResponseCache(8), shared, wait_s=5)  # type: ignore[arg-type]

    def compute() -> CachedResponse:
        raise OperationalError("SELECT ...", {}, pymysql.err.OperationalError(2013, "Lost"))

    started = time.monotonic()
    with pytest.raises(OperationalError):
        snapshots.serve("/rfm", 1, 0.0, compute, _never)
    assert time.monotonic() - started < 1.0
    assert not shared.released.is_set()
    shared.thaw.set()
    assert shared.released.wait(5)


def test_a_computation_that_failed_as_a_bug_gives_the_lease_up_before_answering():
    shared = _FrozenShared()
    shared.thaw.set()
    snapshots = Snapshots(ResponseCache(8), shared, wait_s=5)  # type: ignore[arg-type]

    def compute() -> CachedResponse:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        snapshots.serve("/rfm", 1, 0.0, compute, _never)
    assert shared.released.is_set()


def test_a_computation_longer_than_its_lease_keeps_it(app):
    """A ranked figure can take longer than a lease (the statement timeout): its worker
    renews the lease while computing, so another worker asking for the same answer waits for
    it instead of taking the lease over and computing it a second time."""
    with app.app_context():
        first = Snapshots(
            ResponseCache(8), SharedResponses(get_db(), "build-1", lease_s=0.3), wait_s=5
        )
        second = Snapshots(
            ResponseCache(8), SharedResponses(get_db(), "build-1", lease_s=0.3), wait_s=5
        )
        computed: list[str] = []
        started = threading.Event()

        def slow() -> CachedResponse:
            computed.append("first")
            started.set()
            time.sleep(1.2)  # four leases long
            return CachedResponse(b"ranked", 200)

        def again() -> CachedResponse:
            computed.append("second")
            return CachedResponse(b"again", 200)

        worker = threading.Thread(target=first.serve, args=("/rfm", 1, 0.0, slow, _never))
        worker.start()
        assert started.wait(5)
        time.sleep(0.6)  # past two leases: without renewal the lease would be free now
        served = second.serve("/rfm", 1, 0.0, again, _never)
        worker.join(5)
    assert computed == ["first"]
    assert (served.body, served.source) == (b"ranked", "shared")


def test_seen_versions_vouch_for_each_version_until_the_last_sighting_at_or_below_it():
    seen = SeenVersions(limit=3)
    assert seen.current_until(5) is None
    seen.saw(5, 100.0)
    seen.saw(5, 130.0)
    seen.saw(7, 140.0)
    assert seen.current_until(4) is None  # never seen: nothing vouches for it
    assert seen.current_until(5) == 130.0
    assert seen.current_until(6) == 130.0  # version 6 was never read: still only 5's sighting
    assert seen.current_until(7) == 140.0
    # A reader of version 6 that finished late also vouches for 7 and above at its time.
    seen.saw(6, 150.0)
    assert seen.current_until(5) == 130.0
    assert seen.current_until(6) == 150.0
    assert seen.current_until(7) == 150.0
    seen.saw(9, 160.0)  # the oldest (5) is forgotten past the limit
    assert seen.current_until(5) is None
    assert seen.current_until(8) == 150.0
