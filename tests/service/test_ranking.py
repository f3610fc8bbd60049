"""Ranks among customers' net spend and order counts as the percentile, histogram, RFM and
churn figures read them (``queries.ranks``: bucket counts kept at write time plus one index
walk), against a plain sort in Python, on every engine; and the bucket scheme itself."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ecommerce_analytics.ingest.value_counts import value_count_rows, write_value_counts
from ecommerce_analytics.models import Customer
from ecommerce_analytics.money import SCALE
from ecommerce_analytics.queries.ranks import (
    net_at_ranks,
    net_count_below,
    one_snapshot,
    read_buckets,
    values_at_ranks,
)
from ecommerce_analytics.value_buckets import NET, ORDERS, bucket_bounds, bucket_of

from .conftest import get_engine


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_a_value_lies_within_its_buckets_bounds(value):
    low, high = bucket_bounds(bucket_of(value))
    assert (low is None or low <= value) and value < high


@given(st.integers(min_value=-(10**12), max_value=10**15), st.integers(0, 10**15))
def test_buckets_keep_the_order_of_values(a, gap):
    assert bucket_of(a) <= bucket_of(a + gap)


def test_a_bucket_spans_at_most_a_hundredth_of_its_values():
    for value in (999, 1_000, 1_234_567, 99_999_999, 10**18):
        low, high = bucket_bounds(bucket_of(value))
        assert low is not None and high - low <= max(1, low // 100)


def _add(session: Session, i: int, net: Decimal, orders: int) -> None:
    day = date(2026, 1, 1)
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    session.add(
        Customer(
            customer_id=f"C{i:05d}",
            first_order_at=at,
            last_order_at=at,
            first_order_date=day,
            first_order_month=day,
            last_order_date=day,
            orders=orders,
            units=orders,
            gross_sales=net + Decimal("1.5"),
            discounts=Decimal("1.5"),
            returns=Decimal(0),
            net_sales=net,
        )
    )
    # Counted the way ingest counts a new customer.
    stored = (int(net * SCALE), orders)
    write_value_counts(session, value_count_rows({f"C{i:05d}": stored}, {f"C{i:05d}": stored}))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 997])
def test_every_rank_is_the_value_a_sort_puts_there(app, n):
    rng = random.Random(n)
    # Runs of ties, a negative value (refunds), amounts across several decades (so across
    # buckets of different widths) and exact multiples of bucket edges.
    nets = [
        Decimal(rng.choice([rng.randrange(-3, 12), rng.randrange(0, 10**7)]))
        / 10 ** rng.randrange(0, 5)
        for _ in range(n)
    ]
    orders = [rng.choice([1, 1, 1, 2, 3, 40]) for _ in range(n)]
    with Session(get_engine(app)) as session:
        for i, (net, count) in enumerate(zip(nets, orders, strict=True)):
            _add(session, i, net, count)
        session.flush()
        net_buckets = read_buckets(session, NET)
        found = net_at_ranks(session, net_buckets, range(1, n + 1))
        counts = values_at_ranks(read_buckets(session, ORDERS), range(1, n + 1))
        edges = sorted({int(v * SCALE) for v in nets} | {0, 1, -5, 10**6, 12_345_678})
        below = {edge: net_count_below(session, net_buckets, edge) for edge in edges}
        session.rollback()
    assert net_buckets.customers == n
    assert found == dict(enumerate(sorted(nets), start=1))
    assert counts == dict(enumerate(sorted(orders), start=1))
    assert below == {e: sum(1 for v in nets if int(v * SCALE) < e) for e in edges}


def test_a_computation_reads_one_snapshot_while_writes_commit(app):
    """Customers committed between a computation's reads of the bucket counts and of the index
    are in neither (without one snapshot, SQLite counted them in the second only: more
    customers below an edge than in all buckets, a negative histogram bucket)."""
    engine = get_engine(app)
    with Session(engine) as setup:
        for i, net in enumerate([Decimal("10"), Decimal("100.01")]):
            _add(setup, i, net, 1)
        setup.commit()
    with Session(engine) as reader:
        one_snapshot(reader)
        buckets = read_buckets(reader, NET)
        with Session(engine) as writer:
            for i in (2, 3):
                _add(writer, i, Decimal("55"), 1)
            writer.commit()
        # An edge inside the bucket the new customers join: one index range count.
        below = net_count_below(reader, buckets, int(Decimal("55.05") * SCALE))
        top = net_at_ranks(reader, buckets, [buckets.customers])
    assert buckets.customers == 2
    assert below == 1
    assert top == {2: Decimal("100.01")}
