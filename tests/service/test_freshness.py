"""Bounded staleness (``ANALYTICS_MAX_STALENESS``, ``ANALYTICS_RANKING_MAX_STALENESS`` for the
customer rankings): a bounded endpoint's answer may lag the
writes by up to its bound, says by how much (``X-Data-Age``), is refreshed off the request,
is never older than the bound, and is exact again once writes pause. Live endpoints reflect
every committed write whatever the bound."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from ecommerce_analytics import create_app
from ecommerce_analytics.cache import (
    EXTENSION_KEY,
    CachedResponse,
    SharedResponses,
    Snapshot,
    Snapshots,
)
from ecommerce_analytics.db import get_db

from .conftest import Api, new_key
from .factories import Clock, ingest_concurrently, order

SALES = "/api/v1/sales"
RANGE = {"start": "2024-03-01", "end": "2024-03-31", "granularity": "month"}
BOUNDED: tuple[tuple[str, dict[str, Any]], ...] = (
    (SALES, RANGE),
    ("/api/v1/customers", {"limit": 50}),
    ("/api/v1/customers/ltv-distribution", {}),
    ("/api/v1/customers/returning-rate", {}),
    ("/api/v1/customers/rfm", {"limit": 50}),
    ("/api/v1/insights/churn-risk", {"min_days": 1}),
)


def snapshots(app: Flask) -> Snapshots:
    found: Snapshots = app.extensions[EXTENSION_KEY]
    return found


def with_clock(app: Flask) -> Clock:
    """A fake clock for ``app``'s answers, local and shared."""
    clock = Clock()
    cache = snapshots(app)
    cache.clock = clock
    assert cache.shared is not None
    cache.shared.clock = clock
    return clock


def client_for(app: Flask) -> Api:
    return Api(app.test_client(), new_key(app, "read", "write"))


def orders_in(response: Any) -> int:
    assert response.status_code == 200, response.json
    return int(response.json["totals"]["orders"])


def test_a_stale_answer_is_served_with_its_age_then_refreshed_off_the_request(make_app):
    """Stale but young: served as it is, no refresh (under streaming writes every answer is
    stale at once). Past half its bound: still served, and one refresh runs off the request."""
    app = make_app(ANALYTICS_MAX_STALENESS=60)
    clock = with_clock(app)
    cache = snapshots(app)
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    first = api.get(SALES, **RANGE)
    assert (orders_in(first), first.headers["X-Data-Age"]) == (1, "0.000")
    api.post("/api/v1/orders", {"orders": [order("A2")]})

    clock.now += 29
    young = api.get(SALES, **RANGE)
    assert (orders_in(young), young.headers["X-Data-Age"]) == (1, "29.000")
    assert young.headers["X-Data-Version"] == first.headers["X-Data-Version"]
    cache.refresher.drain()
    assert cache.local.stats.refreshes == 0

    clock.now += 1
    stale = api.get(SALES, **RANGE)
    assert (orders_in(stale), stale.headers["X-Data-Age"]) == (1, "30.000")
    cache.refresher.drain()
    fresh = api.get(SALES, **RANGE)
    assert (orders_in(fresh), fresh.headers["X-Data-Age"]) == (2, "0.000")
    assert int(fresh.headers["X-Data-Version"]) > int(first.headers["X-Data-Version"])
    assert cache.local.stats.refreshes == 1


def test_an_answer_older_than_the_bound_is_never_served(make_app, monkeypatch):
    app = make_app(ANALYTICS_MAX_STALENESS=5)
    clock = with_clock(app)
    cache = snapshots(app)
    # No background refresh: the request itself must decide the answer is too old.
    monkeypatch.setattr(cache.refresher, "submit", lambda *_: False)
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert orders_in(api.get(SALES, **RANGE)) == 1
    api.post("/api/v1/orders", {"orders": [order("A2")]})

    clock.now += 4.9
    within = api.get(SALES, **RANGE)
    assert (orders_in(within), within.headers["X-Data-Age"]) == (1, "4.900")
    clock.now += 0.2
    beyond = api.get(SALES, **RANGE)
    assert (orders_in(beyond), beyond.headers["X-Data-Age"]) == (2, "0.000")
    assert beyond.headers["X-Cache"] == "miss"


