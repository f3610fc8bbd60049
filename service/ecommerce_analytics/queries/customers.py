"""Customer analytics from the per-customer rollup (``customers``) and ``customer_days``.

Lifetime value, distribution and RFM read one row per customer: O(customers), never O(orders).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..errors import Problem
from ..models import Customer, CustomerDay
from ..money import ZERO, as_money, fmt, quantize, ratio
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

MAX_COHORTS = 36
PERCENTILES = (10, 25, 50, 75, 90, 99)


def net_sales() -> ColumnElement[Decimal]:
    return as_money(Customer.gross_sales - Customer.discounts - Customer.returns)


def page(limit: int, offset: int, has_more: bool) -> Pagination:
    return Pagination(limit=limit, offset=offset, next_offset=offset + limit if has_more else None)


def customer_list(session: Session, q: CustomerListQuery, store: StoreSettings) -> CustomerList:
    """Lifetime value per customer, highest first; ties broken by customer id."""
    net = net_sales().label("net")
    key = {"net_sales": net, "orders": Customer.orders, "last_order_at": Customer.last_order_at}
    rows = list(
        session.execute(
            select(Customer, net)
            .order_by(key[q.sort].desc(), Customer.customer_id)
            .limit(q.limit + 1)
            .offset(q.offset)
        )
    )
    exp = store.exponent
    data = [
        CustomerValue(
            customer_id=c.customer_id,
            net_sales=fmt(value, exp),
            gross_sales=fmt(c.gross_sales, exp),
            discounts=fmt(c.discounts, exp),
            returns=fmt(c.returns, exp),
            orders=c.orders,
            units=c.units,
            average_order_value=fmt((c.gross_sales - c.discounts) / c.orders, exp),
            first_order_at=c.first_order_at,
            last_order_at=c.last_order_at,
        )
        for c, value in rows[: q.limit]
    ]
    return CustomerList(
        currency=store.currency, data=data, pagination=page(q.limit, q.offset, len(rows) > q.limit)
    )


def nearest_rank(sorted_values: list[Decimal], pct: int) -> Decimal:
    """Nearest-rank percentile: the smallest value with at least ``pct``% of values <= it."""
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def ltv_distribution(
    session: Session, q: DistributionQuery, store: StoreSettings
) -> LtvDistribution:
    """Net lifetime spend per customer: percentiles and an equal-width histogram min..max."""
    values = sorted(Decimal(v) for v in session.scalars(select(net_sales())))
    exp = store.exponent
    n = len(values)
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
    total = sum(values, ZERO)
    low, high = values[0], values[-1]
    width = (high - low) / q.buckets
    counts = [0] * q.buckets
    for v in values:
        index = int((v - low) / width) if width else 0
        counts[min(index, q.buckets - 1)] += 1
    histogram = [
        HistogramBucket(
            lower=fmt(low + width * i, exp),
            upper=fmt(low + width * (i + 1) if i < q.buckets - 1 else high, exp),
            customers=counts[i],
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
        percentiles={f"p{p}": fmt(nearest_rank(values, p), exp) for p in PERCENTILES},
        histogram=histogram,
    )


def returning_rate(session: Session, q: OptionalRange) -> ReturningRate:
    """Share of customers who ordered (in the range) that are returning: their order in the
    range is not their first ever (first order before ``start``, or 2+ orders in the range).
    Without a range: customers with 2+ orders among all customers."""
    if q.start is None or q.end is None:
        total = session.scalar(select(func.count()).select_from(Customer)) or 0
        returning = session.scalar(select(func.count()).where(Customer.orders >= 2)) or 0
    else:
        per_customer = (
            select(
                CustomerDay.customer_id,
                func.sum(CustomerDay.orders).label("orders"),
                func.min(Customer.first_order_date).label("first_order_date"),
            )
            .join(Customer, Customer.customer_id == CustomerDay.customer_id)
            .where(CustomerDay.day.between(q.start, q.end))
            .group_by(CustomerDay.customer_id)
            .subquery()
        )
        total = session.scalar(select(func.count()).select_from(per_customer)) or 0
        returning = (
            session.scalar(
                select(func.count())
                .select_from(per_customer)
                .where((per_customer.c.orders >= 2) | (per_customer.c.first_order_date < q.start))
            )
            or 0
        )
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
    sizes = dict(
        session.execute(
            select(Customer.first_order_month, func.count())
            .where(Customer.first_order_month.between(q.start, q.end))
            .group_by(Customer.first_order_month)
        ).all()
    )
    activity: dict[date, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    stmt = (
        select(
            Customer.first_order_month,
            CustomerDay.month_start,
            func.count(func.distinct(CustomerDay.customer_id)),
            func.sum(CustomerDay.order_value),
        )
        .join(Customer, Customer.customer_id == CustomerDay.customer_id)
        .where(
            Customer.first_order_month.between(q.start, q.end),
            CustomerDay.day < last_cohort_end,
        )
        .group_by(Customer.first_order_month, CustomerDay.month_start)
    )
    for cohort_month, month, active, revenue in session.execute(stmt):
        offset = months_between(cohort_month, month)
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


def snapshots(session: Session) -> list[CustomerSnapshot]:
    stmt = select(
        Customer.customer_id,
        Customer.first_order_at,
        Customer.last_order_at,
        Customer.last_order_date,
        Customer.orders,
        net_sales(),
    ).order_by(Customer.customer_id)
    return [CustomerSnapshot(*row) for row in session.execute(stmt)]


def resolve_as_of(session: Session, as_of: date | None) -> date | None:
    """Default ``as_of`` to the latest order day; an earlier one cannot be answered from
    lifetime rollups, so it is a 400 rather than a silently wrong answer."""
    latest: date | None = session.scalar(select(func.max(Customer.last_order_date)))
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


def quintile_cuts(values: list[Any]) -> list[Any]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, (len(ordered) * k) // 5)] for k in (1, 2, 3, 4)]


def score(value: Any, cuts: list[Any]) -> int:
    """1..5: one more than the number of quintile cut points strictly below ``value``."""
    return 1 + sum(1 for cut in cuts if value > cut)


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


def rfm(session: Session, q: RfmQuery, store: StoreSettings) -> RfmReport:
    as_of = resolve_as_of(session, q.as_of)
    customers = snapshots(session)
    exp = store.exponent
    if as_of is None or not customers:
        return RfmReport(
            as_of=as_of,
            currency=store.currency,
            segments=[],
            data=[],
            pagination=page(q.limit, q.offset, False),
        )
    recency = {c.customer_id: (as_of - c.last_order_date).days for c in customers}
    # Fewer days since the last order is better: score the negated recency.
    r_cuts = quintile_cuts([-d for d in recency.values()])
    f_cuts = quintile_cuts([c.orders for c in customers])
    m_cuts = quintile_cuts([c.net_sales for c in customers])
    scored = []
    for c in customers:
        r = score(-recency[c.customer_id], r_cuts)
        f = score(c.orders, f_cuts)
        m = score(c.net_sales, m_cuts)
        scored.append(
            RfmCustomer(
                customer_id=c.customer_id,
                recency_days=recency[c.customer_id],
                frequency=c.orders,
                monetary=fmt(c.net_sales, exp),
                r=r,
                f=f,
                m=m,
                segment=segment(r, f, m),
            )
        )
    summary: dict[str, list[Any]] = {}
    for row, c in zip(scored, customers, strict=True):
        entry = summary.setdefault(row.segment, [0, ZERO])
        entry[0] += 1
        entry[1] += c.net_sales
    segments = [
        RfmSegmentSummary(
            segment=name,
            customers=n,
            share=ratio(n, len(customers)) or "0",
            net_sales=fmt(total, exp),
        )
        for name, (n, total) in sorted(summary.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    selected = [row for row in scored if q.segment is None or row.segment == q.segment]
    selected.sort(key=lambda row: (-row.r - row.f - row.m, row.customer_id))
    window = selected[q.offset : q.offset + q.limit]
    return RfmReport(
        as_of=as_of,
        currency=store.currency,
        segments=segments,
        data=window,
        pagination=page(q.limit, q.offset, len(selected) > q.offset + q.limit),
    )
