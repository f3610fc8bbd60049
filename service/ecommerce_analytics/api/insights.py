"""Revenue insights (scope ``read``): products bought together, churn-risk customers."""

from __future__ import annotations

from flask import Blueprint

from ..config import current_store
from ..db import get_session
from ..queries.insights import bought_together, churn_risk
from ..schemas import BoughtTogether, BoughtTogetherQuery, ChurnQuery, ChurnRisk
from .routing import endpoint

bp = Blueprint("insights", __name__, url_prefix="/api/v1/insights")


@endpoint(
    bp,
    "/bought-together",
    summary="Products frequently bought together",
    scope="read",
    freshness="live",
    query=BoughtTogetherQuery,
    response=BoughtTogether,
)
def get_bought_together(query: BoughtTogetherQuery) -> BoughtTogether:
    """Product pairs with support, confidence (both directions) and lift, over all orders."""
    return bought_together(get_session(), query)


@endpoint(
    bp,
    "/churn-risk",
    summary="High-value customers at risk of churning",
    scope="read",
    freshness="bounded",
    query=ChurnQuery,
    response=ChurnRisk,
)
def get_churn_risk(query: ChurnQuery) -> ChurnRisk:
    """Customers in the top spend percentile who are overdue relative to their own rhythm."""
    return churn_risk(get_session(), query, current_store())
