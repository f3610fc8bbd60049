"""Property-based API tests: schemathesis against ``/api/v1/openapi.json``, on every backend.

- The schema is loaded from the app over WSGI, in-process. Each test sends its requests to a
  fresh app on the backend under test (``make_app``) with a ``read`` + ``write`` key.
- Every response goes through all of schemathesis' checks (its default: not_a_server_error,
  status_code_conformance, content_type_conformance, response_schema_conformance,
  response_headers_conformance, positive_data_acceptance, negative_data_rejection,
  ignored_auth, use_after_free, ensure_resource_availability, ...).
- Some rules cannot be said in JSON Schema (store currency, `created_at` range, unique SKUs,
  discount <= line total, decimal places, start <= end, ...; the document states them in
  descriptions). The ``map_case`` hook below makes every *positive* case obey them, so
  "schema-valid data must be accepted" holds and success paths run; negative cases are left
  alone and must be rejected.
- Workflows use schemathesis' state machine over the document's OpenAPI links
  (POST /orders -> GET /orders/{order_id} -> POST .../refunds -> GET ...).

``API_FUZZ_EXAMPLES`` sets the examples per operation (default small, for ``make test``).
Runs are derandomized: a failure reproduces with the same count.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import delete

from ecommerce_analytics import create_app
from ecommerce_analytics.auth import hash_key
from ecommerce_analytics.cache import bump_version
from ecommerce_analytics.db import get_db
from ecommerce_analytics.ingest import EARLIEST, MAX_ORDER_GROSS
from ecommerce_analytics.models import ApiKey, Base

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    # Function-scoped fixtures are meant: one app and database per test, shared by its examples.
    suppress_health_check=list(HealthCheck),
)
STORE_CURRENCY = "USD"  # the default store of ``make_app``
PLACES, CENTS = 2, 100  # USD
Case = schemathesis.Case[Any]
NOW = datetime.now(UTC)  # fixed, so that a scenario replays identically

# One fixed read+write key, stored in each test's database: schemathesis then applies it
# itself, knows it is valid (``ignored_auth`` probes without it) and leaves it out of the
# negative cases that are about a missing or invalid key.
KEY_PREFIX = "fuzz"
KEY = f"eak_{KEY_PREFIX}_not-a-secret"
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app({"DATABASE_URL": "sqlite://", "TESTING": True}),
    config=schemathesis.Config.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": KEY}}}}),
)


# ---- making positive cases obey the rules the schema cannot express --------------------------


def _cents(money: str) -> int:
    whole, _, fraction = money.partition(".")
    return int(whole) * CENTS + int(fraction[:PLACES].ljust(PLACES, "0"))


def _money(cents: int) -> str:
    return f"{cents // CENTS}.{cents % CENTS:0{PLACES}d}"


def _places(money: str | None) -> str | None:
    """At most the currency's decimal places (truncated)."""
    if money is None:
        return None
    whole, dot, fraction = money.partition(".")
    return whole + dot + fraction[:PLACES] if fraction[:PLACES] else whole


def _in_range(timestamp: str) -> str:
    """A timestamp from 2000-01-01 to now: the given one, or one folded into that range."""
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return "2020-02-29T23:59:59+14:00"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if EARLIEST <= parsed <= NOW:
        return timestamp
    return (EARLIEST + (parsed - EARLIEST) % (NOW - EARLIEST)).astimezone(parsed.tzinfo).isoformat()


