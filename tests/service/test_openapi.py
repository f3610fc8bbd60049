"""The OpenAPI document (``/api/v1/openapi.json``) is valid and says what the code does:
status codes, path parameters, and the rules JSON Schema cannot express."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from openapi_spec_validator import validate

from ecommerce_analytics import create_app
from ecommerce_analytics.ingest import EARLIEST, MAX_ORDER_GROSS
from ecommerce_analytics.queries.customers import MAX_COHORTS
from ecommerce_analytics.queries.sales import MAX_PERIODS

from .conftest import Api
from .factories import order

# Nothing listens on port 1: every connection is refused at once.
UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/none"
KEY = {"Authorization": "Bearer eak_0_0"}  # well formed, so it is looked up
DB_STATUSES = {401, 403, 429, 503}  # every keyed request reads its key from the database
BODY_STATUSES = {400, 413, 415, 422}
EXPECTED_STATUSES = {
    ("get", "/healthz"): {200},
    ("get", "/readyz"): {200, 503},
    ("post", "/api/v1/orders"): {200, 201} | DB_STATUSES | BODY_STATUSES,
    ("post", "/api/v1/orders/{order_id}/refunds"): {200, 201, 404, 409}
    | DB_STATUSES
    | BODY_STATUSES,
    ("get", "/api/v1/orders/{order_id}"): {200, 404} | DB_STATUSES,
    **{
        ("get", path): {200, 400} | DB_STATUSES
        for path in (
            "/api/v1/sales",
            "/api/v1/products/performance",
            "/api/v1/customers",
            "/api/v1/customers/ltv-distribution",
            "/api/v1/customers/returning-rate",
            "/api/v1/customers/cohorts",
            "/api/v1/customers/rfm",
            "/api/v1/insights/bought-together",
            "/api/v1/insights/churn-risk",
        )
    },
    # 409 until `flask clv fit` has run; the model itself takes no query.
    ("get", "/api/v1/models/clv"): {200, 409} | DB_STATUSES,
    ("get", "/api/v1/customers/clv"): {200, 400, 409} | DB_STATUSES,
    ("get", "/api/v1/customers/clv/forecast"): {200, 400, 409} | DB_STATUSES,
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    document = app.test_client().get("/api/v1/openapi.json").json
    assert isinstance(document, dict)
    return document


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_document_is_valid_openapi(document):
    validate(document)  # raises on any error, e.g. a `"format": null`


def test_each_operation_documents_exactly_the_statuses_it_answers(document):
    operations = _operations(document)
    assert {key: {int(s) for s in op["responses"]} for key, op in operations.items()} == (
        EXPECTED_STATUSES
    )
    for (_, path), operation in operations.items():
        for status, response in operation["responses"].items():
            if status in ("429", "503") and path != "/readyz":
                assert response["headers"]["Retry-After"]["required"], (path, status)


def test_idempotent_writes_document_both_success_codes(document):
    orders = document["paths"]["/api/v1/orders"]["post"]["responses"]
    assert "created" in orders["201"]["description"]
    assert "already stored" in orders["200"]["description"]
    refunds = document["paths"]["/api/v1/orders/{order_id}/refunds"]["post"]["responses"]
    assert refunds["200"]["content"] == refunds["201"]["content"]
    assert "already recorded" in refunds["200"]["description"]


def test_the_document_states_the_limits_the_code_enforces(document):
    post = document["paths"]["/api/v1/orders"]["post"]["description"]
    assert f"{MAX_ORDER_GROSS:,}" in post
    assert "STORE_CURRENCY" in post
    order_in = document["components"]["schemas"]["OrderIn"]["properties"]
    assert EARLIEST.date().isoformat() in order_in["created_at"]["description"]
    assert f"at most {MAX_PERIODS}" in document["paths"]["/api/v1/sales"]["get"]["description"]
    cohorts = document["paths"]["/api/v1/customers/cohorts"]["get"]["parameters"]
    assert f"at most {MAX_COHORTS} cohorts" in cohorts[1]["description"]


def test_path_ids_have_the_identifier_schema(document):
    identifier = dict(document["components"]["schemas"]["OrderIn"]["properties"]["order_id"])
    for path in ("/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/refunds"):
        (param,) = [p for op in document["paths"][path].values() for p in op["parameters"]]
        assert param["in"] == "path" and param["required"]
        assert param["schema"]["pattern"] == identifier["pattern"]
        assert param["schema"]["maxLength"] == identifier["maxLength"] == 64


@pytest.mark.parametrize("order_id", ["A\x00B", "a b", "é", "x" * 65])
def test_an_id_that_cannot_exist_is_an_order_not_found_without_the_database(order_id):
    # Any access to the database would be a 503.
    client = create_app({"DATABASE_URL": UNREACHABLE_DB, "TESTING": True}).test_client()
    path = "/api/v1/orders/" + quote(order_id, safe="")
    refund = client.post(path + "/refunds", json={"amount": "1"}, headers=KEY)
    for response in (client.get(path, headers=KEY), refund):
        assert response.status_code == 404
        assert (response.json or {})["type"] == "/problems/order-not-found"
    assert client.get("/api/v1/orders/A1", headers=KEY).status_code == 503  # a valid id does


def test_a_database_outage_is_a_documented_503(document):
    client = create_app({"DATABASE_URL": UNREACHABLE_DB, "TESTING": True}).test_client()
    for (method, path), operation in _operations(document).items():
        response = client.open(
            path.replace("{order_id}", "A1"),
            method=method.upper(),
            headers=KEY,
            json={} if "requestBody" in operation else None,
        )
        if "503" in operation["responses"]:
            assert response.status_code == 503, path
            if path != "/readyz":
                assert (response.json or {})["type"] == "/problems/database-unavailable"
                assert int(response.headers["Retry-After"]) > 0
        else:
            assert response.status_code == 200, path


def test_integral_quantities_are_integers(api: Api):
    body = order("Q-1", lines=[("SKU-A", 2.0, "10.00", None)])  # type: ignore[list-item]
    assert api.post("/api/v1/orders", {"orders": [body]}).status_code == 201
    assert api.get("/api/v1/orders/Q-1").json["lines"][0]["quantity"] == 2
    for quantity in (2.5, "2", True):
        body = order("Q-2", lines=[("SKU-A", quantity, "10.00", None)])  # type: ignore[list-item]
        response = api.post("/api/v1/orders", {"orders": [body]})
        assert response.status_code == 422, quantity
        assert [e["pointer"] for e in response.json["errors"]] == ["/orders/0/lines/0/quantity"]


def test_an_id_with_a_slash_is_refused(api: Api):
    body = order("A/1", customer_id="C/1", lines=[("S/1", 1, "1.00", None)])
    response = api.post("/api/v1/orders", {"orders": [body]})
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json["errors"]} == {
        "/orders/0/order_id",
        "/orders/0/customer_id",
        "/orders/0/lines/0/sku",
    }


def test_a_refund_reason_with_a_nul_is_refused(api: Api):
    assert api.post("/api/v1/orders", {"orders": [order("N-1")]}).status_code == 201
    response = api.post("/api/v1/orders/N-1/refunds", {"amount": "1.00", "reason": "a\x00b"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/reason"]


def test_every_valid_id_reads_back_percent_encoded(api: Api):
    order_id = "%41?#.~&+"  # characters a path would otherwise read as escape, query, fragment
    assert api.post("/api/v1/orders", {"orders": [order(order_id)]}).status_code == 201
    path = "/api/v1/orders/" + quote(order_id, safe="")
    assert api.get(path).json["order_id"] == order_id
    assert api.post(path + "/refunds", {"amount": "1.00"}).status_code == 201
