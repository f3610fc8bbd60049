"""Customer analytics from the per-customer rollup (``customers``), ``cohort_months`` and the
order-day rollups (``customer_gaps``, ``lone_first_orders``).

Lifetime value, distribution and RFM read the per-customer rollup, never the orders. Ranks
(percentiles, histogram edges, quintile cut points) come from the customers per value bucket
and the net spend index (``ranks``), without sorting every customer; RFM's scores, segments
and paged window are computed in the database, which returns a bounded number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..errors import Problem
from ..models import CohortMonthly, Customer, DailySales, LoneFirstOrder
from ..money import SCALE, ZERO, fmt, quantize, ratio
from ..periods import add_months, months_between
from ..schemas import (
    Cohort,
    CohortMonth,
    CohortQuery,
    CohortReport,
    CustomerList,
    CustomerListQuery,
    CustomerValue,
    DistributionQuery,
    HistogramBucket,
    LtvDistribution,
    OptionalRange,
    Pagination,
    ReturningRate,
    RfmCustomer,
    RfmQuery,
    RfmReport,
    RfmSegmentSummary,
)
from ..value_buckets import NET, ORDERS
from .customer_counts import distinct_customers, latest_order_day
from .ranks import (
    net_at_ranks,
    net_count_below,
    one_snapshot,
    read_buckets,
    read_last_days,
    values_at_ranks,
)
from .rfm_cells import score_cells, score_expr

MAX_COHORTS = 36
PERCENTILES = (10, 25, 50, 75, 90, 99)


def page(limit: int, offset: int, has_more: bool) -> Pagination:
    return Pagination(limit=limit, offset=offset, next_offset=offset + limit if has_more else None)


def customer_list(session: Session, q: CustomerListQuery, store: StoreSettings) -> CustomerList:
    """Lifetime value per customer, highest first; ties broken by customer id."""
    # Net spend (the default) walks its index (``ix_customers_net_sales``) for one page;
    # the other orders sort every customer.
    key = {
        "net_sales": Customer.net_sales,
        "orders": Customer.orders,
        "last_order_at": Customer.last_order_at,
    }
    rows = list(
        session.scalars(
            select(Customer)
            .order_by(key[q.sort].desc(), Customer.customer_id)
            .limit(q.limit + 1)
            .offset(q.offset)
        )
    )
    exp = store.exponent
    data = [
        CustomerValue(
            customer_id=c.customer_id,
            net_sales=fmt(c.net_sales, exp),
            gross_sales=fmt(c.gross_sales, exp),
            discounts=fmt(c.discounts, exp),
            returns=fmt(c.returns, exp),
            orders=c.orders,
            units=c.units,
            average_order_value=fmt((c.gross_sales - c.discounts) / c.orders, exp),
            first_order_at=c.first_order_at,
            last_order_at=c.last_order_at,
        )
        for c in rows[: q.limit]
    ]
    return CustomerList(
        currency=store.currency, data=data, pagination=page(q.limit, q.offset, len(rows) > q.limit)
    )


def nearest_rank_index(n: int, pct: int) -> int:
    """The 1-based rank of the nearest-rank ``pct`` percentile among ``n`` values."""
    return max(1, -(-pct * n // 100))


def _scaled(value: Decimal) -> int:
    return int(value * SCALE)


def net_total(session: Session) -> Decimal:
    """Net spend of every customer together: the store's gross - discounts - returns, summed
    over days (``daily_sales``: the same orders and refunds, a row per day)."""
    total = session.scalar(
        select(func.sum(DailySales.gross_sales - DailySales.discounts - DailySales.returns))
    )
    return Decimal(total or 0) / SCALE


def ltv_distribution(
    session: Session, q: DistributionQuery, store: StoreSettings
) -> LtvDistribution:
    """Net lifetime spend per customer: percentiles and an equal-width histogram min..max.

    From the net spend buckets (``ranks``) and index: the extremes are the index's ends, each
    histogram edge and percentile one walk within one bucket, the total a sum over days."""
    one_snapshot(session)
    buckets = read_buckets(session, NET)
    n = buckets.customers
    exp = store.exponent
    if not n:
        return LtvDistribution(
            currency=store.currency,
            customers=0,
            total=fmt(ZERO, exp),
            mean=None,
            min=None,
            max=None,
            percentiles={},
            histogram=[],
        )
    total = net_total(session)
    at = {p: nearest_rank_index(n, p) for p in PERCENTILES}
    values = net_at_ranks(session, buckets, [1, n, *at.values()])
    low, high = values[1], values[n]
    width = (high - low) / q.buckets
    # Bucket i holds the stored amounts v with floor((v - low) x buckets / (high - low)) = i
    # (the maximum in the last): exact integer arithmetic, so its lower edge is the smallest
    # v with (v - low) x buckets >= i x (high - low).
    lo, span = _scaled(low), _scaled(high) - _scaled(low)
    # Customers below each bucket's lower edge; every customer in the first when all are equal.
    edges = range(1, q.buckets)
    if span:
        inner = [net_count_below(session, buckets, lo + -(-i * span // q.buckets)) for i in edges]
    else:
        inner = [n] * len(edges)
    below = [0, *inner, n]
    histogram = [
        HistogramBucket(
            lower=fmt(low + width * i, exp),
            upper=fmt(low + width * (i + 1) if i < q.buckets - 1 else high, exp),
            customers=below[i + 1] - below[i],
        )
        for i in range(q.buckets)
    ]
    return LtvDistribution(
        currency=store.currency,
        customers=n,
        total=fmt(total, exp),
        mean=fmt(quantize(total / n, exp), exp),
        min=fmt(low, exp),
        max=fmt(high, exp),
        percentiles={f"p{p}": fmt(values[at[p]], exp) for p in PERCENTILES},
        histogram=histogram,
    )


def returning_rate(session: Session, q: OptionalRange) -> ReturningRate:
    """Share of customers who ordered (in the range) that are returning: their order in the
    range is not their first ever (first order before ``start``, or 2+ orders in the range).
    Without a range: customers with 2+ orders among all customers."""
    if q.start is None or q.end is None:
        # Customers per order count (``ranks``): a few hundred rows, not a count of every one.
        buckets = read_buckets(session, ORDERS)
        total = buckets.customers
        returning = total - buckets.customers_below(2)
    else:
        total = distinct_customers(session, q.start, q.end)
        # Not returning: first order ever in the range, alone on its day, the next one after
        # the range (or none yet: ``next_day = first_day``).
        lone = LoneFirstOrder
        single = session.scalar(
            select(func.sum(lone.customers)).where(
                lone.first_day.between(q.start, q.end),
                (lone.next_day > q.end) | (lone.next_day == lone.first_day),
            )
        )
        returning = total - int(single or 0)
    return ReturningRate(
        start=q.start,
        end=q.end,
        customers=total,
        returning_customers=returning,
        returning_rate=ratio(returning, total),
    )


def cohorts(session: Session, q: CohortQuery, store: StoreSettings) -> CohortReport:
    """Monthly acquisition cohorts: customers by month of first order, then per month since,
    how many ordered again (retention) and their order value (gross - discounts)."""
    if months_between(q.start, q.end) + 1 > MAX_COHORTS:
        raise Problem(
            400, "range-too-large", "Range too large", f"At most {MAX_COHORTS} cohorts per request."
        )
    last_cohort_end = add_months(q.end, q.months + 1)
    # One row per (cohort, activity month), kept exact at write time: O(cohorts x months).
    # Every customer orders in their first month, so row (c, c) counts cohort c's customers.
    sizes: dict[date, int] = {}
    activity: dict[date, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    stmt = select(
        CohortMonthly.cohort_month,
        CohortMonthly.month_start,
        CohortMonthly.customers,
        CohortMonthly.revenue,
    ).where(
        CohortMonthly.cohort_month.between(q.start, q.end),
        CohortMonthly.month_start < last_cohort_end,
        CohortMonthly.customers > 0,
    )
    for cohort_month, month, active, revenue in session.execute(stmt):
        offset = months_between(cohort_month, month)
        if offset == 0:
            sizes[cohort_month] = int(active)
        if 0 <= offset <= q.months:
            activity[cohort_month][offset] = (int(active), Decimal(revenue or ZERO))
    exp = store.exponent
    result = []
    for cohort_month in sorted(sizes):
        size = sizes[cohort_month]
        cumulative = ZERO
        months = []
        for offset in range(q.months + 1):
            active, revenue = activity[cohort_month].get(offset, (0, ZERO))
            cumulative += revenue
            months.append(
                CohortMonth(
                    month=offset,
                    active_customers=active,
                    retention=ratio(active, size) or "0",
                    revenue=fmt(revenue, exp),
                    cumulative_revenue_per_customer=fmt(quantize(cumulative / size, exp), exp),
                )
            )
        result.append(Cohort(cohort=cohort_month.strftime("%Y-%m"), customers=size, months=months))
    return CohortReport(currency=store.currency, cohorts=result)


# ---- RFM ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerSnapshot:
    customer_id: str
    first_order_at: datetime
    last_order_at: datetime
    last_order_date: date
    orders: int
    net_sales: Decimal


def resolve_as_of(session: Session, as_of: date | None) -> date | None:
    """Default ``as_of`` to the latest order day; an earlier one cannot be answered from
    lifetime rollups, so it is a 400 rather than a silently wrong answer."""
    latest = latest_order_day(session)
    if as_of is None:
        return latest
    if latest is not None and as_of < latest:
        raise Problem(
            400,
            "as-of-before-latest-order",
            "as_of is before the latest order",
            f"Customer figures are lifetime totals; as_of must be on or after {latest}.",
        )
    return as_of


def segment(r: int, f: int, m: int) -> str:
    """Map R, F, M scores to a named segment; rules are checked in this order."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r <= 2 and f >= 4 and m >= 4:
        return "cant_lose"
    if r >= 3 and f >= 4:
        return "loyal"
    if r >= 4 and f >= 2:
        return "potential_loyalist"
    if r >= 4:
        return "new"
    if r == 3 and f <= 2:
        return "promising"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r == 2:
        return "hibernating"
    if r == 1:
        return "lost"
    return "need_attention"


