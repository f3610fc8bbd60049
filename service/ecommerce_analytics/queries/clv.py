"""Predictive lifetime value as the last ``flask clv fit`` stored it: the fit's document and
the per-customer predictions, a page walked down one index per sort key."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clv.schemas import (
    ClvCustomer,
    ClvForecast,
    ClvList,
    ClvModelReport,
    ClvQuery,
    ForecastQuery,
)
from ..config import StoreSettings
from ..errors import Problem
from ..models import ClvModel, ClvPrediction
from ..money import fmt
from .customers import page


def has_model(session: Session) -> bool:
    """Whether any fit has been stored (one primary-key probe; the document is not read)."""
    return session.scalar(select(ClvModel.id).limit(1)) is not None


def latest_model(session: Session) -> ClvModelReport:
    """The latest fit; a 409 ``clv-model-missing`` before the first (fitting is never done on
    the request path)."""
    document = session.scalar(
        select(ClvModel.document).order_by(ClvModel.fitted_at.desc(), ClvModel.id.desc()).limit(1)
    )
    if document is None:
        raise Problem(
            409,
            "clv-model-missing",
            "No lifetime value model fitted",
            "No predictive lifetime value model has been fitted yet: run `flask clv fit` "
            "(the deployed stack runs it on a schedule).",
        )
    return ClvModelReport.model_validate_json(document)


def _money(value: float, exponent: int) -> str:
    # repr-exact: Decimal(float) would carry the binary expansion's noise into rounding ties.
    return fmt(Decimal(repr(value)), exponent)


def predictions(session: Session, q: ClvQuery, store: StoreSettings) -> ClvList:
    """A page of customers by ``q.sort``, highest first, ties by customer id."""
    model = latest_model(session)
    key = getattr(ClvPrediction, q.sort)
    rows = session.scalars(
        select(ClvPrediction)
        .order_by(key.desc(), ClvPrediction.customer_id)
        .limit(q.limit + 1)
        .offset(q.offset)
    ).all()
    exp = store.exponent
    return ClvList(
        model_id=model.model_id,
        as_of=model.as_of,
        horizon_months=model.horizon_months,
        monthly_discount_rate=model.monthly_discount_rate,
        currency=store.currency,
        data=[
            ClvCustomer(
                customer_id=r.customer_id,
                repeat_order_days=r.frequency,
                p_alive=round(r.p_alive, 6),
                expected_orders=round(r.expected_orders, 4),
                expected_spend=_money(r.expected_spend, exp),
                predicted_value=_money(r.predicted_value, exp),
            )
            for r in rows[: q.limit]
        ],
        pagination=page(q.limit, q.offset, len(rows) > q.limit),
    )


def forecast(session: Session, q: ForecastQuery) -> ClvForecast:
    """Expected repeat orders per calendar period after the fit's ``as_of``."""
    model = latest_model(session)
    return ClvForecast(
        model_id=model.model_id,
        as_of=model.as_of,
        granularity=q.granularity,
        data=model.forecast[q.granularity],
    )
