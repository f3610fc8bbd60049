"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document (public, no key needed)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Blueprint, Response, json

bp = Blueprint("spec", __name__, url_prefix="/api/v1")


@cache
def _document() -> dict[str, Any]:
    from ..openapi import build_document  # needs every blueprint module imported first

    try:
        release = version("ecommerce-analytics")
    except PackageNotFoundError:
        release = "0.0.0"
    return build_document(release)


@cache
def _document_json() -> str:
    # The document is fixed for the life of the process: serialize it once.
    return json.dumps(_document())


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(_document_json(), mimetype="application/json")
