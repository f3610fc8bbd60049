"""Revenue insights: products bought together (``product_pairs``) and churn-risk customers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import BigInteger, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from ..config import StoreSettings
from ..models import Customer, DailySales, Product, ProductPair
from ..money import fmt, ratio
from ..schemas import (
    BoughtTogether,
    BoughtTogetherQuery,
    ChurnCustomer,
    ChurnQuery,
    ChurnRisk,
    ProductPairOut,
)
from ..value_buckets import NET
from .customers import CustomerSnapshot, nearest_rank_index, page, resolve_as_of
from .ranks import net_at_ranks, one_snapshot, read_buckets


def bought_together(session: Session, q: BoughtTogetherQuery) -> BoughtTogether:
    """Pairs of products in the same order, all time. For a pair (A, B) over N orders:
    support = orders(A and B) / N, confidence A->B = orders(A and B) / orders(A),
    lift = support / (P(A) x P(B))."""
    total = int(session.scalar(select(func.sum(DailySales.orders))) or 0)
    a, b = aliased(Product), aliased(Product)
    # Ordering only; the exact ratios are computed in Python below.
    # BIGINT: the product of two products' order counts overflows INTEGER (PostgreSQL) once
    # best sellers pass ~46k orders each (1M orders in the benchmark).
    lift_order = (
        ProductPair.orders * literal_column("1.0") / (cast(a.orders, BigInteger) * b.orders)
    )
    order_key = lift_order if q.sort == "lift" else ProductPair.orders
    stmt = (
        select(ProductPair.sku_a, ProductPair.sku_b, ProductPair.orders, a.orders, b.orders)
        .join(a, a.sku == ProductPair.sku_a)
        .join(b, b.sku == ProductPair.sku_b)
        .where(ProductPair.orders >= q.min_orders)
    )
    if q.sku is not None:
        stmt = stmt.where(or_(ProductPair.sku_a == q.sku, ProductPair.sku_b == q.sku))
    rows = list(
        session.execute(
            stmt.order_by(order_key.desc(), ProductPair.sku_a, ProductPair.sku_b)
            .limit(q.limit + 1)
            .offset(q.offset)
        )
    )
    data = []
    for sku_a, sku_b, both, orders_a, orders_b in rows[: q.limit]:
        if q.sku is not None and sku_b == q.sku:
            # Report from the requested product's point of view.
            sku_a, sku_b, orders_a, orders_b = sku_b, sku_a, orders_b, orders_a
        data.append(
            ProductPairOut(
                sku_a=sku_a,
                sku_b=sku_b,
                orders=both,
                support=ratio(both, total) or "0",
                confidence_a_to_b=ratio(both, orders_a) or "0",
                confidence_b_to_a=ratio(both, orders_b) or "0",
                lift=ratio(both * total, orders_a * orders_b) or "0",
            )
        )
    return BoughtTogether(
        total_orders=total, data=data, pagination=page(q.limit, q.offset, len(rows) > q.limit)
    )


def churn_risk(session: Session, q: ChurnQuery, store: StoreSettings) -> ChurnRisk:
    """High-value customers (net spend at or above the ``value_percentile`` percentile) whose
    last order is more than ``max(min_days, 2 x their average days between orders)`` before
    ``as_of``; highest spend first."""
    one_snapshot(session)
    as_of = resolve_as_of(session, q.as_of)
    buckets = read_buckets(session, NET)
    n = buckets.customers
    exp = store.exponent
    if as_of is None or not n:
        return ChurnRisk(
            as_of=as_of,
            currency=store.currency,
            value_threshold=None,
            data=[],
            pagination=page(q.limit, q.offset, False),
        )
    # The threshold is found in the database; only customers above it who have not ordered
    # for more than ``min_days`` (necessary for either rule) come back to Python.
    rank = nearest_rank_index(n, q.value_percentile)
    threshold = net_at_ranks(session, buckets, [rank])[rank]
    net = Customer.net_sales
    # Highest spend first (down its index), streamed: the interval rule is checked in Python
    # row by row and the scan stops once the page and one more match (for ``next_offset``) are
    # found, so neither memory nor Python work grows with the number of customers.
    stmt = (
        select(
            Customer.customer_id,
            Customer.first_order_at,
            Customer.last_order_at,
            Customer.last_order_date,
            Customer.orders,
            net,
        )
        .where(
            net >= threshold,
            net > 0,
            Customer.last_order_date < as_of - timedelta(days=q.min_days),
        )
        .order_by(net.desc(), Customer.customer_id)
        .execution_options(yield_per=500)
    )
    window: list[ChurnCustomer] = []
    matches = 0
    wanted = q.offset + q.limit
    result = session.execute(stmt)
    try:
        for row in result:
            c = CustomerSnapshot(*row)
            days = (as_of - c.last_order_date).days
            interval = None
            if c.orders >= 2:
                interval = round((c.last_order_at - c.first_order_at).days / (c.orders - 1))
            if days <= max(q.min_days, 2 * (interval or 0)):
                continue
            matches += 1
            if matches > wanted:
                break
            if matches > q.offset:
                window.append(
                    ChurnCustomer(
                        customer_id=c.customer_id,
                        net_sales=fmt(c.net_sales, exp),
                        orders=c.orders,
                        last_order_at=c.last_order_at,
                        days_since_last_order=days,
                        expected_interval_days=interval,
                    )
                )
    finally:
        result.close()
    return ChurnRisk(
        as_of=as_of,
        currency=store.currency,
        value_threshold=fmt(threshold, exp),
        data=window,
        pagination=page(q.limit, q.offset, matches > wanted),
    )
