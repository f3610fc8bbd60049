"""Hostile and boundary input: every case answers 4xx problem+json and writes nothing."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder

from .conftest import new_key
from .factories import order
from .test_errors import problem


def _stored_orders(api) -> int:
    totals = api.get(
        "/api/v1/sales", start="2000-01-01", end="2030-12-31", granularity="month"
    ).json["totals"]
    return int(totals["orders"])


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/orders/O1/refunds"])
def test_deeply_nested_json_is_400(api, path):
    api.post("/api/v1/orders", {"orders": [order("O1")]})
    for deep in ("[" * 100_000 + "]" * 100_000, '{"orders": ' + "[" * 50_000 + "]" * 50_000 + "}"):
        response = api.client.post(
            path, data=deep, content_type="application/json", headers=api.headers()
        )
        assert "nested" in problem(response, 400, "malformed-json")["detail"]
    assert _stored_orders(api) == 1


def _chunked(app, key: str, body: bytes):
    """POST ``body`` as gunicorn hands a chunked request to the app: no Content-Length, the
    stream terminated by the server (``wsgi.input_terminated``). Called as WSGI directly: the
    test client would rebuild the environ."""
    builder = EnvironBuilder(
        path="/api/v1/orders",
        method="POST",
        input_stream=io.BytesIO(body),
        headers=[("Content-Type", "application/json"), ("Authorization", f"Bearer {key}")],
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    started: list[str] = []
    chunks = app.wsgi_app(environ, lambda status, headers: started.append(status))
    return int(started[0].split()[0]), json.loads(b"".join(chunks))


def test_chunked_body_over_the_limit_is_413_not_cut(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2000)
    key = new_key(app, "write", "read")
    batch = {"orders": [order(f"CH{i}") for i in range(20)]}
    body = json.dumps(batch).encode()
    assert len(body) > 2000
    status, answer = _chunked(app, key, body)
    assert (status, answer["type"]) == (413, "/problems/request-entity-too-large")
    # Exactly at the limit is still accepted.
    small = json.dumps({"orders": [order("CH-small")]}).encode()
    assert _chunked(app, key, small.ljust(2000))[0] == 201


CALENDAR_EDGES = [
    ("/api/v1/sales", {"start": "9999-12-31", "end": "9999-12-31", "granularity": "week"}),
    ("/api/v1/sales", {"start": "9999-12-15", "end": "9999-12-31", "granularity": "month"}),
    ("/api/v1/sales", {"start": "9999-11-01", "end": "9999-12-31", "granularity": "month"}),
    ("/api/v1/sales", {"start": "0001-01-01", "end": "0001-03-31", "granularity": "month"}),
    ("/api/v1/sales", {"start": "0001-01-01", "end": "0001-01-01", "granularity": "day"}),
    ("/api/v1/products/performance", {"start": "9999-12-01", "end": "9999-12-31"}),
    ("/api/v1/products/performance", {"start": "0001-01-02", "end": "0001-01-02"}),
    ("/api/v1/customers/cohorts", {"start": "9999-12", "end": "9999-12", "months": 36}),
    ("/api/v1/customers/cohorts", {"start": "0001-01", "end": "0001-12"}),
    ("/api/v1/customers/returning-rate", {"start": "0001-01-01", "end": "9999-12-31"}),
    ("/api/v1/customers/rfm", {"as_of": "9999-12-31"}),
    ("/api/v1/insights/churn-risk", {"as_of": "9999-12-31", "min_days": 3650}),
]


@pytest.mark.parametrize(("path", "params"), CALENDAR_EDGES)
def test_dates_at_the_calendar_limits_answer_200(api, path, params):
    api.post("/api/v1/orders", {"orders": [order("O1")]})
    response = api.get(path, **params)
    assert response.status_code == 200, response.json


def test_sales_rows_reach_the_last_day_of_the_calendar(api):
    report = api.get("/api/v1/sales", start="9999-12-31", end="9999-12-31", granularity="week").json
    assert [row["period"] for row in report["rows"]] == ["9999-12-27"]
    months = api.get("/api/v1/sales", start="9999-10-15", end="9999-12-31", granularity="month")
    assert [row["period"] for row in months.json["rows"]] == [
        "9999-10-01",
        "9999-11-01",
        "9999-12-01",
    ]


def test_a_previous_period_before_the_calendar_is_400(api):
    response = api.get("/api/v1/products/performance", start="0001-01-01", end="0001-01-02")
    body = problem(response, 400, "invalid-parameters")
    assert body["errors"][0]["pointer"] == "/start"
