"""``GET /api/v1/products/performance``: top and bottom products (scope ``read``)."""

from __future__ import annotations

from flask import Blueprint

from ..config import current_store
from ..db import get_session
from ..queries.products import product_performance
from ..schemas import ProductPerformance, ProductQuery
from .routing import endpoint

bp = Blueprint("products", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/products/performance",
    summary="Top or bottom products in a range, with change vs the previous period",
    scope="read",
    freshness="live",
    query=ProductQuery,
    response=ProductPerformance,
)
def get_product_performance(query: ProductQuery) -> ProductPerformance:
    """Products with activity in the range ranked by `metric`; `previous` covers the period
    of the same length that ends the day before `start`, so it must not begin before
    0001-01-01 (else 400)."""
    return product_performance(get_session(), query, current_store())