def _frozen_clock_app(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Api, Clock]:
    app = make_app(ANALYTICS_MAX_STALENESS=5)
    clock = with_clock(app)
    monkeypatch.setattr(snapshots(app).refresher, "submit", lambda *_: False)
    return client_for(app), clock


def test_after_a_quiet_spell_an_old_answer_is_only_as_stale_as_the_first_write(
    make_app, monkeypatch
):
    """An answer computed ten minutes ago that readers kept finding current (no write since)
    is, once a write lands, stale only since the last reader saw the data unchanged: served
    with that age, not recomputed by the first dashboard after the write."""
    api, clock = _frozen_clock_app(make_app, monkeypatch)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert orders_in(api.get(SALES, **RANGE)) == 1
    clock.now += 600
    unchanged = api.get(SALES, **RANGE)
    assert (orders_in(unchanged), unchanged.headers["X-Data-Age"]) == (1, "0.000")
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    clock.now += 2
    after = api.get(SALES, **RANGE)
    assert orders_in(after) == 1
    assert 2.0 <= float(after.headers["X-Data-Age"]) < 2.5
    assert after.headers["X-Cache"] == "hit"


def test_without_a_reader_to_vouch_for_it_an_old_answer_counts_from_its_computation(
    make_app, monkeypatch
):
    """No read between the computation and the write: nothing proves when the answer stopped
    being current, so it is as old as its computation and too old to serve."""
    api, clock = _frozen_clock_app(make_app, monkeypatch)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert orders_in(api.get(SALES, **RANGE)) == 1
    clock.now += 600
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    clock.now += 2
    after = api.get(SALES, **RANGE)
    assert (orders_in(after), after.headers["X-Data-Age"]) == (2, "0.000")
    assert after.headers["X-Cache"] == "miss"


def test_live_endpoints_reflect_every_write_whatever_the_bound(make_app):
    app = make_app(ANALYTICS_MAX_STALENESS=60)
    api = client_for(app)
    live: tuple[tuple[str, dict[str, Any]], ...] = (
        ("/api/v1/products/performance", {"start": "2024-03-01", "end": "2024-03-31"}),
        ("/api/v1/customers/cohorts", {"start": "2024-03", "end": "2024-03", "months": 0}),
        ("/api/v1/insights/bought-together", {}),
    )
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    before = [api.get(url, **query).data for url, query in live]
    two_skus = [("SKU-A", 1, "10.00", None), ("SKU-B", 1, "5.00", None)]
    api.post("/api/v1/orders", {"orders": [order("A2", "C2", lines=two_skus)]})
    for (url, query), old in zip(live, before, strict=True):
        after = api.get(url, **query)
        assert after.status_code == 200
        assert after.data != old, url
        assert after.headers["X-Data-Age"] == "0.000"


def test_a_bound_per_operation_overrides_the_default(make_app):
    app = make_app(ANALYTICS_MAX_STALENESS="60, get_sales=0")
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    api.get(SALES, **RANGE)
    customers = api.get("/api/v1/customers").json["data"]
    api.post("/api/v1/orders", {"orders": [order("A2", "C2")]})
    assert orders_in(api.get(SALES, **RANGE)) == 2  # live now
    assert api.get("/api/v1/customers").json["data"] == customers  # still within 60 s


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("soon", "'soon'"),
        ("-1", "'-1'"),
        ("inf", "'inf'"),
        ("5,get_sales", "'get_sales' is not <operation>=<seconds>"),
        ("5,get_order=1", "'get_order=1' is not <operation>=<seconds>"),
        ("5,rfm=later", "ANALYTICS_MAX_STALENESS (rfm)"),
    ],
)
def test_a_bad_bound_stops_the_app_naming_the_setting(value, named):
    with pytest.raises(ValueError, match="ANALYTICS_MAX_STALENESS") as caught:
        create_app({"DATABASE_URL": "sqlite://", "ANALYTICS_MAX_STALENESS": value})
    assert named in str(caught.value)