def _unique(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return list({item[key]: item for item in reversed(items)}.values())[::-1]


_UNSAFE_IN_PATH = str.maketrans("%?#", "___")


def _valid_orders(body: dict[str, Any]) -> None:
    for order in body["orders"]:
        # Schemathesis puts ids from links into paths unencoded, where these would be read as
        # an escape, the query or the fragment (encoded ids: test_openapi.py).
        order["order_id"] = order["order_id"].translate(_UNSAFE_IN_PATH)
    body["orders"] = _unique(body["orders"], "order_id")
    for order in body["orders"]:
        order["currency"] = STORE_CURRENCY
        order["created_at"] = _in_range(order["created_at"])
        for name in ("shipping", "tax"):
            if name in order:
                order[name] = _places(order[name])
        order["lines"] = lines = _unique(order["lines"], "sku")
        budget = MAX_ORDER_GROSS * CENTS // len(lines)  # keeps the order's gross capped
        for line in lines:
            quantity = int(line["quantity"])  # may be sent as an integral float, like 2.0
            line["unit_price"] = _places(line["unit_price"])
            price = _cents(line["unit_price"])
            if price * quantity > budget:
                price = budget // quantity
                line["unit_price"] = _money(price)
            if line.get("discount") is not None:
                line["discount"] = _places(line["discount"])
                if _cents(line["discount"]) > price * quantity:
                    line["discount"] = _money(price * quantity)


def _valid_refund(body: dict[str, Any]) -> None:
    body["amount"] = _places(body["amount"])
    if _cents(body["amount"]) == 0:
        body["amount"] = "0.01"
    # Lines must name SKUs of the order and `created_at` fall between the order and now:
    # neither is known here, and both are optional.
    body.pop("lines", None)
    body.pop("created_at", None)


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _ordered(query: dict[str, Any], longest: int | None = None) -> tuple[date, date] | None:
    """Put ``start`` <= ``end`` (dates), at most ``longest`` days apart."""
    start, end = _parse_day(query.get("start")), _parse_day(query.get("end"))
    if start is None or end is None:
        return None
    start, end = min(start, end), max(start, end)
    if longest is not None and (end - start).days >= longest:
        end = start + timedelta(days=longest - 1)
    query["start"], query["end"] = start.isoformat(), end.isoformat()
    return start, end


def _valid_query(path: str, query: dict[str, Any]) -> None:
    if path == "/api/v1/sales":
        _ordered(query, longest=1000)  # at most 1000 periods
    elif path == "/api/v1/products/performance":
        found = _ordered(query)
        if found is not None:
            # The previous period of equal length must start on or after 0001-01-01.
            start, end = found
            start = max(start, date.min + timedelta(days=1))
            end = max(end, start)
            room = start - date.min
            if end - start >= room:
                end = start + (room - timedelta(days=1))
            query["start"], query["end"] = start.isoformat(), end.isoformat()
    elif path == "/api/v1/customers/returning-rate":
        if ("start" in query) != ("end" in query):
            query.pop("start", None)
            query.pop("end", None)
        _ordered(query)
    elif path == "/api/v1/customers/cohorts":
        start, end = sorted([query["start"], query["end"]])
        year, month = (int(part) for part in start.split("-"))
        last = (year * 12 + month - 1) + 35  # at most 36 cohorts
        query["start"], query["end"] = start, min(end, f"{last // 12:04d}-{last % 12 + 1:02d}")
    elif "as_of" in query and query["as_of"] is not None:
        # Not before the latest order day: orders are at most a day in the future.
        latest = NOW.date() + timedelta(days=2)
        as_of = _parse_day(query["as_of"])
        if as_of is not None and as_of < latest:
            query["as_of"] = latest.isoformat()


@schema.hook
def map_case(context: schemathesis.HookContext, case: Case) -> Case:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    path = case.operation.path
    # Copies: generated cases share objects, and negative ones must stay invalid.
    if isinstance(case.query, dict):
        case.query = dict(case.query)
        _valid_query(path, case.query)
    if isinstance(case.body, dict):
        case.body = copy.deepcopy(case.body)
        if path == "/api/v1/orders":
            _valid_orders(case.body)
        elif path.endswith("/refunds"):
            _valid_refund(case.body)
    return case


@schema.hook
def before_add_examples(context: schemathesis.HookContext, examples: list[Case]) -> None:
    # The schema's own examples (e.g. "19.99") bypass ``map_case``.
    examples[:] = [map_case(context, case) for case in examples]


# ---- tests ---------------------------------------------------------------------------------


@pytest.fixture
def app(make_app: Any) -> Flask:
    """A fresh app on the backend under test, that knows ``KEY``."""
    app: Flask = make_app()
    with app.app_context(), get_db().sessionmaker.begin() as session:
        session.add(
            ApiKey(
                prefix=KEY_PREFIX,
                key_hash=hash_key(KEY),
                scopes="read write",
                name="fuzz",
                created_at=NOW,
            )
        )
    return app


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation_conforms(case: Case, app: Flask) -> None:
    case.call_and_validate(app=app)


def test_workflows_conform(app: Flask) -> None:
    """Scenarios follow the document's links; every success a user relies on is reached, and
    retrying a write is a 200 that changes nothing."""
    seen: set[tuple[str, int]] = set()

    class Workflows(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from no data: hypothesis replays scenarios and needs the
            # same responses each time.
            with app.app_context(), get_db().sessionmaker.begin() as session:
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name not in ("api_keys", "data_version"):
                        session.execute(delete(table))
                bump_version(session)  # no cached answer survives

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": app}

        def after_call(self, response: schemathesis.Response, case: Case) -> None:
            super().after_call(response, case)
            seen.add((case.operation.label, response.status_code))
            if response.status_code == 201 and _idempotent(case):
                retry = case.call(app=app)
                case.validate_response(retry)
                assert retry.status_code == 200, retry.text
                answer, first = retry.json(), response.json()
                if case.operation.path == "/api/v1/orders":
                    assert answer["created"] == []
                    assert sorted(answer["existing"]) == sorted(
                        first["created"] + first["existing"]
                    )
                else:
                    assert answer == {**first, "status": "existing"}

    Workflows.run(settings=FUZZ_SETTINGS)
    assert {
        ("POST /api/v1/orders", 201),
        ("GET /api/v1/orders/{order_id}", 200),
        ("POST /api/v1/orders/{order_id}/refunds", 201),
    } <= seen


def _idempotent(case: Case) -> bool:
    """Orders always are (on `order_id`), refunds when they name a `refund_id`."""
    if case.operation.path == "/api/v1/orders":
        return True
    return isinstance(case.body, dict) and case.body.get("refund_id") is not None
