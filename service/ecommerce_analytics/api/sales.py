"""``GET /api/v1/sales``: sales over time (scope ``read``)."""

from __future__ import annotations

from flask import Blueprint

from ..config import current_store
from ..db import get_session
from ..queries.sales import sales_report
from ..schemas import SalesQuery, SalesReport
from .routing import endpoint

bp = Blueprint("sales", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/sales",
    summary="Sales by day, week or month",
    scope="read",
    freshness="bounded",
    query=SalesQuery,
    response=SalesReport,
)
def get_sales(query: SalesQuery) -> SalesReport:
    """One row per calendar period overlapping [start, end] (at most 1000), plus totals.
    See docs/metrics.md for every definition."""
    return sales_report(get_session(), query, current_store())
