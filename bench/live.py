"""The live phase: on the quiet phase's server, a ``Writer`` streams orders through
``POST /api/v1/orders`` at a fixed rate while wrk reads every endpoint again and a ``Probe``
measures staleness (``measure_live``); ``LiveRun`` holds the outcome.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.loopback import Http
from bench.probe import PROBE_LIMIT_S, PROBE_MAX, PROBE_MIN_PERIOD_S, Probe, Staleness, percentile
from bench.reads import Row, read_rounds
from bench.server import Server
from bench.targets import Target
from bench.workload import HEALTH, READS, Mode, seeded_period
from bench.wrk_runner import Run, median_run

# Writer: share of orders from brand-new customers (the rest return: seeded customers and the
# writer's own earlier ones) and share dated "now" (the rest fall inside the seeded year).
LIVE_NEW_CUSTOMER_SHARE = 0.2
LIVE_TODAY_SHARE = 0.2
# Concurrent writer requests at most: a batch is due every batch/rate seconds; when requests
# take longer than that, up to this many overlap so the rate holds.
WRITER_THREADS = 8


@dataclass
class LiveEndpoint:
    """One endpoint's medians without and with the writer running, on the same server."""

    endpoint: str
    quiet: Run
    live: Run
    live_p95_vs_healthz: float


@dataclass
class WriterStats:
    """What the live writer sent and how the service took it; errors are non-2xx answers and
    failed requests. ``max_lag_ms``: how late the most delayed batch left against its slot."""

    target_orders_per_s: float
    achieved_orders_per_s: float
    seconds: float
    batches: int
    orders: int
    new_customers: int
    today_orders: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_lag_ms: float


@dataclass
class LiveRun:
    backend: str
    orders: int
    connections: int
    writer: WriterStats
    endpoints: list[LiveEndpoint]
    staleness: list[Staleness]
    probe_write_errors: int


@dataclass(frozen=True)
class Traffic:
    """What the live writer sends: seed-shaped orders (lines, amounts, currency) re-addressed
    to new order ids, customers drawn from ``returning`` (seeded ids) or brand new, dated in
    the seeded year or now."""

    templates: list[dict[str, Any]]
    returning: list[str]
    first_day: date
    last_day: date
    tag: str


def live_traffic(target: Target, tag: str) -> Traffic:
    """Templates from the seed generator (another seed) and up to 5,000 stored customer ids."""
    from sqlalchemy import create_engine, select

    from ecommerce_analytics.config import StoreSettings
    from ecommerce_analytics.models import Customer
    from ecommerce_analytics.seed import plan

    templates = plan(500, StoreSettings.from_config({}), seed=4343).orders
    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:
            customers = list(conn.execute(select(Customer.customer_id).limit(5000)).scalars())
    finally:
        engine.dispose()
    first, last = seeded_period()
    return Traffic(templates, customers, first, last, tag)


