"""JSON logs carrying a request id, and per-request metrics as CloudWatch EMF log lines.

Each request gets an id (a sane incoming ``X-Request-ID`` is kept, otherwise a new one) that is
echoed in the response and included in every log line and problem document. The EMF line makes
CloudWatch extract ``Latency`` and ``Requests`` metrics from the log stream without an agent.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

METRICS_NAMESPACE = "EcommerceAnalytics"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_HANDLER_MARK = "_ecommerce_analytics_json"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            payload["request_id"] = g.request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* ``sys.stdout`` (containers ship stdout to CloudWatch)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str) -> None:
    """Send the package's loggers to stdout as JSON; idempotent across ``create_app`` calls."""
    logger = logging.getLogger("ecommerce_analytics")
    logger.setLevel(level.upper())
    if not any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)
    logger.propagate = False


def emf_record(route: str, method: str, status: int, latency_ms: float) -> dict[str, Any]:
    """A CloudWatch embedded-metric-format document for one request."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["Route", "Method"], ["StatusClass"]],
                    "Metrics": [
                        {"Name": "Latency", "Unit": "Milliseconds"},
                        {"Name": "Requests", "Unit": "Count"},
                        {"Name": "ServerErrors", "Unit": "Count"},
                    ],
                }
            ],
        },
        "Route": route,
        "Method": method,
        "StatusClass": f"{status // 100}xx",
        "Latency": round(latency_ms, 3),
        "Requests": 1,
        "ServerErrors": 1 if status >= 500 else 0,
        "status": status,
    }


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    decision = g.get("rate_limit")
    if decision is not None:
        response.headers["RateLimit-Limit"] = str(decision.limit)
        response.headers["RateLimit-Remaining"] = str(decision.remaining)
    latency_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    # One line per request: the access log and, through its "_aws" key, the metrics.
    fields = emf_record(route, request.method, response.status_code, latency_ms)
    fields.update(path=request.path, api_key=g.get("api_key_prefix"))
    logging.getLogger("ecommerce_analytics.request").info(
        "%s %s %s", request.method, request.path, response.status_code, extra={"fields": fields}
    )
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    app.before_request(_start)
    app.after_request(_finish)
