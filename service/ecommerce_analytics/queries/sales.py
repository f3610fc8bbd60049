"""Sales over time from ``daily_sales``, and their customer counts from ``customer_gaps``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..errors import Problem
from ..models import DailySales
from ..money import ZERO, fmt, quantize
from ..periods import count_periods, periods
from ..schemas import SalesFigures, SalesQuery, SalesReport, SalesRow
from .customer_counts import customers_per_period, distinct_customers

MAX_PERIODS = 1000


def _period_column(granularity: str) -> Any:
    return {
        "day": DailySales.day,
        "week": DailySales.week_start,
        "month": DailySales.month_start,
    }[granularity]


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
    period = _period_column(q.granularity).label("period")
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

    customers = customers_per_period(session, q.start, q.end, q.granularity)
    exp = store.exponent
    rows = [
        SalesRow(
            period=p,
            **_figures(values, *customers.get(p, (0, 0)), exp),
        )
        for p, values in sorted(by_period.items())
    ]
    totals: dict[str, Any] = dict(zero)
    for values in by_period.values():
        for name in zero:
            totals[name] += values[name]
    return SalesReport(
        start=q.start,
        end=q.end,
        granularity=q.granularity,
        currency=store.currency,
        timezone=str(store.timezone),
        rows=rows,
        totals=SalesFigures(
            **_figures(
                totals,
                distinct_customers(session, q.start, q.end),
                sum(new for _, new in customers.values()),
                exp,
            )
        ),
    )


def _coerce(name: str, value: Any) -> Any:
    # SUM() comes back as Decimal on PostgreSQL/MySQL even for integer columns.
    if value is None:
        return ZERO if name not in ("orders", "units") else 0
    return int(value) if name in ("orders", "units") else value