@pytest.mark.parametrize("value", ["soon", "-1", "5,rfm=10"])
def test_a_bad_ranking_bound_stops_the_app_naming_the_setting(value):
    with pytest.raises(ValueError, match="ANALYTICS_RANKING_MAX_STALENESS") as caught:
        create_app({"DATABASE_URL": "sqlite://", "ANALYTICS_RANKING_MAX_STALENESS": value})
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_keep_warm_window_stops_the_app_naming_the_setting(value, monkeypatch):
    with pytest.raises(ValueError, match="ANALYTICS_KEEP_WARM") as caught:
        create_app({"DATABASE_URL": "sqlite://", "ANALYTICS_KEEP_WARM": value})
    assert repr(value) in str(caught.value)
    monkeypatch.setenv("ANALYTICS_KEEP_WARM", value)
    with pytest.raises(ValueError, match="ANALYTICS_KEEP_WARM"):
        create_app({"DATABASE_URL": "sqlite://"})


RFM = "/api/v1/customers/rfm"


def _warm_app(make_app: Any, window_s: float) -> tuple[Flask, Api, Clock]:
    app = make_app(ANALYTICS_MAX_STALENESS=5, ANALYTICS_KEEP_WARM=window_s)
    return app, client_for(app), with_clock(app)


def test_a_ranking_read_recently_is_refreshed_ahead_of_its_bound_without_a_reader(make_app):
    """A dashboard read a ranked figure, then a write landed: past half its bound the answer
    is recomputed in the background with no one reading it, so the next read finds it
    current (without keep-warm it would be served 3 s stale, and refreshed only then)."""
    app, api, clock = _warm_app(make_app, 300)
    warm = snapshots(app).warm
    assert warm is not None
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    first = api.get(RFM)
    assert first.status_code == 200
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    clock.now += 3
    warm.tick()
    snapshots(app).refresher.drain()
    after = api.get(RFM)
    assert after.headers["X-Data-Age"] == "0.000"
    assert after.headers["X-Cache"] == "hit"
    assert after.json["segments"] != first.json["segments"]


def test_only_rankings_are_kept_warm_and_only_within_the_window(make_app):
    """A sales answer (cheap, 5 s bound) is left to its readers; a ranking nobody read within
    the window is left to go stale."""
    app, api, clock = _warm_app(make_app, 10)
    warm = snapshots(app).warm
    assert warm is not None
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert orders_in(api.get(SALES, **RANGE)) == 1
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    clock.now += 3
    assert warm.tick() == 0
    assert api.get(RFM).status_code == 200
    api.post("/api/v1/orders", {"orders": [order("A3")]})
    clock.now += 11
    assert warm.tick() == 0
    snapshots(app).refresher.drain()
    assert snapshots(app).local.stats.refreshes == 0


def test_rankings_take_their_own_bound_and_an_override_beats_both(make_app):
    """``ANALYTICS_RANKING_MAX_STALENESS`` bounds the endpoints that rank every customer
    (here RFM), ``ANALYTICS_MAX_STALENESS`` the others (sales); a per-operation override in
    the latter (churn risk) beats both."""
    app = make_app(ANALYTICS_MAX_STALENESS="1,get_churn_risk=2", ANALYTICS_RANKING_MAX_STALENESS=60)
    clock = with_clock(app)
    cache = snapshots(app)
    cache.refresher.submit = lambda *_: False  # type: ignore[method-assign]
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    churn: tuple[str, dict[str, Any]] = ("/api/v1/insights/churn-risk", {"min_days": 1})
    rfm: tuple[str, dict[str, Any]] = ("/api/v1/customers/rfm", {})
    for url, query in ((SALES, RANGE), rfm, churn):
        assert api.get(url, **query).headers["X-Data-Age"] == "0.000"
    api.post("/api/v1/orders", {"orders": [order("A2", "C2")]})
    clock.now += 1.5
    assert api.get(SALES, **RANGE).headers["X-Data-Age"] == "0.000"  # past 1 s: recomputed
    assert api.get(rfm[0], **rfm[1]).headers["X-Data-Age"] == "1.500"
    assert api.get(churn[0], **churn[1]).headers["X-Data-Age"] == "1.500"
    clock.now += 1
    assert api.get(churn[0], **churn[1]).headers["X-Data-Age"] == "0.000"  # past 2 s
    assert api.get(rfm[0], **rfm[1]).headers["X-Data-Age"] == "2.500"


