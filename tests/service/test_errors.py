"""Malformed input of every kind gets a 4xx problem document with a stable type."""

from __future__ import annotations

import pytest

from .factories import order


def problem(response, status, type_):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["type"] == f"/problems/{type_}"
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def with_(**changes):
    body = order("E1")
    body.update(changes)
    return {"orders": [body]}


def line(**changes):
    ln = {"sku": "S", "quantity": 1, "unit_price": "1.00"}
    ln.update(changes)
    return with_(lines=[ln])


BAD_BODIES = [
    ("not an object", [1, 2], "/"),
    ("no orders key", {}, "/orders"),
    ("empty batch", {"orders": []}, "/orders"),
    ("too many orders", {"orders": [order(f"O{i}") for i in range(1001)]}, "/orders"),
    ("unknown field", with_(coupon="X"), "/orders/0/coupon"),
    (
        "missing order_id",
        {"orders": [{k: v for k, v in order("E").items() if k != "order_id"}]},
        "/orders/0/order_id",
    ),
    ("order_id too long", with_(order_id="x" * 65), "/orders/0/order_id"),
    ("order_id with space", with_(order_id="a b"), "/orders/0/order_id"),
    ("customer not string", with_(customer_id=5), "/orders/0/customer_id"),
    ("naive timestamp", with_(created_at="2024-03-05T12:00:00"), "/orders/0/created_at"),
    ("date only", with_(created_at="2024-03-05"), "/orders/0/created_at"),
    ("unix timestamp", with_(created_at=1709640000), "/orders/0/created_at"),
    ("bad currency", with_(currency="usd"), "/orders/0/currency"),
    ("no lines", with_(lines=[]), "/orders/0/lines"),
    ("zero quantity", line(quantity=0), "/orders/0/lines/0/quantity"),
    ("float quantity", line(quantity=1.5), "/orders/0/lines/0/quantity"),
    ("string quantity", line(quantity="2"), "/orders/0/lines/0/quantity"),
    ("price as number", line(unit_price=1.5), "/orders/0/lines/0/unit_price"),
    ("negative price", line(unit_price="-1.00"), "/orders/0/lines/0/unit_price"),
    ("price exponent", line(unit_price="1e3"), "/orders/0/lines/0/unit_price"),
    ("bad discount", line(discount="lots"), "/orders/0/lines/0/discount"),
    ("discount > line", line(discount="2.00"), "/orders/0/lines/0/discount"),
    ("too many places", with_(tax="0.001"), "/orders/0/tax"),
    ("other currency", with_(currency="EUR"), "/orders/0/currency"),
    ("future order", with_(created_at="2999-01-01T00:00:00Z"), "/orders/0/created_at"),
    ("ancient order", with_(created_at="1999-12-31T00:00:00Z"), "/orders/0/created_at"),
]


