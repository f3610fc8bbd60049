"""Per-customer predictions and the aggregate forecast from fitted parameters (closed forms,
vectorised over customers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from ..periods import periods
from . import bgnbd
from .bgnbd import BgNbd
from .gamma_gamma import GammaGamma, expected_spend
from .history import Histories

Array = NDArray[np.float64]
# The average calendar month, for horizons and discounting given in months.
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class Predictions:
    p_alive: Array
    expected_orders: Array
    expected_spend: Array
    predicted_value: Array


def predict(
    purchases: BgNbd,
    spend: GammaGamma,
    h: Histories,
    unit_days: float,
    horizon_months: int,
    monthly_discount_rate: float,
) -> Predictions:
    """Over the next ``horizon_months`` months: expected orders (repeat purchase days),
    expected spend per order and their product, each month's expected orders discounted by
    ``(1 + monthly_discount_rate) ** month`` (0: undiscounted)."""
    args = (h.frequency, h.recency, h.age)
    month = MONTH_DAYS / unit_days
    # Cumulative expected orders at the end of each month: the value discounts each month's.
    cumulative = [np.zeros(len(h))] + [
        bgnbd.expected_orders(purchases, k * month, *args) for k in range(1, horizon_months + 1)
    ]
    discount = (1 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1, dtype=np.float64)
    per_month = np.diff(np.stack(cumulative), axis=0)
    spend_per_order = expected_spend(spend, h.frequency, h.mean_repeat_spend)
    return Predictions(
        p_alive=bgnbd.p_alive(purchases, *args),
        expected_orders=cumulative[-1],
        expected_spend=spend_per_order,
        predicted_value=spend_per_order * (discount @ per_month),
    )


def forecast(
    purchases: BgNbd, h: Histories, unit_days: float, as_of: date, horizon_months: int
) -> dict[str, list[tuple[date, float]]]:
    """Expected repeat orders of today's customers per calendar week and month after
    ``as_of`` (the first and last periods partial), up to ``horizon_months`` months ahead.
    Customers not acquired yet are not in it. Customers sharing a history are computed once."""
    end = as_of + timedelta(days=round(horizon_months * MONTH_DAYS))
    rows = bgnbd.Weighted.of(h.frequency, h.recency, h.age)
    start = as_of + timedelta(days=1)
    out: dict[str, list[tuple[date, float]]] = {}
    for granularity in ("week", "month"):
        starts = [max(day, start) for day in periods(start, end, granularity)]
        ends = [*(day - timedelta(days=1) for day in starts[1:]), end]
        # Each period's end in time units; the last is the horizon itself (a fraction of a
        # day past ``end``), so the periods add up to the per-customer predictions' total.
        times = [(last - as_of).days / unit_days for last in ends[:-1]]
        times.append(horizon_months * MONTH_DAYS / unit_days)
        cumulative = [0.0] + [
            float(bgnbd.expected_orders(purchases, t, rows.x, rows.t_x, rows.T) @ rows.weight)
            for t in times
        ]
        out[granularity] = [
            (first, cumulative[i + 1] - cumulative[i]) for i, first in enumerate(starts)
        ]
    return out