def test_a_request_takes_the_answer_another_worker_is_computing(make_app):
    """Two apps on one database stand for two workers; the lease makes the second wait for
    the first's answer instead of computing it again."""
    first, second = make_app(), make_app()
    api = client_for(first)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    version = int(api.get(SALES, **RANGE).headers["X-Data-Version"])
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    shared = snapshots(first).shared
    assert shared is not None
    key = f"{SALES}?end=2024-03-31&granularity=month&start=2024-03-01"
    assert shared.claim(key)  # the first worker is computing it

    def finish() -> None:
        time.sleep(0.3)
        assert shared.save(key, Snapshot(b'{"computed": "elsewhere"}', version + 1, time.time()))

    saver = threading.Thread(target=finish)
    started = time.monotonic()
    saver.start()
    response = client_for(second).get(SALES, **RANGE)
    saver.join()
    assert time.monotonic() - started >= 0.3
    assert (response.json, response.headers["X-Cache"]) == ({"computed": "elsewhere"}, "shared")


def test_under_concurrent_writes_no_answer_is_older_than_the_bound(make_app, backend):
    """Readers and writers at once: every bounded answer counts at least the orders committed
    a bound before the read began, and says an age within the bound; once writes pause and
    the bound has passed, every bounded answer equals a computation from scratch."""
    bound = 1.0
    app = make_app(ANALYTICS_MAX_STALENESS=bound)
    key = new_key(app, "read", "write")
    api = Api(app.test_client(), key)
    committed: list[tuple[float, int]] = [(0.0, 0)]
    reads: list[tuple[float, int, float]] = []
    writing = threading.Event()
    writing.set()
    total = 30 if backend == "sqlite" else 60

    def write() -> None:
        client = Api(app.test_client(), key)
        for i in range(total):
            reply = client.post("/api/v1/orders", {"orders": [order(f"W{i}", f"C{i % 7}")]})
            assert reply.status_code == 201
            committed.append((time.monotonic(), i + 1))
            time.sleep(0.02)
        writing.clear()

    def read() -> None:
        client = Api(app.test_client(), key)
        while writing.is_set():
            began = time.monotonic()
            response = client.get(SALES, **RANGE)
            reads.append((began, orders_in(response), float(response.headers["X-Data-Age"])))

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert reads
    for began, seen, age in reads:
        known = max(n for done, n in committed if done <= began - bound)
        assert seen >= known, (began, seen, known)
        assert age <= bound
    assert any(age > 0 for _, _, age in reads) or backend == "sqlite"

    time.sleep(bound + 0.1)
    snapshots(app).refresher.drain()
    scratch = client_for(make_app(RESPONSE_CACHE_ENTRIES=0))
    for url, query in BOUNDED:
        answer = api.get(url, **query)
        assert answer.data == scratch.get(url, **query).data, url
    assert orders_in(api.get(SALES, **RANGE)) == total


def test_exact_after_concurrent_writers_pause(make_app, backend):
    """Concurrent writers with overlapping retries, then a pause: every bounded answer is exact
    (the totals checked independently, the rest against a computation from scratch)."""
    bound = 0.5
    app = make_app(ANALYTICS_MAX_STALENESS=bound)
    key = new_key(app, "read", "write")
    api = Api(app.test_client(), key)
    for url, query in BOUNDED:  # answers kept from before the writes
        assert api.get(url, **query).status_code == 200
    threads_n, batches, per_batch = (4, 3, 8) if backend != "sqlite" else (2, 3, 8)
    plan = [
        [
            [order(f"T{t}-{b}-{i}", f"C{i % 5}", lines=[("SKU-A", 1, "1.10", None)])]
            + [order(f"SHARED-{b}", "C0", lines=[("SKU-B", 3, "2.50", "0.50")])]
            for b in range(batches)
            for i in range(per_batch)
        ]
        for t in range(threads_n)
    ]
    assert ingest_concurrently(app, key, plan) == []
    time.sleep(bound + 0.1)
    totals = api.get(SALES, **RANGE).json["totals"]
    unique = threads_n * batches * per_batch
    assert totals["orders"] == unique + batches
    gross = Decimal("1.10") * unique + Decimal("7.50") * batches
    assert totals["gross_sales"] == f"{gross:.2f}"
    assert totals["customers"] == 5
    snapshots(app).refresher.drain()
    scratch = client_for(make_app(RESPONSE_CACHE_ENTRIES=0))
    for url, query in BOUNDED:
        answer = api.get(url, **query)
        assert float(answer.headers["X-Data-Age"]) <= bound
        assert answer.data == scratch.get(url, **query).data, url


