"""Sales over time from ``daily_sales``, ``cohort_months``, ``customer_days`` and ``customers``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..errors import Problem
from ..models import CohortMonthly, Customer, CustomerDay, DailySales
from ..money import ZERO, fmt, quantize
from ..periods import add_months, count_periods, month_start, next_day, period_start, periods
from ..schemas import SalesFigures, SalesQuery, SalesReport, SalesRow

MAX_PERIODS = 1000


def _period_column(model: type[DailySales] | type[CustomerDay], granularity: str) -> Any:
    return {"day": model.day, "week": model.week_start, "month": model.month_start}[granularity]


def _figures(
    totals: dict[str, Any], customers: int, new_customers: int, exponent: int
) -> dict[str, Any]:
    gross: Decimal = totals["gross_sales"]
    discounts: Decimal = totals["discounts"]
    returns: Decimal = totals["returns"]
    orders: int = totals["orders"]
    aov = fmt(quantize((gross - discounts) / orders, exponent), exponent) if orders else None
    return {
        "orders": orders,
        "units": totals["units"],
        "gross_sales": fmt(gross, exponent),
        "discounts": fmt(discounts, exponent),
        "returns": fmt(returns, exponent),
        "net_sales": fmt(gross - discounts - returns, exponent),
        "average_order_value": aov,
        "customers": customers,
        "new_customers": new_customers,
    }


def sales_report(session: Session, q: SalesQuery, store: StoreSettings) -> SalesReport:
    """One row per calendar period overlapping ``[start, end]`` (the first and last may be
    partial: only days inside the range count), plus totals over the range."""
    if count_periods(q.start, q.end, q.granularity) > MAX_PERIODS:
        raise Problem(
            400,
            "range-too-large",
            "Range too large",
            f"At most {MAX_PERIODS} periods per request; use a coarser granularity or a "
            "shorter range.",
        )
    in_range = DailySales.day.between(q.start, q.end)
    period = _period_column(DailySales, q.granularity).label("period")
    sums = (
        func.sum(DailySales.orders).label("orders"),
        func.sum(DailySales.units).label("units"),
        func.sum(DailySales.gross_sales).label("gross_sales"),
        func.sum(DailySales.discounts).label("discounts"),
        func.sum(DailySales.returns).label("returns"),
    )
    zero = {"orders": 0, "units": 0, "gross_sales": ZERO, "discounts": ZERO, "returns": ZERO}
    by_period: dict[date, dict[str, Any]] = {
        p: dict(zero) for p in periods(q.start, q.end, q.granularity)
    }
    for row in session.execute(select(period, *sums).where(in_range).group_by(period)):
        by_period[row.period] = {k: _coerce(k, getattr(row, k)) for k in zero}

    cd_range = CustomerDay.day.between(q.start, q.end)
    customers = _customers_per_period(session, q.start, q.end, q.granularity)
    new_by_period: dict[date, int] = {}
    for day, count in session.execute(
        select(Customer.first_order_date, func.count())
        .where(Customer.first_order_date.between(q.start, q.end))
        .group_by(Customer.first_order_date)
    ):
        key = period_start(day, q.granularity)
        new_by_period[key] = new_by_period.get(key, 0) + count

    exp = store.exponent
    rows = [
        SalesRow(
            period=p,
            **_figures(values, customers.get(p, 0), new_by_period.get(p, 0), exp),
        )
        for p, values in sorted(by_period.items())
    ]
    totals: dict[str, Any] = dict(zero)
    for values in by_period.values():
        for name in zero:
            totals[name] += values[name]
    distinct_total = session.scalar(
        select(func.count(func.distinct(CustomerDay.customer_id))).where(cd_range)
    )
    return SalesReport(
        start=q.start,
        end=q.end,
        granularity=q.granularity,
        currency=store.currency,
        timezone=str(store.timezone),
        rows=rows,
        totals=SalesFigures(
            **_figures(totals, int(distinct_total or 0), sum(new_by_period.values()), exp)
        ),
    )


def _customers_per_period(
    session: Session, start: date, end: date, granularity: str
) -> dict[date, int]:
    """Distinct customers who ordered, per period overlapping ``[start, end]``.

    Whole months read ``cohort_months``: every customer belongs to exactly one cohort, so the
    sum over cohorts of a month's active customers is exact, at O(cohorts) per month instead
    of a distinct count over every customer-day. Days of partial months, and the day and week
    granularities, count distinct customers in ``customer_days``."""
    whole: tuple[date, date] | None = None
    day_ranges = [(start, end)]
    if granularity == "month":
        one_day = timedelta(days=1)
        first = start if start.day == 1 else add_months(start, 1)  # first whole month's day 1
        # The last day of the last whole month (9999-12 counts as partial: no day follows it).
        last = end if next_day(end).day == 1 else month_start(end) - one_day
        if first <= last:
            whole = (first, month_start(last))
            day_ranges = []
            if start < first:
                day_ranges.append((start, first - one_day))
            if last < end:
                day_ranges.append((last + one_day, end))
    counts: dict[date, int] = {}
    if whole is not None:
        counts.update(
            (month, int(total))
            for month, total in session.execute(
                select(CohortMonthly.month_start, func.sum(CohortMonthly.customers))
                .where(CohortMonthly.month_start.between(*whole))
                .group_by(CohortMonthly.month_start)
            )
        )
    period = _period_column(CustomerDay, granularity).label("period")
    for a, b in day_ranges:
        counts.update(
            (key, int(total))
            for key, total in session.execute(
                select(period, func.count(func.distinct(CustomerDay.customer_id)))
                .where(CustomerDay.day.between(a, b))
                .group_by(period)
            )
        )
    return counts


def _coerce(name: str, value: Any) -> Any:
    # SUM() comes back as Decimal on PostgreSQL/MySQL even for integer columns.
    if value is None:
        return ZERO if name not in ("orders", "units") else 0
    return int(value) if name in ("orders", "units") else value
