"""Fitted predictive models (scope ``read``): what the last ``flask clv fit`` found."""

from __future__ import annotations

from flask import Blueprint

from ..clv.schemas import ClvModelReport
from ..db import get_session
from ..queries import clv as q
from .routing import endpoint

bp = Blueprint("models", __name__, url_prefix="/api/v1/models")


@endpoint(
    bp,
    "/clv",
    summary="The predictive lifetime value model",
    scope="read",
    freshness="bounded",
    response=ClvModelReport,
    errors=(409,),
)
def clv_model() -> ClvModelReport:
    """The latest fit of the purchase (BG/NBD) and spend (Gamma-Gamma) models: parameters,
    log-likelihoods, customers fitted, fit time, the holdout check and the forecast of repeat
    orders per week and month. 409 `clv-model-missing` until `flask clv fit` has run."""
    return q.latest_model(get_session())
