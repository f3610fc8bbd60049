"""Distinct customers who ordered over any range and per period, from ``customer_gaps``; the
latest order day from the end of an index, not a scan of ``customers``.

A customer ordered in a window exactly once with their previous order day before the window
(or none: ``previous_day = day``), so a window's distinct customers are a sum over its days:
no distinct count over customer-days, whatever the number of orders (``models.CustomerGap``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from ..models import CustomerDay, CustomerGap

_PERIOD = {
    "day": CustomerGap.day,
    "week": CustomerGap.week_start,
    "month": CustomerGap.month_start,
}
_FIRST_ORDER_DAY = CustomerGap.previous_day == CustomerGap.day


def _first_in(window_start: Any) -> ColumnElement[bool]:
    """The customer-day is the customer's first inside a window beginning ``window_start``."""
    return or_(CustomerGap.previous_day < window_start, _FIRST_ORDER_DAY)


def distinct_customers(session: Session, start: date, end: date) -> int:
    """Customers with at least one order day in ``[start, end]``."""
    total = session.scalar(
        select(func.sum(CustomerGap.customers)).where(
            CustomerGap.day.between(start, end), _first_in(start)
        )
    )
    return int(total or 0)


def customers_per_period(
    session: Session, start: date, end: date, granularity: str
) -> dict[date, tuple[int, int]]:
    """``{period start: (distinct customers, new customers)}`` for the periods (``day``,
    ``week``, ``month``) overlapping ``[start, end]`` that had orders; only days inside the
    range count (the first and last period may be partial). New customers are those whose
    first order ever falls in the period."""
    period = _PERIOD[granularity]
    # The first day of a period inside the range: its own start, or ``start`` for the first.
    window_start = case((period < start, start), else_=period)
    counted = func.sum(case((_first_in(window_start), CustomerGap.customers), else_=0))
    new = func.sum(case((_FIRST_ORDER_DAY, CustomerGap.customers), else_=0))
    rows = session.execute(
        select(period, counted, new).where(CustomerGap.day.between(start, end)).group_by(period)
    )
    return {p: (int(n or 0), int(m or 0)) for p, n, m in rows}


def latest_order_day(session: Session) -> date | None:
    """The store-local day of the latest order (``None`` before the first): the end of the
    ``customer_days`` primary key, one index probe."""
    latest: date | None = session.scalar(select(func.max(CustomerDay.day)))
    return latest
