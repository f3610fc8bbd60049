"""Identifiers compare exactly (byte for byte, case-sensitively) on every engine.

MySQL and MariaDB compare strings with the column's collation; their defaults
(``utf8mb4_general_ci``, MySQL 8's ``utf8mb4_0900_ai_ci``) fold case, so an order ``CASE-1``
posted after ``case-1`` was answered as already stored and silently dropped.
"""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade  # type: ignore[import-untyped]
from sqlalchemy import inspect, text

from ecommerce_analytics.models import Base

from .conftest import get_engine
from .factories import order


def test_orders_differing_only_in_case_are_both_stored(api):
    first = api.post("/api/v1/orders", {"orders": [order("case-1")]})
    second = api.post("/api/v1/orders", {"orders": [order("CASE-1")]})
    assert (first.status_code, first.json["created"]) == (201, ["case-1"])
    assert (second.status_code, second.json) == (201, {"created": ["CASE-1"], "existing": []})
    assert api.get("/api/v1/orders/CASE-1").json["order_id"] == "CASE-1"
    assert api.get("/api/v1/orders/case-1").json["order_id"] == "case-1"
    assert api.get("/api/v1/orders/Case-1").status_code == 404


def test_customers_differing_only_in_case_are_two_customers(api):
    orders = [order("O1", customer_id="cust"), order("O2", customer_id="CUST")]
    assert api.post("/api/v1/orders", {"orders": orders}).status_code == 201
    later = order("O3", customer_id="Cust", created_at="2024-02-01T00:00:00+00:00")
    assert api.post("/api/v1/orders", {"orders": [later]}).status_code == 201
    customers = api.get("/api/v1/customers", limit=10).json["data"]
    assert sorted(c["customer_id"] for c in customers) == ["CUST", "Cust", "cust"]
    assert all(c["orders"] == 1 for c in customers)
    cohorts = api.get("/api/v1/customers/cohorts", start="2024-01", end="2024-03").json
    assert {c["cohort"]: c["customers"] for c in cohorts["cohorts"]} == {
        "2024-02": 1,
        "2024-03": 2,
    }


def test_skus_differing_only_in_case_are_two_lines(api):
    lines = [("abc", 1, "5.00", None), ("ABC", 2, "7.00", None)]
    response = api.post("/api/v1/orders", {"orders": [order("O1", lines=lines)]})
    assert response.status_code == 201
    stored = api.get("/api/v1/orders/O1").json
    assert [(ln["sku"], ln["quantity"]) for ln in stored["lines"]] == [("abc", 1), ("ABC", 2)]
    top = api.get(
        "/api/v1/products/performance", start="2024-03-01", end="2024-03-31", metric="units"
    ).json["data"]
    assert {row["sku"]: row["units"] for row in top} == {"ABC": 2, "abc": 1}
    returned = [{"sku": "abc", "quantity": 1, "amount": "5.00"}]
    refund = {"refund_id": "r", "amount": "5.00", "lines": returned}
    assert api.post("/api/v1/orders/O1/refunds", refund).status_code == 201
    refund_upper = {**refund, "refund_id": "R"}
    # A refund id differing in case is another refund: this one exceeds what "abc" has left.
    assert api.post("/api/v1/orders/O1/refunds", refund_upper).status_code == 409


def test_every_identifier_column_compares_in_binary_on_mysql(app, backend):
    """What the migration leaves on MySQL/MariaDB: every column the models declare binary
    (the identifiers) is binary in the database too."""
    if backend != "mysql":
        pytest.skip("collations decide string comparison only on MySQL/MariaDB")
    declared = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if getattr(column.type.dialect_impl(get_engine(app).dialect), "collation", None)
        == "utf8mb4_bin"
    }
    assert ("orders", "order_id") in declared and ("product_pairs", "sku_b") in declared
    found = set()
    for table, column in declared:
        for info in inspect(get_engine(app)).get_columns(table):
            if info["name"] == column and getattr(info["type"], "collation", None) == "utf8mb4_bin":
                found.add((table, column))
    assert found == declared


def test_migration_keeps_stored_rows_and_their_foreign_keys(app, api, backend):
    """An existing MySQL database at revision 0005, with orders stored, upgrades in place."""
    if backend != "mysql":
        pytest.skip("migration 0006 changes only MySQL/MariaDB columns")
    lines = [("sku-1", 1, "5.00", None), ("sku-2", 1, "6.00", None)]
    assert api.post("/api/v1/orders", {"orders": [order("old-1", lines=lines)]}).status_code == 201
    refund = {"refund_id": "ref-1", "amount": "5.00"}
    assert api.post("/api/v1/orders/old-1/refunds", refund).status_code == 201
    with app.app_context():
        downgrade(revision="0005")
        try:
            with get_engine(app).begin() as connection:
                assert _collation(connection, "orders", "order_id") != "utf8mb4_bin"
                # As the old schema let it be stored: a refund spelled unlike its order.
                connection.execute(
                    text(
                        "INSERT INTO refunds (refund_id, order_id, amount, created_at, "
                        "refund_date) VALUES ('ref-2', 'OLD-1', 10000, '2024-03-06', "
                        "'2024-03-06')"
                    )
                )
        finally:
            upgrade()
    with get_engine(app).begin() as connection:
        assert _collation(connection, "refund_lines", "sku") == "utf8mb4_bin"
        spelled = "SELECT order_id FROM refunds WHERE refund_id = 'ref-2'"
        assert connection.execute(text(spelled)).scalar_one() == "old-1"
        # The foreign keys are back: deleting the order deletes its lines and refunds.
        connection.execute(text("DELETE FROM orders WHERE order_id = 'old-1'"))
        left = connection.execute(
            text("SELECT (SELECT COUNT(*) FROM order_lines) + (SELECT COUNT(*) FROM refunds)")
        )
        assert left.scalar_one() == 0


def _collation(connection, table: str, column: str):
    return connection.execute(
        text(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = :t AND column_name = :c"
        ),
        {"t": table, "c": column},
    ).scalar_one()


def test_downgrade_refuses_ids_the_old_schema_cannot_hold(app, api, backend, caplog):
    if backend != "mysql":
        pytest.skip("migration 0006 changes only MySQL/MariaDB columns")
    assert api.post("/api/v1/orders", {"orders": [order("dup"), order("DUP")]}).status_code == 201
    with app.app_context():
        # Flask-Migrate logs the error and exits 1, as `flask db downgrade` does.
        try:
            with pytest.raises(SystemExit):
                downgrade(revision="0005")
        finally:
            upgrade()  # 0007 was undone on the way (a no-op on MySQL); back to the head
        assert "orders holds ids that differ only in case (DUP)" in caplog.text
        with get_engine(app).connect() as connection:
            # Refused before any change: every table is still binary.
            assert _collation(connection, "orders", "order_id") == "utf8mb4_bin"
            assert _collation(connection, "api_keys", "prefix") == "utf8mb4_bin"
