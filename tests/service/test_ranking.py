"""Ranks among customers' net spend and order counts as the percentile, histogram, RFM and
churn figures read them (``queries.ranks``: bucket counts kept at write time plus one index
walk), against a plain sort in Python, on every engine; and the bucket scheme itself."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ecommerce_analytics.ingest.value_counts import (
    Added,
    Stored,
    value_count_rows,
    write_value_counts,
)
from ecommerce_analytics.models import Customer
from ecommerce_analytics.money import SCALE
from ecommerce_analytics.queries.ranks import (
    net_at_ranks,
    net_count_below,
    one_snapshot,
    read_buckets,
    values_at_ranks,
)
from ecommerce_analytics.queries.rfm_cells import score_cells
from ecommerce_analytics.upsert import encoders
from ecommerce_analytics.value_buckets import (
    NET,
    ORDERS,
    band_bounds,
    band_of,
    bucket_bounds,
    bucket_of,
)

from .conftest import get_engine


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_a_value_lies_within_its_buckets_bounds(value):
    low, high = bucket_bounds(bucket_of(value))
    assert (low is None or low <= value) and value < high


@given(st.integers(min_value=-(10**12), max_value=10**15), st.integers(0, 10**15))
def test_buckets_keep_the_order_of_values(a, gap):
    assert bucket_of(a) <= bucket_of(a + gap)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_a_value_lies_within_its_bands_bounds_and_its_band_within_them(value):
    band = band_of(value)
    low, high = band_bounds(band)
    assert (low is None or low <= value) and value < high
    assert band_of(high) > band
    if low is not None:
        assert band_of(low) == band and band_of(high - 1) == band


@given(st.integers(min_value=-(10**12), max_value=10**15), st.integers(0, 10**15))
def test_bands_keep_the_order_of_values(a, gap):
    assert band_of(a) <= band_of(a + gap)


def test_a_bucket_spans_at_most_a_hundredth_of_its_values():
    for value in (999, 1_000, 1_234_567, 99_999_999, 10**18):
        low, high = bucket_bounds(bucket_of(value))
        assert low is not None and high - low <= max(1, low // 100)


def _add(session: Session, i: int, net: Decimal, orders: int, day: date = date(2026, 1, 1)) -> None:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
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
    cid = f"C{i:05d}"
    stored = int(net * SCALE)
    write_value_counts(
        session,
        value_count_rows(
            {cid: Added(stored, orders, None)},
            {cid: Stored(stored, orders, day)},
            encoders(session),
        ),
    )


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


def _score(value, cuts):
    return 1 + sum(1 for cut in cuts if value > cut)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_cells_equal_scoring_every_customer(app, seed):
    """RFM's score cells from ``rfm_cells`` (bands without a cut point) and the walked bands
    equal scoring each customer, whatever bands the cut points fall in: inside a crowded band,
    on a band's first or last value, several in one band, below every value, in the negative
    band."""
    rng = random.Random(seed)
    low, high = band_bounds(band_of(1_046_500))
    assert low is not None
    customers = []
    for _ in range(600):
        # Crowded price points (many customers share a band and an exact value) and a spread
        # across decades, some negative (the band exists, though ingest never makes one).
        spread = [rng.randrange(0, 10**9), rng.randrange(0, 10**5), -rng.randrange(1, 99)]
        stored = rng.choice([1_046_500, 349_300, low, high - 1, high, *spread])
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(60))
        customers.append((Decimal(stored) / SCALE, rng.choice([1, 1, 2, 3, 7]), day))
    nets = sorted(int(net * SCALE) for net, _, _ in customers)
    cut_sets = [
        [nets[len(nets) * k // 5] for k in (1, 2, 3, 4)],
        [low, high - 1, high, 1_046_500],
        [1_046_500, 1_046_500, 1_046_501, 10**9],
        [-(10**6), -1, 0, 349_300],
    ]
    with Session(get_engine(app)) as session:
        for i, (net, orders, day) in enumerate(customers):
            _add(session, i, net, orders, day)
        session.flush()
        for m_cuts in cut_sets:
            r_cuts = [date(2026, 1, 10), date(2026, 1, 20), date(2026, 1, 20), date(2026, 2, 15)]
            f_cuts = [1, 1, 2, 3]
            got = score_cells(session, r_cuts, f_cuts, m_cuts)
            expected: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
            for net, orders, day in customers:
                stored = int(net * SCALE)
                key = (_score(day, r_cuts), _score(orders, f_cuts), _score(stored, m_cuts))
                expected[key][0] += 1
                expected[key][1] += stored
            assert sorted(got) == sorted((*k, n, total) for k, (n, total) in expected.items())
        session.rollback()
