"""``customer_value_counts``, ``rfm_cells`` and ``customers.net_sales`` stay exact while writers
and refunds run concurrently on shared customers (every engine), and the figures read from them
(the LTV distribution's percentiles and histogram, churn's threshold, the customer list's order)
equal an independent computation from the raw orders once writes stop."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecommerce_analytics.models import Customer, CustomerValueCount, RfmCell
from ecommerce_analytics.money import SCALE
from ecommerce_analytics.value_buckets import NET, ORDERS, band_of, bucket_of

from .conftest import get_engine, new_key
from .factories import ingest_concurrently, order, post_concurrently


def _plan(writers: int, batches: int, per_batch: int) -> list[list[list[dict[str, Any]]]]:
    rng = random.Random(writers * 1000 + batches)
    return [
        [
            [
                order(
                    f"W{w}-{b}-{i}",
                    # Few customers, so concurrent batches keep moving the same ones between
                    # buckets; amounts across decades, so between buckets of different widths.
                    f"C{rng.randrange(8)}",
                    created_at=f"2024-03-{rng.randrange(1, 29):02d}T12:00:00+00:00",
                    lines=[
                        ("SKU-A", rng.randrange(1, 4), f"{rng.choice([0.5, 7, 130, 2400])}", None)
                    ],
                )
                for i in range(per_batch)
            ]
            for b in range(batches)
        ]
        for w in range(writers)
    ]


def test_counts_and_figures_stay_exact_under_concurrent_writers_and_refunds(make_app, backend):
    app = make_app()
    key = new_key(app, "write", "read")
    writers, batches = (4, 4) if backend != "sqlite" else (3, 3)
    plan = _plan(writers, batches, per_batch=6)
    first_wave = [batch[: batches // 2] for batch in plan]
    second_wave = [batch[batches // 2 :] for batch in plan]
    assert ingest_concurrently(app, key, first_wave) == []
    refunded = [o["order_id"] for batch in first_wave[0] for o in batch]
    writes = [[("/api/v1/orders", {"orders": b}) for b in wave] for wave in second_wave]
    refunds = [[(f"/api/v1/orders/{oid}/refunds", {"amount": "0.25"})] for oid in refunded]
    # Refunds race the second wave of orders on the same customers.
    assert post_concurrently(app, key, writes + refunds) == []

    net: dict[str, Decimal] = defaultdict(Decimal)
    orders: Counter[str] = Counter()
    last_day: dict[str, str] = {}
    for o in (o for writer in plan for batch in writer for o in batch):
        (line,) = o["lines"]
        net[o["customer_id"]] += line["quantity"] * Decimal(line["unit_price"])
        orders[o["customer_id"]] += 1
        last_day[o["customer_id"]] = max(last_day.get(o["customer_id"], ""), o["created_at"][:10])
    for o in (o for batch in first_wave[0] for o in batch):
        net[o["customer_id"]] -= Decimal("0.25")

    with Session(get_engine(app)) as session:
        stored = dict(session.execute(select(Customer.customer_id, Customer.net_sales)).all())
        counts = {
            (figure, bucket): n
            for figure, bucket, n in session.execute(
                select(
                    CustomerValueCount.figure,
                    CustomerValueCount.bucket,
                    CustomerValueCount.customers,
                ).where(CustomerValueCount.customers != 0)
            )
        }
        cells = {
            (day.isoformat(), n, band): (customers, total)
            for day, n, band, customers, total in session.execute(
                select(
                    RfmCell.last_order_date,
                    RfmCell.orders,
                    RfmCell.net_band,
                    RfmCell.customers,
                    RfmCell.net_sales,
                ).where(RfmCell.customers != 0)
            )
        }
    assert stored == dict(net)
    expected_cells: dict[tuple[str, int, int], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for customer, value in net.items():
        cell = expected_cells[(last_day[customer], orders[customer], band_of(int(value * SCALE)))]
        cell[0] += 1
        cell[1] += value
    assert cells == {k: tuple(v) for k, v in expected_cells.items()}
    expected = Counter((NET, bucket_of(int(v * SCALE))) for v in net.values())
    expected.update((ORDERS, n) for n in orders.values())
    assert counts == dict(expected)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    ltv = client.get("/api/v1/customers/ltv-distribution", headers=headers).json
    values = sorted(net.values())
    assert ltv["customers"] == len(values)
    assert ltv["min"] == f"{values[0]:.2f}" and ltv["max"] == f"{values[-1]:.2f}"
    assert ltv["percentiles"]["p50"] == f"{values[-(-50 * len(values) // 100) - 1]:.2f}"
    assert sum(b["customers"] for b in ltv["histogram"]) == len(values)
    listed = client.get("/api/v1/customers", query_string={"limit": 100}, headers=headers).json
    by_spend = sorted(net, key=lambda c: (-net[c], c))
    assert [c["customer_id"] for c in listed["data"]] == by_spend
