"""Order ingest and refunds: idempotency, atomic batches, concurrency, refunds."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from .factories import ingest_concurrently, order


def sales_totals(api, start="2024-01-01", end="2024-12-31"):
    response = api.get("/api/v1/sales", start=start, end=end, granularity="month")
    assert response.status_code == 200, response.json
    return response.json["totals"]


def test_retried_orders_are_counted_once(api):
    batch = {"orders": [order("A1"), order("A2", "C2")]}
    first = api.post("/api/v1/orders", batch)
    assert first.status_code == 201
    assert first.json == {"created": ["A1", "A2"], "existing": []}

    retry = api.post("/api/v1/orders", {"orders": [order("A3"), order("A1"), order("A2", "C2")]})
    assert retry.status_code == 201
    assert retry.json == {"created": ["A3"], "existing": ["A1", "A2"]}

    again = api.post("/api/v1/orders", batch)
    assert again.status_code == 200
    assert again.json == {"created": [], "existing": ["A1", "A2"]}

    totals = sales_totals(api)
    assert totals["orders"] == 3
    assert totals["gross_sales"] == "60.00"
    assert totals["customers"] == 2


def test_batch_with_one_bad_order_changes_nothing(api):
    bad = order("B2", lines=[("SKU-A", 0, "10.00", None)])
    bad["currency"] = "EUR"
    response = api.post("/api/v1/orders", {"orders": [order("B1"), bad, order("B3")]})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/problems/validation-error"
    pointers = {e["pointer"] for e in response.json["errors"]}
    assert "/orders/1/lines/0/quantity" in pointers

    # The semantic check (currency) is reported too once the shape is valid.
    bad["lines"][0]["quantity"] = 1
    response = api.post("/api/v1/orders", {"orders": [order("B1"), bad, order("B3")]})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/orders/1/currency"]
    assert sales_totals(api)["orders"] == 0
    assert api.get("/api/v1/orders/B1").status_code == 404


def test_every_invalid_field_is_reported_with_its_path(api):
    bad = order("X", lines=[("S1", 1, "1.001", "5.00"), ("S1", 1, "abc", None)])
    bad["created_at"] = "2024-03-05T12:00:00"
    bad["shipping"] = 4.99
    response = api.post("/api/v1/orders", {"orders": [bad, order("X")]})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json["errors"]}
    assert {
        "/orders/0/created_at",
        "/orders/0/shipping",
        "/orders/0/lines/1/unit_price",
    } <= pointers


def test_an_order_too_large_to_store_exactly_is_refused_and_the_largest_is_kept(api):
    from ecommerce_analytics.ingest import MAX_ORDER_GROSS

    # quantity x unit_price beyond what a 64-bit amount in ten-thousandths holds.
    huge = order("HUGE", lines=[("S1", 1_000_000, "9999999999999", None)])
    refused = api.post("/api/v1/orders", {"orders": [huge]})
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json["errors"]] == ["/orders/0/lines"]
    assert f"{MAX_ORDER_GROSS:,}" in refused.json["errors"][0]["detail"]

    price = f"{MAX_ORDER_GROSS // 200}"
    largest = order("MAX", lines=[("S1", 100, price, None), ("S2", 100, price, None)])
    assert api.post("/api/v1/orders", {"orders": [largest]}).status_code == 201
    stored = api.get("/api/v1/orders/MAX").json
    assert stored["gross_sales"] == f"{MAX_ORDER_GROSS}.00"
    assert sales_totals(api)["gross_sales"] == f"{MAX_ORDER_GROSS}.00"


def test_semantic_errors_point_at_fields(api):
    bad = order("X", lines=[("S1", 1, "1.001", "5.00"), ("S1", 1, "2.00", None)])
    response = api.post("/api/v1/orders", {"orders": [bad, order("X")]})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json["errors"]}
    assert pointers == {
        "/orders/0/lines/0/unit_price",
        "/orders/0/lines/0/discount",
        "/orders/0/lines/1/sku",
        "/orders/1/order_id",
    }


def test_concurrent_writers_produce_exact_totals(make_app, backend):
    app = make_app()
    from .conftest import new_key

    key = new_key(app, "write", "read")
    threads_n, batches, per_batch = (6, 4, 10) if backend != "sqlite" else (3, 3, 10)
    # Overlapping ids: every thread also resends the shared orders.
    plan = [
        [
            [
                order(f"T{t}-{b}-{i}", f"C{i % 5}", lines=[("SKU-A", 1, "1.10", None)])
                for i in range(per_batch)
            ]
            + [order(f"SHARED-{b}", "C0", lines=[("SKU-B", 3, "2.50", "0.50")])]
            for b in range(batches)
        ]
        for t in range(threads_n)
    ]
    errors = ingest_concurrently(app, key, plan)
    assert errors == []
    client = app.test_client()
    response = client.get(
        "/api/v1/sales",
        query_string={"start": "2024-03-01", "end": "2024-03-31", "granularity": "month"},
        headers={"Authorization": f"Bearer {key}"},
    )
    totals = response.json["totals"]
    unique_orders = threads_n * batches * per_batch + batches
    assert totals["orders"] == unique_orders
    expected_gross = Decimal("1.10") * threads_n * batches * per_batch + Decimal("7.50") * batches
    assert totals["gross_sales"] == f"{expected_gross:.2f}"
    assert totals["discounts"] == f"{Decimal('0.50') * batches:.2f}"
    assert totals["customers"] == 5
    customers = client.get(
        "/api/v1/customers", query_string={"limit": 10}, headers={"Authorization": f"Bearer {key}"}
    ).json["data"]
    assert sum(c["orders"] for c in customers) == unique_orders


def test_refund_reduces_net_sales_on_the_refund_day(api):
    api.post("/api/v1/orders", {"orders": [order("R1", lines=[("SKU-A", 2, "10.00", "2.00")])]})
    refund = {
        "refund_id": "RF1",
        "amount": "9.00",
        "created_at": "2024-04-02T10:00:00Z",
        "lines": [{"sku": "SKU-A", "quantity": 1, "amount": "9.00"}],
    }
    response = api.post("/api/v1/orders/R1/refunds", refund)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "created"
    assert response.json["amount"] == "9.00"

    rows = api.get("/api/v1/sales", start="2024-03-01", end="2024-04-30", granularity="month").json
    march, april = rows["rows"]
    assert (march["net_sales"], march["returns"]) == ("18.00", "0.00")
    assert (april["net_sales"], april["returns"], april["orders"]) == ("-9.00", "9.00", 0)
    assert rows["totals"]["net_sales"] == "9.00"

    # Retrying the refund does not refund twice.
    again = api.post("/api/v1/orders/R1/refunds", refund)
    assert again.status_code == 200
    assert again.json["status"] == "existing"
    assert sales_totals(api)["returns"] == "9.00"

    product = api.get("/api/v1/products/performance", start="2024-03-01", end="2024-04-30").json
    assert product["data"][0]["returns"] == "9.00"
    assert product["data"][0]["units_returned"] == 1
    customer = api.get("/api/v1/customers").json["data"][0]
    assert customer["net_sales"] == "9.00"
    stored = api.get("/api/v1/orders/R1").json
    assert stored["refunded"] == "9.00"
    assert stored["lines"][0]["returned_quantity"] == 1


def test_refund_cannot_exceed_the_order(api):
    api.post("/api/v1/orders", {"orders": [order("R2", lines=[("SKU-A", 1, "10.00", None)])]})
    when = "2024-03-06T00:00:00Z"
    ok = api.post("/api/v1/orders/R2/refunds", {"amount": "6.00", "created_at": when})
    assert ok.status_code == 201
    too_much = api.post("/api/v1/orders/R2/refunds", {"amount": "4.01"})
    assert too_much.status_code == 409
    assert too_much.json["type"] == "/problems/refund-exceeds-order"
    assert too_much.json["refundable"] == "4.00"
    units = api.post(
        "/api/v1/orders/R2/refunds",
        {"amount": "1.00", "lines": [{"sku": "SKU-A", "quantity": 2, "amount": "1.00"}]},
    )
    assert units.status_code == 409
    assert sales_totals(api)["returns"] == "6.00"


def test_refund_validation(api):
    api.post("/api/v1/orders", {"orders": [order("R3")]})
    missing = api.post("/api/v1/orders/NOPE/refunds", {"amount": "1.00"})
    assert missing.status_code == 404
    assert missing.json["type"] == "/problems/order-not-found"
    bad = api.post(
        "/api/v1/orders/R3/refunds",
        {"amount": "0", "lines": [{"sku": "OTHER", "quantity": 1, "amount": "2.00"}]},
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json["errors"]} == {"/amount", "/lines/0/sku", "/lines"}
    early = api.post(
        "/api/v1/orders/R3/refunds", {"amount": "1.00", "created_at": "2024-03-01T00:00:00Z"}
    )
    assert early.status_code == 422
    assert early.json["errors"][0]["pointer"] == "/created_at"


def test_postgresql_cohort_reads_use_key_lookups_without_statistics(app, backend, tmp_path):
    """Without planner statistics PostgreSQL would scan customer_months in full for every
    batch. The three reads (customers, their months, the order-day probes) run with
    sequential scans and hash/merge joins disabled, and only they: the settings are reset
    right after them. Checked on the wire (libpq's protocol trace), since the reads are
    pipelined with the writes around them."""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    from datetime import UTC, datetime

    from sqlalchemy import text

    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.ingest import ingest_orders
    from ecommerce_analytics.schemas import OrderBatchIn

    batch = OrderBatchIn.model_validate({"orders": [order("P1"), order("P2", "C2")]})
    trace = tmp_path / "libpq.trace"
    with app.app_context(), get_db().sessionmaker() as session, trace.open("w") as out:
        driver = session.connection().connection.driver_connection
        assert driver is not None
        pgconn = driver.pgconn
        pgconn.trace(out.fileno())
        try:
            ingest_orders(session, batch.orders, current_store(), datetime.now(UTC))
        finally:
            pgconn.untrace()
        after = session.execute(text("SHOW enable_seqscan")).scalar()
        session.commit()
    # Frontend messages carrying SQL: ``Parse "<name>" "<sql>" ...`` and ``Query "<sql>"``.
    message = re.compile(r'\tF\t\d+\t(?:Parse\t "[^"]*"|Query\t) "(.*)')
    sent = [m.group(1) for line in trace.read_text().splitlines() if (m := message.search(line))]
    switches = [i for i, sql in enumerate(sent) if sql.startswith("SET LOCAL enable_")]
    resets = [i for i, sql in enumerate(sent) if sql.startswith("RESET enable_")]
    # The customers and their months, and the order-day probes (``w``: the LATERAL rows).
    reads = [i for i, sql in enumerate(sent) if sql.startswith(("SELECT customer", "SELECT w."))]
    assert len(switches) == len(resets) == 3 and len(reads) == 3
    assert max(switches) < min(reads) and max(reads) < min(resets)
    assert resets == list(range(min(resets), min(resets) + 3))
    assert after == "on"


def test_concurrent_retries_of_one_refund_store_it_once(make_app, backend):
    """Clients retrying one refund at once all get its answer (201 for the one that stored
    it, 200 for the others), and it counts once: MariaDB's REPEATABLE READ used to answer
    some of them 500 (the refund was stored by another transaction after this one's snapshot)."""
    from concurrent.futures import ThreadPoolExecutor

    from .conftest import Api, new_key

    app = make_app()
    key = new_key(app, "write", "read")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    orders = [order(f"RR{i}", lines=[("SKU-A", 10, "10.00", None)]) for i in range(6)]
    assert (
        client.post("/api/v1/orders", json={"orders": orders}, headers=headers).status_code == 201
    )

    def refund(i: int):
        body = {"refund_id": f"RF-{i % 6}", "amount": "3.00", "created_at": "2024-03-06T00:00:00Z"}
        url = f"/api/v1/orders/RR{i % 6}/refunds"
        return app.test_client().post(url, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(refund, range(6 * 8)))
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 6
    assert sales_totals(Api(client, key))["returns"] == "18.00"


def test_totals_past_what_the_database_holds_are_refused_whole(api):
    """Money is stored as 64-bit ten-thousandths: a day's total of at most ~9.2 x 10^14
    currency units. Orders that would take a stored total past it are refused with a 422
    naming the problem, and nothing of their batch is written; retrying cannot help, so it is
    never a 503."""

    def big(i: int, day: str) -> dict[str, object]:
        return order(
            f"BIG{i}", f"C{i}", f"{day}T12:00:00+00:00", [("SKU-A", 1, "1" + "0" * 12, None)]
        )

    first = api.post("/api/v1/orders", {"orders": [big(i, "2024-03-05") for i in range(500)]})
    assert first.status_code == 201, first.json
    # 500 more on the same day: the day's gross would reach 10^15.
    second = api.post(
        "/api/v1/orders", {"orders": [big(i, "2024-03-05") for i in range(500, 1000)]}
    )
    # 1000 in one batch on another day: the batch's own total is past the limit.
    one_batch = api.post(
        "/api/v1/orders", {"orders": [big(i, "2024-03-07") for i in range(1000, 2000)]}
    )
    for refused in (second, one_batch):
        assert refused.status_code == 422, refused.json
        assert refused.json["type"] == "/problems/totals-out-of-range"
        assert "nothing was written" in refused.json["detail"]
    totals = sales_totals(api)
    assert (totals["orders"], totals["gross_sales"]) == (500, f"{500 * 10**12}.00")
    assert api.get("/api/v1/orders/BIG500").status_code == 404
    assert api.get("/api/v1/orders/BIG1000").status_code == 404


def test_a_day_past_two_billion_units_is_refused_on_every_engine(api):
    """Counts are 32-bit on PostgreSQL and MySQL; SQLite holds more, but refuses the same."""
    lines = [(f"SKU-{j}", 1_000_000, "0.01", None) for j in range(100)]
    batch = [order(f"U{i}", f"C{i}", lines=lines) for i in range(22)]  # 2.2 billion units
    response = api.post("/api/v1/orders", {"orders": batch})
    assert (response.status_code, response.json["type"]) == (422, "/problems/totals-out-of-range")
    assert sales_totals(api)["orders"] == 0
    assert api.post("/api/v1/orders", {"orders": batch[:21]}).status_code == 201
