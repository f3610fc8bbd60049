"""Deterministic demo data: repeat customers, weekly and yearly seasonality, a long tail of
products and a few refunds, written through the same validation and ingest path as the API."""

from __future__ import annotations

import random
from array import array
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from itertools import accumulate, chain, repeat
from typing import Any, TypeVar

from .config import StoreSettings
from .db import Database, run_in_transaction
from .ingest import ingest_orders, record_refund, validate_orders
from .money import quantize
from .schemas import OrderBatchIn, RefundIn

DEFAULT_SEED = 42
DEFAULT_END = date(2025, 6, 30)
DAYS = 365
PRODUCTS = 150
BATCH = 500
RETURNING_SHARE = 0.45
REFUND_SHARE = 0.04
# Relative demand per calendar month: a January lull and a November-December peak.
MONTH_WEIGHT = {1: 0.75, 2: 0.8, 3: 0.9, 4: 0.95, 5: 1.0, 6: 1.0, 7: 0.95, 8: 1.0}
MONTH_WEIGHT.update({9: 1.0, 10: 1.1, 11: 1.6, 12: 1.9})


@dataclass(frozen=True)
class SeedPlan:
    orders: list[dict[str, Any]]
    refunds: list[tuple[str, dict[str, Any]]]


_T = TypeVar("_T")

# One generated order: its payload and, for some, a refund of it ``(order_id, payload)``.
Planned = tuple[dict[str, Any], tuple[str, dict[str, Any]] | None]


def _catalogue(rng: random.Random, exponent: int) -> list[tuple[str, Decimal, float]]:
    items = []
    for rank in range(1, PRODUCTS + 1):
        price = Decimal(str(max(2.0, rng.lognormvariate(3.1, 0.7))))
        # Zipf-like popularity: a few best sellers and a long tail.
        items.append((f"SKU-{rank:04d}", quantize(price, exponent), 1.0 / rank**1.1))
    return items


def _picker(rng: random.Random, population: list[_T], weights: list[float]) -> Callable[[], _T]:
    """``rng.choices(population, weights=weights)[0]`` with the cumulative weights summed once:
    the same single ``rng.random()`` draw and the same pick as ``random.choices`` (which does
    exactly this bisection), without rebuilding the cumulative list on every call (for the
    150-product catalogue that was ~40% of ``iter_plan``'s time)."""
    cumulative = list(accumulate(weights))
    total = cumulative[-1] + 0.0
    last = len(cumulative) - 1
    draw = rng.random

    def pick() -> _T:
        return population[bisect(cumulative, draw() * total, 0, last)]

    return pick


def _days(rng: random.Random, n: int, end: date) -> Iterator[date]:
    """The ``n`` order days, ascending: ``sorted(rng.choices(days, weights, k=n))``, made as
    ``choices`` makes it (the same ``n`` draws, in order, all before any other) but counted per
    day instead of listed and sorted, so memory does not grow with ``n``."""
    days = [end - timedelta(days=i) for i in range(DAYS)]
    weights = [
        MONTH_WEIGHT[d.month] * (1.3 if d.weekday() >= 5 else 1.0) * (1 + 0.4 * (DAYS - i) / DAYS)
        for i, d in enumerate(days)
    ]
    pick = _picker(rng, list(range(DAYS)), weights)
    counts = [0] * DAYS
    for _ in range(n):
        counts[pick()] += 1
    return chain.from_iterable(repeat(days[i], counts[i]) for i in reversed(range(DAYS)))


def plan(
    n: int, store: StoreSettings, seed: int = DEFAULT_SEED, end: date = DEFAULT_END
) -> SeedPlan:
    """The orders (as API payload dicts) and refunds to write; same inputs, same data."""
    orders: list[dict[str, Any]] = []
    refunds: list[tuple[str, dict[str, Any]]] = []
    for order, refund in iter_plan(n, store, seed, end):
        orders.append(order)
        if refund is not None:
            refunds.append(refund)
    return SeedPlan(orders=orders, refunds=refunds)


def refund_moment(ordered: datetime, days_later: int, last_moment: datetime) -> datetime:
    """When a generated refund happens: ``days_later`` after the order, but not after the
    plan's ``last_moment`` and never before the order itself (an order in the last minute of
    the last day is refunded at once; at millions of orders some always land there)."""
    return max(ordered, min(ordered + timedelta(days=days_later), last_moment))


