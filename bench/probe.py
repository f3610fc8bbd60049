"""The staleness probe of the live phase: every so often it writes one marked order and polls
one read per family (``signals``: an order lookup and an aggregate each of sales, products,
customers and insights) until the answer reflects the write; ``Staleness`` sums up one signal:
ms from the write's 2xx to the first answer that reflects it, and the ``X-Data-Age`` (how old
the data behind an answer may be, in s) that the probe's reads were served with.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import Message
from typing import Any

from bench.loopback import Http
from bench.workload import seeded_period

# Probe: at most this many marked writes per live phase, spread over it (at least
# PROBE_MIN_PERIOD_S apart); each is polled every PROBE_POLL_S, first at once after the 2xx,
# for at most PROBE_LIMIT_S (then counted as not seen).
PROBE_MAX = 100
PROBE_MIN_PERIOD_S = 0.5
PROBE_POLL_S = 0.1
PROBE_LIMIT_S = 10.0
# Probe orders land on a day before the seeded year that the writer never writes to, with two
# SKUs no one else sells and a new customer each, so every signal below counts probe writes
# only: count = count before the first probe + probes acknowledged so far.
PROBE_SKUS = ("PROBE-A", "PROBE-B")
# Analytics answers may be served from data up to this many seconds old ("0": every committed
# write is in it); the probe records it for every read that carries it.
DATA_AGE_HEADER = "X-Data-Age"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(len(ranked) * pct / 100) - 1)]


@dataclass
class Staleness:
    """One signal's probe results: ms from a write's 2xx to the first response that reflects
    it (None when none did); ``stale_reads``: responses, all requested after the 2xx, that did
    not reflect it yet. ``age_p99_s``, ``age_max_s``: of the ``X-Data-Age`` every read of
    the signal was served with (None when no answer carried one)."""

    signal: str
    read: str
    probes: int
    seen: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    stale_reads: int
    errors: int
    age_p99_s: float | None
    age_max_s: float | None


@dataclass(frozen=True)
class Signal:
    """A read that must change once a probe order is stored: ``observe`` turns its answer into
    a count (None for an unexpected answer); the write is reflected once the count reaches the
    count before the first probe plus the probes acknowledged so far, or, ``per_order``, 1."""

    name: str
    path: Callable[[str], str]
    observe: Callable[[int, Any], int | None]
    per_order: bool = False


def data_age(headers: Message) -> float | None:
    """An answer's ``X-Data-Age`` in seconds, None without the header; ``ValueError`` when it is
    not a non-negative decimal."""
    text = headers.get(DATA_AGE_HEADER)
    if text is None:
        return None
    age = float(text)
    if not math.isfinite(age) or age < 0:
        raise ValueError(f"{DATA_AGE_HEADER}: {text!r}")
    return age


def _count(status: int, body: Any, figure: Callable[[Any], int]) -> int | None:
    return figure(body) if status == 200 else None


def probe_day() -> date:
    """Two weeks before the seeded year: no seeded or writer order is dated then."""
    return seeded_period()[0] - timedelta(days=14)


def signals() -> tuple[Signal, ...]:
    """One signal per read family (orders, sales, products, customers, insights); each counts
    probe writes only (the probe day, the probe SKUs, a new customer per probe)."""
    day, (sku_a, sku_b) = probe_day().isoformat(), PROBE_SKUS
    month = day[:7]

    def sku_orders(body: Any) -> int:
        return sum(int(row["orders"]) for row in body["data"] if row["sku"] == sku_a)

    def pair_orders(body: Any) -> int:
        pairs = body["data"]
        return sum(int(p["orders"]) for p in pairs if {p["sku_a"], p["sku_b"]} == {sku_a, sku_b})

    def cohort_customers(body: Any) -> int:
        return sum(int(c["customers"]) for c in body["cohorts"] if c["cohort"] == month)

    return (
        Signal(
            "order",
            lambda order_id: f"/api/v1/orders/{order_id}",
            lambda status, body: {200: 1, 404: 0}.get(status),
            per_order=True,
        ),
        Signal(
            "sales: day's orders",
            lambda _: f"/api/v1/sales?start={day}&end={day}&granularity=day",
            lambda status, body: _count(status, body, lambda b: int(b["totals"]["orders"])),
        ),
        Signal(
            "products: SKU's orders",
            lambda _: f"/api/v1/products/performance?start={day}&end={day}&metric=orders",
            lambda status, body: _count(status, body, sku_orders),
        ),
        Signal(
            "returning-rate: customers",
            lambda _: f"/api/v1/customers/returning-rate?start={day}&end={day}",
            lambda status, body: _count(status, body, lambda b: int(b["customers"])),
        ),
        Signal(
            "cohorts: cohort size",
            lambda _: f"/api/v1/customers/cohorts?start={month}&end={month}&months=0",
            lambda status, body: _count(status, body, cohort_customers),
        ),
        Signal(
            "bought-together: pair's orders",
            lambda _: f"/api/v1/insights/bought-together?sku={sku_a}&min_orders=1",
            lambda status, body: _count(status, body, pair_orders),
        ),
    )


@dataclass(frozen=True)
class Sample:
    visible_ms: float | None
    stale_reads: int
    errors: int


class Probe:
    """Every ``period_s`` (at most ``PROBE_MAX`` times) writes one marked order and polls
    every signal, all at once: the first poll right after the 2xx, then every
    ``PROBE_POLL_S`` until the answer reflects the write or ``PROBE_LIMIT_S`` has passed."""

    def __init__(self, base: str, key: str, tag: str, period_s: float) -> None:
        self._base, self._key, self._tag, self._period_s = base, key, tag, period_s
        self._signals = signals()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-probe", daemon=True)
        self._local = threading.local()
        self.samples: dict[str, list[Sample]] = {s.name: [] for s in self._signals}
        self.ages: dict[str, list[float]] = {s.name: [] for s in self._signals}
        self.write_errors = 0
        from ecommerce_analytics.config import StoreSettings

        self._currency = StoreSettings.from_config({}).currency

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Staleness]:
        """Finish the probe under way (at most ``PROBE_LIMIT_S`` more) and sum up."""
        self._stopping.set()
        self._thread.join(timeout=PROBE_LIMIT_S + 60)
        return [self._summary(s) for s in self._signals]

    def _summary(self, signal: Signal) -> Staleness:
        samples = self.samples[signal.name]
        seen = [s.visible_ms for s in samples if s.visible_ms is not None]
        ages = self.ages[signal.name]
        return Staleness(
            signal=signal.name,
            read=signal.path("{id}"),
            probes=len(samples),
            seen=len(seen),
            p50_ms=percentile(seen, 50) if seen else None,
            p99_ms=percentile(seen, 99) if seen else None,
            max_ms=max(seen) if seen else None,
            stale_reads=sum(s.stale_reads for s in samples),
            errors=sum(s.errors for s in samples),
            age_p99_s=percentile(ages, 99) if ages else None,
            age_max_s=max(ages) if ages else None,
        )

    def _client(self) -> Http:
        client: Http | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Http(self._base, self._key)
        return client

    def _get(self, signal: Signal, order_id: str) -> int | None:
        try:
            status, body, headers = self._client().request("GET", signal.path(order_id))
            age = data_age(headers)  # a malformed one makes the read an error
            if age is not None:
                self.ages[signal.name].append(age)
            return signal.observe(status, json.loads(body) if status == 200 else None)
        except (http.client.HTTPException, OSError, ValueError, KeyError, TypeError):
            return None

    def _baseline(self, signal: Signal) -> int:
        """The signal's count before the first probe (0 for per-order ones or on an error)."""
        return 0 if signal.per_order else self._get(signal, "") or 0

    def _run(self) -> None:
        writer = Http(self._base, self._key)
        with ThreadPoolExecutor(len(self._signals), thread_name_prefix="live-poll") as pool:
            before = dict(zip(self.samples, pool.map(self._baseline, self._signals), strict=True))
            acknowledged = 0
            for number in range(PROBE_MAX):
                if self._stopping.is_set():
                    break
                started = time.perf_counter()
                order_id = f"PROBE-{self._tag}-{number:04d}"
                acked_at = self._write(writer, order_id, number)
                if acked_at is not None:
                    acknowledged += 1
                    expected = {
                        s.name: 1 if s.per_order else before[s.name] + acknowledged
                        for s in self._signals
                    }
                    watches = [
                        pool.submit(self._watch, s, order_id, expected[s.name], acked_at)
                        for s in self._signals
                    ]
                    for signal, watch in zip(self._signals, watches, strict=True):
                        self.samples[signal.name].append(watch.result())
                if self._stopping.wait(max(0.0, started + self._period_s - time.perf_counter())):
                    break
        writer.close()

    def _write(self, writer: Http, order_id: str, number: int) -> float | None:
        """POST one probe order; the moment of its 2xx, or None (counted) on failure."""
        sku_a, sku_b = PROBE_SKUS
        order = {
            "order_id": order_id,
            "customer_id": f"PROBE-{self._tag}-C{number:04d}",
            "created_at": f"{probe_day().isoformat()}T12:00:00+00:00",
            "currency": self._currency,
            "lines": [
                {"sku": sku_a, "quantity": 1, "unit_price": "10.00"},
                {"sku": sku_b, "quantity": 1, "unit_price": "5.00"},
            ],
        }
        body = json.dumps({"orders": [order]}).encode()
        try:
            status, _, _ = writer.request("POST", "/api/v1/orders", body)
        except (http.client.HTTPException, OSError):
            status = 0
        if not 200 <= status < 300:
            self.write_errors += 1
            return None
        return time.perf_counter()

    def _watch(self, signal: Signal, order_id: str, expected: int, acked_at: float) -> Sample:
        stale = errors = 0
        for _ in range(int(PROBE_LIMIT_S / PROBE_POLL_S) + 1):
            seen = self._get(signal, order_id)
            now = time.perf_counter()
            if seen is None:
                errors += 1
            elif seen >= expected:
                return Sample((now - acked_at) * 1000, stale, errors)
            else:
                stale += 1
            if now - acked_at > PROBE_LIMIT_S:
                break
            time.sleep(PROBE_POLL_S)
        return Sample(None, stale, errors)