@pytest.mark.parametrize(
    ("body", "pointer"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_invalid_order_bodies_are_422_with_pointer(api, body, pointer):
    response = api.post("/api/v1/orders", body)
    errors = problem(response, 422, "validation-error")["errors"]
    pointers = [e["pointer"] or "/" for e in errors]
    assert pointer in pointers


def test_malformed_json_is_400(api):
    response = api.client.post(
        "/api/v1/orders", data="{not json", content_type="application/json", headers=api.headers()
    )
    problem(response, 400, "malformed-json")


def test_wrong_content_type_is_415(api):
    response = api.client.post(
        "/api/v1/orders", data="orders=1", content_type="text/plain", headers=api.headers()
    )
    problem(response, 415, "unsupported-media-type")


def test_oversized_body_is_413(make_app):
    from .conftest import new_key

    app = make_app(MAX_CONTENT_LENGTH=1000)
    key = new_key(app, "write")
    response = app.test_client().post(
        "/api/v1/orders",
        data="x" * 5000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    problem(response, 413, "request-entity-too-large")


BAD_QUERIES = [
    ("/api/v1/sales", {"start": "2024-01-01"}, "invalid-parameters"),
    ("/api/v1/sales", {"start": "2024-13-01", "end": "2024-12-31"}, "invalid-parameters"),
    ("/api/v1/sales", {"start": "20240101", "end": "2024-12-31"}, "invalid-parameters"),
    ("/api/v1/sales", {"start": "2024-02-01", "end": "2024-01-01"}, "invalid-parameters"),
    (
        "/api/v1/sales",
        {"start": "2024-01-01", "end": "2024-01-02", "granularity": "hour"},
        "invalid-parameters",
    ),
    (
        "/api/v1/sales",
        {"start": "2024-01-01", "end": "2024-01-02", "bogus": "1"},
        "invalid-parameters",
    ),
    ("/api/v1/sales", {"start": "2000-01-01", "end": "2024-01-01"}, "range-too-large"),
    (
        "/api/v1/products/performance",
        {"start": "2024-01-01", "end": "2024-01-31", "limit": "101"},
        "invalid-parameters",
    ),
    (
        "/api/v1/products/performance",
        {"start": "2024-01-01", "end": "2024-01-31", "metric": "margin"},
        "invalid-parameters",
    ),
    ("/api/v1/customers", {"limit": "0"}, "invalid-parameters"),
    ("/api/v1/customers", {"offset": "-1"}, "invalid-parameters"),
    ("/api/v1/customers", {"limit": "many"}, "invalid-parameters"),
    ("/api/v1/customers/returning-rate", {"start": "2024-01-01"}, "invalid-parameters"),
    ("/api/v1/customers/cohorts", {"start": "2024-1", "end": "2024-03"}, "invalid-parameters"),
    ("/api/v1/customers/cohorts", {"start": "2020-01", "end": "2024-03"}, "range-too-large"),
    ("/api/v1/customers/ltv-distribution", {"buckets": "500"}, "invalid-parameters"),
    ("/api/v1/insights/bought-together", {"sort": "random"}, "invalid-parameters"),
    ("/api/v1/insights/churn-risk", {"value_percentile": "100"}, "invalid-parameters"),
]


@pytest.mark.parametrize(("url", "params", "type_"), BAD_QUERIES)
def test_invalid_queries_are_400(api, url, params, type_):
    problem(api.get(url, **params), 400, type_)


def test_as_of_before_latest_order_is_400(api):
    api.post("/api/v1/orders", {"orders": [order("L1")]})
    body = problem(
        api.get("/api/v1/customers/rfm", as_of="2024-01-01"), 400, "as-of-before-latest-order"
    )
    assert "2024-03-05" in body["detail"]
    problem(
        api.get("/api/v1/insights/churn-risk", as_of="2024-01-01"), 400, "as-of-before-latest-order"
    )


def test_unknown_route_and_method(api):
    problem(api.get("/api/v1/nothing"), 404, "not-found")
    response = api.client.delete("/api/v1/orders", headers=api.headers())
    problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]
    problem(api.get("/api/v1/orders/absent"), 404, "order-not-found")


def test_unexpected_errors_hide_details(make_app, monkeypatch):
    from ecommerce_analytics.queries import sales

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(sales, "sales_report", boom)
    monkeypatch.setattr("ecommerce_analytics.api.sales.sales_report", boom)
    from .conftest import new_key

    app = make_app()
    response = app.test_client().get(
        "/api/v1/sales?start=2024-01-01&end=2024-01-02",
        headers={"Authorization": f"Bearer {new_key(app, 'read')}", "X-Request-ID": "req-123"},
    )
    body = problem(response, 500, "internal-error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["request_id"] == "req-123"


DATABASE_FAILURES = [
    ("driver error, connection refused", "psycopg", 503),
    ("driver error, connection lost", "pymysql", 503),
    ("no free pooled connection", "pool", 503),
    ("unknown column", "bug", 500),
]


@pytest.mark.parametrize(
    ("kind", "status"), [f[1:] for f in DATABASE_FAILURES], ids=[f[0] for f in DATABASE_FAILURES]
)
def test_an_unavailable_database_is_503_and_a_database_bug_500(make_app, monkeypatch, kind, status):
    import psycopg
    import pymysql  # type: ignore[import-untyped]
    from sqlalchemy.exc import ProgrammingError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from .conftest import new_key

    failures = {
        "psycopg": psycopg.OperationalError("connection failed: Connection refused"),
        "pymysql": pymysql.err.InterfaceError(0, ""),
        "pool": PoolTimeoutError("QueuePool limit of size 5 overflow 5 reached"),
        "bug": ProgrammingError("SELECT x", {}, psycopg.errors.UndefinedColumn("x")),
    }

    def fail(*_args, **_kwargs):
        raise failures[kind]

    monkeypatch.setattr("ecommerce_analytics.api.sales.sales_report", fail)
    app = make_app()
    response = app.test_client().get(
        "/api/v1/sales?start=2024-01-01&end=2024-01-02",
        headers={"Authorization": f"Bearer {new_key(app, 'read')}"},
    )
    if status == 503:
        problem(response, 503, "database-unavailable")
        assert response.headers["Retry-After"] == "5"
    else:
        problem(response, 500, "internal-error")
        assert "Retry-After" not in response.headers
