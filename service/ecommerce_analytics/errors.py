"""RFC 9457 problem details: every error leaves as ``application/problem+json``.

``type`` is a stable, relative URI (``/problems/<slug>``) documented in ``docs/api.md``;
clients switch on it. Stack traces are logged, never sent.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from .db import is_out_of_range, is_unavailable

PROBLEM_MIME = "application/problem+json"
PROBLEM_BASE = "/problems/"
# Seconds a client should wait after a 503: short, since a database failover takes 60-120 s
# and a client retrying every few seconds is served as soon as it is over.
RETRY_AFTER_S = 5

log = logging.getLogger("ecommerce_analytics.errors")


class Problem(Exception):
    """An error with an HTTP status and a stable problem type, raised anywhere in a request."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def to_response(self) -> Response:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        body["instance"] = request.path
        request_id = g.get("request_id")
        if request_id:
            body["request_id"] = request_id
        body.update(self.extensions)
        response = Response(json.dumps(body), status=self.status, mimetype=PROBLEM_MIME)
        response.headers.update(self.headers)
        return response


def validation_problem(errors: list[dict[str, str]], *, status: int = 422) -> Problem:
    """A problem listing every invalid field: ``[{"pointer": "/orders/0/...", "detail": ...}]``."""
    if status == 400:
        return Problem(
            400,
            "invalid-parameters",
            "Invalid query parameters",
            f"{len(errors)} query parameter(s) are invalid.",
            errors=errors,
        )
    return Problem(
        status,
        "validation-error",
        "Request body failed validation",
        f"{len(errors)} field(s) are invalid; nothing was written.",
        errors=errors,
    )


def _http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    name = exc.name or "Error"
    slug = name.lower().replace(" ", "-").replace("'", "")
    problem = Problem(status, slug, name, exc.description)
    response = problem.to_response()
    if status == 405 and exc.response is None:
        # Keep the Allow header werkzeug computed.
        response.headers.update({k: v for k, v in exc.get_headers() if k == "Allow"})
    return response


def database_problem(exc: Exception) -> Problem | None:
    """What to answer for a database failure that is not a bug, or ``None`` (then a 500)."""
    if is_out_of_range(exc):
        return Problem(
            422,
            "totals-out-of-range",
            "Totals out of range",
            "Storing this would take a stored total (of a day, a product, a customer) past "
            "what the database holds; nothing was written.",
        )
    if is_unavailable(exc):
        # A warning without traceback: during an outage every request logs one.
        cause = getattr(exc, "orig", None) or exc
        first_line = str(cause).strip().split("\n", 1)[0]
        log.warning("database unavailable: %s: %s", type(cause).__name__, first_line)
        return Problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "The database could not be reached or did not answer in time; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return None


def _unexpected(exc: Exception) -> Response:
    problem = database_problem(exc)
    if problem is not None:
        return problem.to_response()
    log.error("unhandled exception", exc_info=exc)
    return Problem(
        500,
        "internal-error",
        "Internal server error",
        "An unexpected error occurred; the request id identifies it in the logs.",
    ).to_response()


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, lambda exc: exc.to_response())
    app.register_error_handler(HTTPException, _http_exception)
    # Database errors arrive here too: SQLAlchemy's, the drivers' own, the pool's timeout.
    app.register_error_handler(Exception, _unexpected)