class Writer:
    """Streams ``batch``-order batches to ``POST /api/v1/orders`` at ``rate`` orders/s on a
    fixed schedule (batch ``i`` is due ``(i + 1) * batch / rate`` s after the start), from up to
    ``WRITER_THREADS`` requests at once, until ``stop()`` or ``max_seconds``. Every order id is
    new; ``LIVE_NEW_CUSTOMER_SHARE`` of the orders (default 20%) come from new customers, the
    rest from returning ones, and ``LIVE_TODAY_SHARE`` (20%) are dated now, the rest in the
    seeded year."""

    def __init__(
        self, base: str, key: str, traffic: Traffic, rate: float, batch: int, max_seconds: float
    ) -> None:
        self._base, self._key, self._traffic = base, key, traffic
        self._rate, self._batch, self._max_seconds = rate, batch, max_seconds
        self._interval = batch / rate
        self._rng = random.Random(7)
        self._customers = list(traffic.returning)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"live-writer-{i}", daemon=True)
            for i in range(WRITER_THREADS)
        ]
        self._t0 = 0.0
        self._next = 0
        self._orders = self._batches = self._new = self._today = self._errors = 0
        self._latencies: list[float] = []
        self._max_lag = 0.0
        self.first_errors: list[str] = []

    def start(self) -> None:
        self._t0 = time.perf_counter()
        for thread in self._threads:
            thread.start()

    def stop(self) -> WriterStats:
        """Stop sending, wait for the requests in flight, and sum up."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)
        seconds = time.perf_counter() - self._t0
        lat = self._latencies or [0.0]
        return WriterStats(
            target_orders_per_s=self._rate,
            achieved_orders_per_s=self._orders / seconds,
            seconds=seconds,
            batches=self._batches,
            orders=self._orders,
            new_customers=self._new,
            today_orders=self._today,
            errors=self._errors,
            p50_ms=percentile(lat, 50),
            p95_ms=percentile(lat, 95),
            p99_ms=percentile(lat, 99),
            max_lag_ms=self._max_lag * 1000,
        )

    def _take(self) -> tuple[float, bytes, int, int]:
        """The next slot: when it is due, its body, and its new-customer and today counts."""
        with self._lock:
            number = self._next
            self._next += 1
            orders, new, today = [], 0, 0
            for j in range(self._batch):
                order, is_new, is_today = self._order(f"{number:07d}-{j:03d}")
                orders.append(order)
                new, today = new + is_new, today + is_today
        body = json.dumps({"orders": orders}).encode()
        # Slot i is due at the end of interval i, so n slots take n intervals.
        return self._t0 + (number + 1) * self._interval, body, new, today

    def _order(self, suffix: str) -> tuple[dict[str, Any], bool, bool]:
        rng, traffic = self._rng, self._traffic
        new = not self._customers or rng.random() < LIVE_NEW_CUSTOMER_SHARE
        if new:
            customer = f"LIVE-{traffic.tag}-C{len(self._customers):06d}"
            self._customers.append(customer)
        else:
            customer = rng.choice(self._customers)
        today = rng.random() < LIVE_TODAY_SHARE
        if today:
            created = datetime.now(UTC) - timedelta(seconds=rng.uniform(0, 60))
        else:
            span = (traffic.last_day - traffic.first_day).days
            day = traffic.first_day + timedelta(days=rng.randint(0, span))
            created = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 86_399)
            )
        order = {
            **rng.choice(traffic.templates),
            "order_id": f"LIVE-{traffic.tag}-{suffix}",
            "customer_id": customer,
            "created_at": created.isoformat(),
        }
        return order, new, today

    def _run(self) -> None:
        client = Http(self._base, self._key)
        try:
            while not self._stopping.is_set():
                due, body, new, today = self._take()
                if due - self._t0 > self._max_seconds:
                    break
                delay = due - time.perf_counter()
                if delay > 0 and self._stopping.wait(delay):
                    break
                self._send(client, due, body, new, today)
        finally:
            client.close()

    def _send(self, client: Http, due: float, body: bytes, new: int, today: int) -> None:
        sent = time.perf_counter()
        try:
            status, answer, _ = client.request("POST", "/api/v1/orders", body)
            error = None if 200 <= status < 300 else f"HTTP {status}: {answer[:200]!r}"
        except (http.client.HTTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        done = time.perf_counter()
        with self._lock:
            self._batches += 1
            self._latencies.append((done - sent) * 1000)
            self._max_lag = max(self._max_lag, sent - due)
            if error is None:
                self._orders += self._batch
                self._new += new
                self._today += today
            else:
                self._errors += 1
                if len(self.first_errors) < 3:
                    self.first_errors.append(error)


def measure_live(
    server: Server,
    target: Target,
    key: str,
    mode: Mode,
    quiet: list[Row],
    backend: str,
    orders: int,
    log: Any,
) -> LiveRun:
    """The quiet rounds' endpoints again, while a ``Writer`` streams orders and a ``Probe``
    times staleness; the writer starts ``mode.warmup`` s before the first live wrk run."""
    tag = f"{int(time.time())}"
    names = [name for name, _ in (HEALTH, *READS)]
    span = mode.repeat * len(names) * mode.live_duration
    rounds_bound = mode.repeat * len(names) * (mode.live_duration + 130)
    writer = Writer(
        server.base,
        key,
        live_traffic(target, tag),
        mode.live_rate,
        mode.live_batch,
        max_seconds=mode.warmup + rounds_bound + PROBE_LIMIT_S + 60,
    )
    probe = Probe(server.base, key, tag, max(PROBE_MIN_PERIOD_S, span / PROBE_MAX))
    log(
        f"  [{backend} {orders:>9,}] live: writer at {mode.live_rate:g} orders/s "
        f"(batches of {mode.live_batch}), reads at {mode.connections} connections"
    )
    writer.start()
    try:
        time.sleep(mode.warmup)
        probe.start()
        try:
            runs = read_rounds(
                server, key, mode, mode.live_duration, f"{backend} live", orders, log
            )
        finally:
            staleness = probe.stop()
    finally:
        written = writer.stop()
    for error in writer.first_errors:
        log(f"  [{backend} {orders:>9,}] live writer error: {error}")
    log(
        f"  [{backend} {orders:>9,}] live writer: {written.achieved_orders_per_s:,.1f} of "
        f"{written.target_orders_per_s:g} orders/s, {written.errors} errors; "
        f"probe write errors {probe.write_errors}"
    )
    health = median_run(runs["healthz"])
    by_name = {row.endpoint: row.run for row in quiet}
    endpoints = []
    for name in names:
        live = health if name == "healthz" else median_run(runs[name])
        endpoints.append(LiveEndpoint(name, by_name[name], live, live.p95_ms / health.p95_ms))
    return LiveRun(
        backend, orders, mode.connections, written, endpoints, staleness, probe.write_errors
    )
