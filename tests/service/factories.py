"""Payload builders and an independent, plain-Python model of the expected metrics."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any


def order(
    order_id: str,
    customer_id: str = "C1",
    created_at: str = "2024-03-05T12:00:00+00:00",
    lines: Sequence[tuple[str, int, str, str | None]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    lines = lines or [("SKU-A", 2, "10.00", None)]
    body: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "created_at": created_at,
        "currency": "USD",
        "lines": [
            {"sku": sku, "quantity": q, "unit_price": p, **({"discount": d} if d else {})}
            for sku, q, p, d in lines
        ],
    }
    body.update(extra)
    return body


def random_orders(n: int, seed: int = 7, start: date = date(2024, 1, 1), days: int = 120):
    """Orders spread over ``days`` with repeat customers, several lines and discounts."""
    rng = random.Random(seed)
    skus = [f"P{i:02d}" for i in range(12)]
    prices = {sku: Decimal(rng.randint(100, 9999)) / 100 for sku in skus}
    orders = []
    for i in range(n):
        moment = datetime.combine(start, datetime.min.time(), UTC) + timedelta(
            seconds=rng.randrange(days * 86400)
        )
        chosen = rng.sample(skus, rng.randint(1, 4))
        lines = []
        for sku in chosen:
            quantity = rng.randint(1, 3)
            discount = None
            if rng.random() < 0.3:
                discount = f"{(prices[sku] * quantity * Decimal('0.15')).quantize(Decimal('0.01'))}"
            lines.append((sku, quantity, f"{prices[sku]}", discount))
        orders.append(
            order(
                f"O{i:04d}",
                f"C{rng.randint(1, n // 3):03d}",
                moment.isoformat(),
                lines,
                shipping="4.99",
                tax="1.25",
            )
        )
    return orders


def period_of(day: date, granularity: str) -> date:
    """The start of the day, week (Monday) or month ``day`` falls in."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def line_gross(line: dict[str, Any]) -> Decimal:
    return Decimal(line["quantity"]) * Decimal(line["unit_price"])


def line_discount(line: dict[str, Any]) -> Decimal:
    return Decimal(line.get("discount") or "0")


def order_day(o: dict[str, Any]) -> date:
    return datetime.fromisoformat(o["created_at"]).astimezone(UTC).date()


def ingest_concurrently(app: Any, key: str, batches_per_writer: list[list[list[dict[str, Any]]]]):
    """Post each writer's batches from its own thread at once; return the failed responses.

    ``batches_per_writer[t]`` is the list of ``orders`` payloads thread ``t`` sends, in order.
    """
    return post_concurrently(
        app,
        key,
        [
            [("/api/v1/orders", {"orders": batch}) for batch in batches]
            for batches in batches_per_writer
        ],
    )


def post_concurrently(app: Any, key: str, posts_per_writer: list[list[tuple[str, Any]]]):
    """Send each writer's ``(url, json body)`` posts from its own thread at once, in order;
    return the bodies of the answers that were not 200 or 201."""
    errors: list[object] = []

    def writer(posts: list[tuple[str, Any]]) -> None:
        client = app.test_client()
        for url, body in posts:
            r = client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
            if r.status_code not in (200, 201):
                errors.append(r.json)

    threads = [threading.Thread(target=writer, args=(posts,)) for posts in posts_per_writer]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def expected_cohorts(orders: list[dict[str, Any]], months: int) -> dict[str, Any]:
    """``{"YYYY-MM": (size, [(active, revenue), ...])}`` from the raw orders, independently."""
    first: dict[str, date] = {}
    for o in orders:
        day = order_day(o)
        first[o["customer_id"]] = min(first.get(o["customer_id"], day), day)
    cohort_of = {c: d.replace(day=1) for c, d in first.items()}
    active: dict[tuple[date, int], set[str]] = defaultdict(set)
    revenue: dict[tuple[date, int], Decimal] = defaultdict(Decimal)
    for o in orders:
        cohort = cohort_of[o["customer_id"]]
        day = order_day(o)
        k = (day.year - cohort.year) * 12 + day.month - cohort.month
        active[(cohort, k)].add(o["customer_id"])
        revenue[(cohort, k)] += sum(line_gross(ln) - line_discount(ln) for ln in o["lines"])
    result = {}
    for cohort in sorted(set(cohort_of.values())):
        size = sum(1 for c in cohort_of.values() if c == cohort)
        result[cohort.strftime("%Y-%m")] = (
            size,
            [(len(active[(cohort, k)]), money(revenue[(cohort, k)])) for k in range(months + 1)],
        )
    return result


class Clock:
    """A settable wall clock (epoch seconds, starting now) for the answer cache and its
    leases."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now
