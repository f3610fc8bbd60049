"""Customer analytics (scope ``read``): lifetime value, distribution, returning rate,
cohorts, RFM, predicted lifetime value."""

from __future__ import annotations

from flask import Blueprint

from ..clv.schemas import ClvForecast, ClvList, ClvQuery, ForecastQuery
from ..config import current_store
from ..db import get_session
from ..queries import clv
from ..queries import customers as q
from ..schemas import (
    CohortQuery,
    CohortReport,
    CustomerList,
    CustomerListQuery,
    DistributionQuery,
    LtvDistribution,
    OptionalRange,
    ReturningRate,
    RfmQuery,
    RfmReport,
)
from .routing import endpoint

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")


@endpoint(
    bp,
    "",
    summary="Lifetime value per customer",
    scope="read",
    freshness="bounded",
    query=CustomerListQuery,
    response=CustomerList,
)
def list_customers(query: CustomerListQuery) -> CustomerList:
    """Historic net spend, orders, first and last order and average order value per
    customer, sorted descending by `sort`."""
    return q.customer_list(get_session(), query, current_store())


@endpoint(
    bp,
    "/ltv-distribution",
    summary="Distribution of customer lifetime value",
    scope="read",
    freshness="bounded",
    query=DistributionQuery,
    response=LtvDistribution,
)
def ltv_distribution(query: DistributionQuery) -> LtvDistribution:
    """Percentiles (nearest rank) and an equal-width histogram of net lifetime spend."""
    return q.ltv_distribution(get_session(), query, current_store())


@endpoint(
    bp,
    "/returning-rate",
    summary="Returning-customer rate",
    scope="read",
    freshness="bounded",
    query=OptionalRange,
    response=ReturningRate,
)
def returning_rate(query: OptionalRange) -> ReturningRate:
    """Share of ordering customers that had ordered before; all time without a range."""
    return q.returning_rate(get_session(), query)


@endpoint(
    bp,
    "/cohorts",
    summary="Monthly acquisition cohorts",
    scope="read",
    freshness="live",
    query=CohortQuery,
    response=CohortReport,
    errors=(400,),
)
def cohorts(query: CohortQuery) -> CohortReport:
    """Per cohort (month of first order) and month since: active customers, retention and
    order revenue (gross - discounts)."""
    return q.cohorts(get_session(), query, current_store())


@endpoint(
    bp,
    "/rfm",
    summary="RFM scores and segments",
    scope="read",
    freshness="ranked",
    query=RfmQuery,
    response=RfmReport,
)
def rfm(query: RfmQuery) -> RfmReport:
    """Recency, frequency and monetary quintile scores (1-5), a segment per customer and a
    summary per segment."""
    return q.rfm(get_session(), query, current_store())


@endpoint(
    bp,
    "/clv",
    summary="Predicted lifetime value per customer",
    scope="read",
    freshness="bounded",
    query=ClvQuery,
    response=ClvList,
    errors=(409,),
)
def clv_predictions(query: ClvQuery) -> ClvList:
    """Per customer, from the latest `flask clv fit`: probability still active, expected orders
    and spend per order over the fit's horizon, and their product discounted monthly, sorted
    descending by `sort`. 409 `clv-model-missing` until a fit has run."""
    return clv.predictions(get_session(), query, current_store())


@endpoint(
    bp,
    "/clv/forecast",
    summary="Forecast of repeat orders per period",
    scope="read",
    freshness="bounded",
    query=ForecastQuery,
    response=ClvForecast,
    errors=(409,),
)
def clv_forecast(query: ForecastQuery) -> ClvForecast:
    """Expected repeat orders of today's customers per calendar week or month after the fit's
    `as_of`, over its horizon (customers not yet acquired are not counted). 409
    `clv-model-missing` until a fit has run."""
    return clv.forecast(get_session(), query)