def test_requests_beyond_the_bound_wait_for_one_new_computation_not_one_each(app):
    """A computation slower than the bound: requests that arrive while it runs take it when
    it began within their bound, else wait for the one next computation (whose start follows
    their arrival); nobody computes on their own, and no answer is older than the bound."""
    bound, slow = 0.3, 0.6
    computed: list[int] = []
    answers: dict[str, Any] = {}
    with app.app_context():
        cache = snapshots(app)

        def request(name: str, version: int, delay: float) -> None:
            time.sleep(delay)

            def compute() -> CachedResponse:
                computed.append(version)
                time.sleep(slow)
                return CachedResponse(f'{{"by": "{name}"}}'.encode(), 200)

            answers[name] = cache.serve("/k", version, bound, compute, lambda: None)

        # A reads version 1 and computes; a write then commits (version 2) before the rest.
        plan = [("a", 1, 0.0), ("b", 2, 0.1), ("c", 2, 0.45), ("d", 2, 0.5)]
        threads = [threading.Thread(target=request, args=step) for step in plan]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(computed) == [1, 2]  # a's, then one for both c and d
    assert answers["b"].body == b'{"by": "a"}'
    assert answers["c"].body == answers["d"].body
    assert answers["c"].body in (b'{"by": "c"}', b'{"by": "d"}')
    assert all(answer.age <= bound for answer in answers.values())


def test_a_live_answer_never_trusts_another_hosts_clock(make_app):
    """A task whose clock runs ahead stamps its answers in the future; a live read elsewhere
    after a write must still see the write (versions decide, not clocks)."""
    ahead, here = make_app(), make_app()
    skewed = lambda: time.time() + 60  # noqa: E731
    snapshots(ahead).clock = skewed
    shared = snapshots(ahead).shared
    assert shared is not None
    shared.clock = skewed
    url, query = "/api/v1/products/performance", {"start": "2024-03-01", "end": "2024-03-31"}
    api = client_for(here)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    before = client_for(ahead).get(url, **query)
    api.post("/api/v1/orders", {"orders": [order("A2")]})
    after = api.get(url, **query)
    assert (after.headers["X-Cache"], after.headers["X-Data-Age"]) == ("miss", "0.000")
    assert int(after.headers["X-Data-Version"]) > int(before.headers["X-Data-Version"])
    assert after.json["data"][0]["units"] == 2 * before.json["data"][0]["units"]


def test_a_lease_left_by_a_dead_worker_is_taken_over_when_it_expires(make_app):
    app = make_app(DB_STATEMENT_TIMEOUT=0.5)  # a lease lasts the statement timeout
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    shared = snapshots(app).shared
    assert shared is not None
    key = f"{SALES}?end=2024-03-31&granularity=month&start=2024-03-01"
    assert shared.claim(key)  # then the worker died
    started = time.monotonic()
    response = api.get(SALES, **RANGE)
    assert (orders_in(response), response.headers["X-Cache"]) == (1, "miss")
    assert 0.4 <= time.monotonic() - started < 5


def test_a_request_gives_up_with_503_when_the_computation_outlasts_its_limit(make_app):
    """Another worker keeps computing past twice the statement timeout: the request answers
    503 ``answer-not-ready`` with Retry-After rather than starting one more computation."""
    app = make_app(DB_STATEMENT_TIMEOUT=0.3)
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    with app.app_context():
        shared = snapshots(app).shared
        assert shared is not None
        slow = SharedResponses(get_db(), shared.scope, lease_s=60)  # a worker still computing
        key = f"{SALES}?end=2024-03-31&granularity=month&start=2024-03-01"
        assert slow.claim(key)
    started = time.monotonic()
    response = api.get(SALES, **RANGE)
    assert response.status_code == 503
    assert response.json["type"] == "/problems/answer-not-ready"
    assert int(response.headers["Retry-After"]) > 0
    assert 0.5 <= time.monotonic() - started < 5


