"""Each customer's purchase history as the models read it, from ``customer_days`` (orders and
gross - discounts per customer per store-local day, kept by ingest).

A *repeat purchase* is a day with an order after the customer's first order day: the models
count purchase occasions, and several orders on one day are one (the CDNOW papers' convention).
Times are measured in whole store days and expressed in the fit's time unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Customer, CustomerDay

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Histories:
    """Customers whose first order day is on or before ``end``, in customer id order.

    ``frequency``: repeat purchase days up to ``end``; ``recency``: first to last purchase
    day; ``age``: first purchase day to ``end``; both in units of ``unit_days`` days.
    ``mean_repeat_spend``: gross - discounts of the repeat days over their number (0 without
    any); ``first_day``: the first order day as a proleptic ordinal."""

    customer_ids: list[str]
    frequency: Array
    recency: Array
    age: Array
    mean_repeat_spend: Array
    first_day: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.customer_ids)


def read_histories(session: Session, end: date, unit_days: float) -> Histories:
    """One grouped read of ``customer_days`` up to ``end`` (inclusive), joined to each
    customer's first order day: one row per customer, whatever their number of orders."""
    cd = CustomerDay
    first_value = func.sum(case((cd.day == Customer.first_order_date, cd.order_value), else_=0))
    rows = session.execute(
        select(
            cd.customer_id,
            Customer.first_order_date,
            func.max(cd.day),
            func.count(),
            func.sum(cd.order_value),
            first_value,
        )
        .join(Customer, Customer.customer_id == cd.customer_id)
        .where(Customer.first_order_date <= end, cd.day <= end)
        .group_by(cd.customer_id, Customer.first_order_date)
        .order_by(cd.customer_id)
    ).all()
    n = len(rows)
    first = np.fromiter((r[1].toordinal() for r in rows), dtype=np.int64, count=n)
    last = np.fromiter((r[2].toordinal() for r in rows), dtype=np.int64, count=n)
    days = np.fromiter((r[3] for r in rows), dtype=np.float64, count=n)
    # The money columns are stored exactly; the models need floats (cents are far below
    # their resolution).
    total = np.fromiter((float(r[4]) for r in rows), dtype=np.float64, count=n)
    on_first = np.fromiter((float(r[5]) for r in rows), dtype=np.float64, count=n)
    frequency = days - 1
    repeat_spend = total - on_first
    mean = np.divide(repeat_spend, frequency, out=np.zeros(n), where=frequency > 0)
    return Histories(
        customer_ids=[r[0] for r in rows],
        frequency=frequency,
        recency=(last - first) / unit_days,
        age=(end.toordinal() - first) / unit_days,
        mean_repeat_spend=mean,
        first_day=first,
    )


def repeat_days_after(session: Session, end: date, until: date) -> int:
    """Purchase days in ``(end, until]`` of the customers whose first order day is on or before
    ``end``: the actual repeat purchases a forecast made at ``end`` is compared with."""
    cd = CustomerDay
    count = session.scalar(
        select(func.count())
        .select_from(cd)
        .join(Customer, Customer.customer_id == cd.customer_id)
        .where(Customer.first_order_date <= end, cd.day > end, cd.day <= until)
    )
    return int(count or 0)