def quintile_ranks(n: int) -> list[int]:
    """1-based ranks of the four quintile cut points among ``n`` sorted values: the values at
    positions ``n x k // 5`` (0-based, k = 1..4) of the sorted list."""
    return [min(n - 1, (n * k) // 5) + 1 for k in (1, 2, 3, 4)]


def _segment_expr(r: Any, f: Any, m: Any) -> ColumnElement[str]:
    """SQL for ``segment``, the same rules in the same order."""
    return case(
        (and_(r >= 4, f >= 4, m >= 4), "champions"),
        (and_(r <= 2, f >= 4, m >= 4), "cant_lose"),
        (and_(r >= 3, f >= 4), "loyal"),
        (and_(r >= 4, f >= 2), "potential_loyalist"),
        (r >= 4, "new"),
        (and_(r == 3, f <= 2), "promising"),
        (and_(r <= 2, f >= 3), "at_risk"),
        (r == 2, "hibernating"),
        (r == 1, "lost"),
        else_="need_attention",
    )


def rfm(session: Session, q: RfmQuery, store: StoreSettings) -> RfmReport:
    one_snapshot(session)
    as_of = resolve_as_of(session, q.as_of)
    net_buckets = read_buckets(session, NET)
    n = net_buckets.customers
    exp = store.exponent
    if as_of is None or not n:
        return RfmReport(
            as_of=as_of,
            currency=store.currency,
            segments=[],
            data=[],
            pagination=page(q.limit, q.offset, False),
        )
    # Quintile cut points, found in the database. Fewer days since the last order is better,
    # so recency scores on the last order date (later is better) and equals scoring the
    # negated recency in days.
    ranks = quintile_ranks(n)
    net = Customer.net_sales
    r_at = values_at_ranks(read_last_days(session), ranks)
    f_at = values_at_ranks(read_buckets(session, ORDERS), ranks)
    m_at = net_at_ranks(session, net_buckets, ranks)
    scored = select(
        Customer.customer_id.label("customer_id"),
        Customer.last_order_date.label("last_order_date"),
        Customer.orders.label("orders"),
        net.label("net"),
        score_expr(Customer.last_order_date, [r_at[k] for k in ranks]).label("r"),
        score_expr(Customer.orders, [f_at[k] for k in ranks]).label("f"),
        score_expr(net, [m_at[k] for k in ranks]).label("m"),
    ).subquery()
    # Customers and net spend per (R, F, M) score cell (at most 125), from the RFM cells and
    # the customers of the net bands holding a cut point (``rfm_cells``). The segment summary
    # and where each score total starts in the page come from them.
    cells = score_cells(
        session,
        [r_at[k] for k in ranks],
        [f_at[k] for k in ranks],
        [int(m_at[k] * SCALE) for k in ranks],
    )
    per_segment: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_total: dict[int, int] = defaultdict(int)
    for r, f, m, count, total in cells:
        name = segment(r, f, m)
        per_segment[name][0] += count
        per_segment[name][1] += total
        if q.segment is None or name == q.segment:
            per_total[r + f + m] += count
    segments = [
        RfmSegmentSummary(
            segment=name,
            customers=count,
            share=ratio(count, n) or "0",
            net_sales=fmt(Decimal(total) / SCALE, exp),
        )
        for name, (count, total) in sorted(per_segment.items(), key=lambda s: (-s[1][0], s[0]))
    ]
    rows = _rfm_page(session, scored, per_total, q)
    window = [
        RfmCustomer(
            customer_id=row.customer_id,
            recency_days=(as_of - row.last_order_date).days,
            frequency=row.orders,
            monetary=fmt(Decimal(row.net), exp),
            r=int(row.r),
            f=int(row.f),
            m=int(row.m),
            segment=row.segment,
        )
        for row in rows[: q.limit]
    ]
    return RfmReport(
        as_of=as_of,
        currency=store.currency,
        segments=segments,
        data=window,
        pagination=page(q.limit, q.offset, len(rows) > q.limit),
    )


def _rfm_page(
    session: Session, scored: Subquery, per_total: dict[int, int], q: RfmQuery
) -> list[Any]:
    """The page of RFM rows (highest score total first, then customer id; segment
    ``q.segment`` only, when given), one score total at a time: ``per_total`` (customers per
    total, from the score cells) says where the page starts, and each total's rows are read in
    customer id order, which stops after the page instead of sorting every customer."""
    labelled = select(
        scored, _segment_expr(scored.c.r, scored.c.f, scored.c.m).label("segment")
    ).subquery()
    score_total = labelled.c.r + labelled.c.f + labelled.c.m
    rows: list[Any] = []
    skip, wanted = q.offset, q.limit + 1
    for total in sorted(per_total, reverse=True):
        if skip >= per_total[total]:
            skip -= per_total[total]
            continue
        stmt = select(labelled).where(score_total == total)
        if q.segment is not None:
            stmt = stmt.where(labelled.c.segment == q.segment)
        rows += session.execute(
            stmt.order_by(labelled.c.customer_id).offset(skip).limit(wanted - len(rows))
        ).all()
        skip = 0
        if len(rows) >= wanted:
            break
    return rows
