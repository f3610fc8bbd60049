"""``flask clv fit``'s work: derive every customer's history, fit both models, predict, store.

Runs off the request path; the endpoints only read what the last fit stored (``ClvModel``,
``ClvPrediction``), so a fit of millions of customers costs no request anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..cache import bump_version
from ..models import ClvModel, ClvPrediction
from ..queries.customer_counts import latest_order_day
from ..upsert import insert_rows
from . import bgnbd, gamma_gamma
from .history import Histories, read_histories, repeat_days_after
from .predictions import Predictions, forecast, predict
from .schemas import ClvModelReport, ForecastPeriod, Holdout, PurchaseModel, SpendModel

_INSERT_CHUNK = 20_000
_COLUMNS = (
    "customer_id",
    "model_id",
    "frequency",
    "recency",
    "age",
    "mean_repeat_spend",
    "p_alive",
    "expected_orders",
    "expected_spend",
    "predicted_value",
)


class FitError(ValueError):
    """The stored orders cannot support a fit (the message says why and what to do)."""


@dataclass(frozen=True)
class FitOptions:
    """``as_of``: last store day fitted, defaults to the latest order day; ``holdout_days``:
    also fit up to ``as_of - holdout_days`` and compare with what followed (0: no holdout);
    ``unit_days``: days per time unit (7: weeks, the papers'); ``horizon_months`` and
    ``monthly_discount_rate``: of the stored predictions."""

    as_of: date | None = None
    holdout_days: int = 0
    unit_days: float = 7.0
    horizon_months: int = 12
    monthly_discount_rate: float = 0.0


@dataclass(frozen=True)
class Fitted:
    purchases: bgnbd.BgNbd
    purchases_report: PurchaseModel
    spend: gamma_gamma.GammaGamma
    spend_report: SpendModel


def fit_models(h: Histories, end: date) -> Fitted:
    """Both models on ``h``, refused with a reason when the history cannot identify them."""
    repeaters = (h.frequency > 0) & (h.mean_repeat_spend > 0)
    if int(repeaters.sum()) < 2:
        raise FitError(
            f"only {int(repeaters.sum())} customers with a paid repeat order up to {end}: "
            "the models need repeat customers to learn from; fit again when there are more"
        )
    purchases, ll = bgnbd.fit(bgnbd.Weighted.of(h.frequency, h.recency, h.age))
    spend, spend_ll = gamma_gamma.fit(h.frequency[repeaters], h.mean_repeat_spend[repeaters])
    if spend.q <= 1:
        raise FitError(
            f"the spend model's q is {spend.q:.3f} (<= 1) up to {end}: spend per order varies "
            "too much between customers for an expected value; fit with more history"
        )
    return Fitted(
        purchases,
        PurchaseModel(
            r=purchases.r,
            alpha=purchases.alpha,
            a=purchases.a,
            b=purchases.b,
            log_likelihood=ll,
            customers=len(h),
        ),
        spend,
        SpendModel(
            p=spend.p,
            q=spend.q,
            gamma=spend.gamma,
            log_likelihood=spend_ll,
            customers=int(repeaters.sum()),
        ),
    )


def _holdout(session: Session, as_of: date, options: FitOptions, now: Histories) -> Holdout:
    end = as_of - timedelta(days=options.holdout_days)
    then = read_histories(session, end, options.unit_days)
    fitted = fit_models(then, end)
    span = options.holdout_days / options.unit_days
    expected = bgnbd.expected_orders(fitted.purchases, span, then.frequency, then.recency, then.age)
    # The cohort known at ``end``, followed to ``as_of`` (the papers' cumulative tracking).
    cohort = now.first_day <= end.toordinal()
    since_first = (as_of.toordinal() - now.first_day[cohort]) / options.unit_days
    return Holdout(
        calibration_end=end,
        purchases=fitted.purchases_report,
        spend=fitted.spend_report,
        expected_repeat_orders=float(expected.sum()),
        actual_repeat_orders=repeat_days_after(session, end, as_of),
        cumulative_expected_repeat_orders=float(
            bgnbd.expected_orders_new(fitted.purchases, since_first).sum()
        ),
        cumulative_actual_repeat_orders=int(now.frequency[cohort].sum()),
    )


def store_predictions(session: Session, model_id: int, h: Histories, p: Predictions) -> None:
    """Replace every stored prediction with ``p``, through the driver-level insert ingest uses
    (``upsert.insert_rows``: arrays on PostgreSQL, multi-row on MySQL/MariaDB), in chunks."""
    session.execute(delete(ClvPrediction))
    mean = np.where(h.frequency > 0, h.mean_repeat_spend, np.nan)
    # Plain ints, floats, strings and None: no column here has a bind processor to apply.
    rows = list(
        zip(
            h.customer_ids,
            [model_id] * len(h),
            h.frequency.astype(int).tolist(),
            h.recency.tolist(),
            h.age.tolist(),
            [None if m != m else m for m in mean.tolist()],  # NaN: no repeat order
            p.p_alive.tolist(),
            p.expected_orders.tolist(),
            p.expected_spend.tolist(),
            p.predicted_value.tolist(),
            strict=True,
        )
    )
    table = ClvPrediction.__table__
    for i in range(0, len(rows), _INSERT_CHUNK):
        insert_rows(session, table, _COLUMNS, rows[i : i + _INSERT_CHUNK])  # type: ignore[arg-type]


def fit_and_store(session: Session, options: FitOptions) -> ClvModelReport:
    """Fit as of ``options.as_of`` and store the fit and its predictions in ``session``'s
    transaction (the previous predictions are replaced whole, so readers see one fit)."""
    started = time.perf_counter()
    as_of = options.as_of or latest_order_day(session)
    if as_of is None:
        raise FitError("no orders yet: ingest orders before fitting")
    now = read_histories(session, as_of, options.unit_days)
    fitted = fit_models(now, as_of)
    holdout = _holdout(session, as_of, options, now) if options.holdout_days else None
    predicted = predict(
        fitted.purchases,
        fitted.spend,
        now,
        options.unit_days,
        options.horizon_months,
        options.monthly_discount_rate,
    )
    periods = forecast(fitted.purchases, now, options.unit_days, as_of, options.horizon_months)
    row = ClvModel(fitted_at=datetime.now(UTC), document="")
    session.add(row)
    session.flush()
    store_predictions(session, row.id, now, predicted)
    report = ClvModelReport(
        model_id=row.id,
        fitted_at=row.fitted_at,
        fit_seconds=time.perf_counter() - started,
        as_of=as_of,
        time_unit_days=options.unit_days,
        horizon_months=options.horizon_months,
        monthly_discount_rate=options.monthly_discount_rate,
        purchases=fitted.purchases_report,
        spend=fitted.spend_report,
        holdout=holdout,
        forecast={
            g: [ForecastPeriod(period=day, expected_orders=v) for day, v in rows]
            for g, rows in periods.items()
        },
    )
    row.document = report.model_dump_json()
    session.flush()
    # A new fit changes what the prediction endpoints answer, as a write does.
    bump_version(session)
    return report