def iter_plan(
    n: int, store: StoreSettings, seed: int = DEFAULT_SEED, end: date = DEFAULT_END
) -> Iterator[Planned]:
    """``plan`` as a stream, order by order: memory stays flat whatever ``n`` but for the
    customer draw list (a 4-byte customer number per order so far).

    Bulk seeding (``bench/bulk_seed.py``) generates millions of orders with it, so what does
    not change between orders is computed once (weights, price strings, bundle partners, each
    day's midnight); the random draws are the same calls in the same order, so the output is
    unchanged."""
    rng = random.Random(seed)
    exp = store.exponent
    catalogue = _catalogue(rng, exp)
    skus = [c[0] for c in catalogue]
    price = {c[0]: c[1] for c in catalogue}
    price_text = {sku: f"{p:f}" for sku, p in price.items()}
    # Bundles: SKU-0001 goes with SKU-0002, 0003 with 0004, ... (the first 20 products).
    partner_of = {
        sku: f"SKU-{rank + 1 if rank % 2 else rank - 1:04d}"
        for sku in skus
        if (rank := int(sku[4:])) <= 20
    }
    pick_sku = _picker(rng, skus, [c[2] for c in catalogue])
    pick_count = _picker(rng, [1, 2, 3, 4], [55, 25, 13, 7])
    pick_quantity = _picker(rng, [1, 2, 3], [80, 15, 5])
    random_ = rng.random
    shipping_fee = f"{quantize(Decimal('4.99'), exp):f}"
    free_shipping = Decimal(50)
    tax_rate = Decimal("0.08")
    zero = Decimal(0)
    # Customer numbers, one per order so far (4 bytes each: the draw is over past orders).
    past_buyers = array("I")
    new_customers = 0
    last_moment = datetime.combine(end, time(23, 59), store.timezone)
    midnight_of: date | None = None
    midnight = last_moment
    for number, day in enumerate(_days(rng, n, end), start=1):
        if past_buyers and random_() < RETURNING_SHARE:
            # Proportional to past orders: loyal customers keep coming back.
            customer_number = rng.choice(past_buyers)
        else:
            new_customers += 1
            customer_number = new_customers
        past_buyers.append(customer_number)
        customer = f"CUST-{customer_number:05d}"
        count = pick_count()
        chosen: list[str] = []
        while len(chosen) < count:
            sku = pick_sku()
            if sku not in chosen:
                chosen.append(sku)
        partner = partner_of.get(chosen[0])
        if partner is not None and random_() < 0.5 and partner not in chosen:
            chosen.append(partner)
        lines: list[dict[str, Any]] = []
        merchandise = zero
        for sku in chosen:
            quantity = pick_quantity()
            line_total = price[sku] * quantity
            line: dict[str, Any] = {
                "sku": sku,
                "quantity": quantity,
                "unit_price": price_text[sku],
            }
            if random_() < 0.15:
                discount = quantize(line_total * Decimal(rng.choice(["0.1", "0.2"])), exp)
                merchandise += line_total - discount
                if discount:
                    line["discount"] = f"{discount:f}"
            else:
                merchandise += line_total
            lines.append(line)
        if day is not midnight_of:
            midnight_of, midnight = day, datetime.combine(day, time(), store.timezone)
        moment = midnight + timedelta(seconds=rng.randrange(86_400))
        order_id = f"SEED-{number:06d}"
        payload = {
            "order_id": order_id,
            "customer_id": customer,
            "created_at": moment.isoformat(),
            "currency": store.currency,
            "lines": lines,
            "shipping": "0" if merchandise >= free_shipping else shipping_fee,
            "tax": f"{quantize(merchandise * tax_rate, exp):f}",
        }
        refund: tuple[str, dict[str, Any]] | None = None
        if random_() < REFUND_SHARE:
            line = rng.choice(lines)
            amount = price[line["sku"]] * line["quantity"] - Decimal(line.get("discount", "0"))
            when = refund_moment(moment, rng.randint(3, 20), last_moment)
            refund = (
                order_id,
                {
                    "refund_id": f"SEED-R-{number:06d}",
                    "amount": f"{amount:f}",
                    "created_at": when.isoformat(),
                    "reason": rng.choice(["damaged", "wrong size", "not as described"]),
                    "lines": [
                        {
                            "sku": line["sku"],
                            "quantity": line["quantity"],
                            "amount": f"{amount:f}",
                        }
                    ],
                },
            )
        yield payload, refund


def seed(
    database: Database,
    store: StoreSettings,
    n: int,
    seed: int = DEFAULT_SEED,
    end: date = DEFAULT_END,
    progress: Callable[[int], None] | None = None,
    shard: tuple[int, int] = (0, 1),
) -> tuple[int, int]:
    """Write the plan; returns (orders created, refunds created). Re-running adds nothing.

    Streams: orders are generated, validated and written ``BATCH`` at a time, each batch's
    refunds right after it, so memory does not grow with ``n``. ``progress`` (default: none)
    is called after each batch with the number of orders written in it.

    ``shard=(k, count)`` (default ``(0, 1)``: everything) writes only batches k, k + count,
    k + 2 * count, ... of the plan, so ``count`` processes with shards 0 to count - 1 write the
    whole plan together, in parallel (each refund travels with its order's batch; rollups are
    additive, so the write order does not change the result)."""
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be (k, count) with 0 <= k < count, got {shard!r}")
    now = datetime.now(UTC)
    created = refunded = 0
    batch_number = 0
    chunk: list[dict[str, Any]] = []
    pending: list[tuple[str, dict[str, Any]]] = []

    def flush() -> None:
        nonlocal created, refunded, batch_number
        mine = batch_number % count == index
        batch_number += 1
        if not mine:
            chunk.clear()
            pending.clear()
            return
        if chunk:
            batch = OrderBatchIn.model_validate({"orders": chunk})
            validate_orders(batch.orders, store, now)
            result = run_in_transaction(
                database, partial(ingest_orders, orders=batch.orders, store=store, now=now)
            )
            created += len(result.created)
        written = len(chunk)
        for order_id, payload in pending:
            body = RefundIn.model_validate(payload)
            outcome = run_in_transaction(
                database,
                partial(record_refund, order_id=order_id, body=body, store=store, now=now),
            )
            refunded += int(outcome.created)
        chunk.clear()
        pending.clear()
        if progress is not None and written:
            progress(written)

    for order, refund in iter_plan(n, store, seed, end):
        chunk.append(order)
        if refund is not None:
            pending.append(refund)
        if len(chunk) >= BATCH:
            flush()
    flush()
    return created, refunded