def test_a_worker_that_exits_gives_its_leases_up_at_once(make_app):
    """A worker recycled (gunicorn's ``max_requests``) while its refresh thread computes an
    answer: its exit hook ends the lease, so another worker needing that answer computes it
    now instead of waiting for the lease to expire (here it would wait past its limit: 503)."""
    from types import SimpleNamespace

    from ecommerce_analytics import gunicorn_conf

    app = make_app(DB_STATEMENT_TIMEOUT=0.3)  # a waiter gives up after 0.6 s
    leaving = make_app()
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    held = snapshots(leaving).shared
    assert held is not None
    held.lease_s = 60  # far longer than the waiter's limit
    key = f"{SALES}?end=2024-03-31&granularity=month&start=2024-03-01"
    assert held.claim(key)  # its refresh thread is computing this answer
    gunicorn_conf.worker_exit(None, SimpleNamespace(wsgi=leaving))
    response = api.get(SALES, **RANGE)
    assert (response.status_code, orders_in(response), response.headers["X-Cache"]) == (
        200,
        1,
        "miss",
    )


def test_a_lease_is_not_given_up_twice_nor_once_ended(make_app):
    """Only leases still held are given up at exit: one ended by a save or a release is not
    touched again (it may be another worker's by then)."""
    app = make_app()
    shared = snapshots(app).shared
    assert shared is not None
    saved, released, held = (f"{SALES}?n={n}" for n in range(3))
    for key in (saved, released, held):
        assert shared.claim(key)
    assert shared.save(saved, Snapshot(b"{}", 1, time.time()))
    shared.release(released)
    with app.app_context():
        other = SharedResponses(get_db(), shared.scope, lease_s=60)
        assert other.claim(saved) and other.claim(released)  # another worker's now
    assert shared.release_held() == 1
    assert [other.look(key)[1] for key in (saved, released, held)] == [True, True, False]


def test_an_exiting_worker_takes_no_new_lease_even_one_racing_its_exit(make_app, monkeypatch):
    """After the exit hook a worker's refresh thread may still start a queued job: it takes
    no lease (the job is dropped), and a lease taken while the hook ran is ended at once, so
    no lease outlives the worker to hold the others off for a whole lease."""
    app = make_app()
    api = client_for(app)
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    cache = snapshots(app)
    shared = cache.shared
    assert shared is not None
    racing, later = f"{SALES}?n=racing", f"{SALES}?n=later"
    recorded = shared._holding

    def exit_hook_runs_meanwhile(key: str) -> bool:
        shared.release_held()  # the hook, between the lease's write and its record
        return recorded(key)

    monkeypatch.setattr(shared, "_holding", exit_hook_runs_meanwhile)
    assert not shared.claim(racing)
    monkeypatch.undo()
    cache.close()
    ran: list[str] = []
    assert not cache.refresher.submit(later, lambda: ran.append(later))
    assert not shared.claim(later)
    with app.app_context():
        other = SharedResponses(get_db(), shared.scope)
        assert [other.look(key)[1] for key in (racing, later)] == [False, False]
        assert other.claim(racing) and other.claim(later)  # free for the other workers
    assert ran == []


def test_an_exiting_worker_lets_its_running_refresh_end_first(make_app):
    """The exit hook waits for the refresh job running on the worker's refresh thread (it may
    be between taking a lease and recording it): the process ends once the hook returns, and
    a job killed there would leave its lease to expire."""
    cache = snapshots(make_app())
    running, finish = threading.Event(), threading.Event()
    order_seen: list[str] = []

    def refresh() -> None:
        running.set()
        finish.wait(5)
        order_seen.append("refresh ended")

    assert cache.refresher.submit("key", refresh)
    assert running.wait(5)

    def exit_hook() -> None:
        cache.close()
        order_seen.append("hook returned")

    hook = threading.Thread(target=exit_hook)
    hook.start()
    time.sleep(0.2)  # long enough for a hook that did not wait to return
    finish.set()
    hook.join(10)
    assert order_seen == ["refresh ended", "hook returned"]
