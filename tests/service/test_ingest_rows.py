"""Driver-level ingest writes (``upsert.*_rows``): stored bytes identical to SQLAlchemy's typed
writes, every rollup equal to a recomputation from the raw rows, argument checks."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, delete, insert, select

from ecommerce_analytics.config import current_store
from ecommerce_analytics.db import get_db
from ecommerce_analytics.ingest import ingest_orders, validate_orders
from ecommerce_analytics.ingest.stored_form import scaled
from ecommerce_analytics.models import (
    ROLLUP_TABLES,
    Customer,
    CustomerDay,
    CustomerMonth,
    DailySales,
    Order,
    OrderLine,
    Product,
    ProductDailySales,
    ProductPair,
)
from ecommerce_analytics.money import Money
from ecommerce_analytics.schemas import OrderBatchIn
from ecommerce_analytics.upsert import insert_ignore_rows, pg_array_literal, upsert_add_rows

from .conftest import Api, get_engine, new_key
from .factories import order, random_orders

WRITTEN: list[Table] = [
    m.__table__  # type: ignore[misc]
    for m in (Order, OrderLine, *ROLLUP_TABLES)
]
ZONE = "America/New_York"


@pytest.mark.parametrize(
    "value", [None, "0", "7", "19.99", "0.5", "0.0001", "12.340", "9999999999999.9999"]
)
def test_scaled_money_is_what_the_money_type_stores(value):
    assert scaled(value) == Money().process_bind_param(Decimal(value or "0"), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "literal"),
    [
        ([3, 0, 120000], "{3,0,120000}"),
        ([date(2024, 1, 2)], '{"2024-01-02"}'),
        ([datetime(2024, 1, 2, 3, 4, 5, 6)], '{"2024-01-02 03:04:05.000006"}'),
        (['a"b', "c\\d", "{x,y}", "NULL", None], '{"a\\"b","c\\\\d","{x,y}","NULL",NULL}'),
    ],
)
def test_pg_array_literal_quotes_what_postgresql_would_parse(values, literal):
    assert pg_array_literal(values) == literal


def _raw_rows(connection: Any, table: Table) -> list[tuple[Any, ...]]:
    """Rows as the driver returns them, with each value's type: no SQLAlchemy processing."""
    names = ", ".join(c.name for c in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    rows = connection.exec_driver_sql(f"SELECT {names} FROM {table.name} ORDER BY {keys}")
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def test_stored_values_match_sqlalchemy_typed_writes(make_app):
    """Every table ingest writes holds exactly what a typed Core INSERT of the same Python
    values stores (Money as scaled integers; on SQLite, dates and datetimes as SQLAlchemy's
    ISO text with microseconds)."""
    app = make_app(STORE_TIMEZONE=ZONE)
    orders = random_orders(40, seed=2, days=40)
    orders[0]["created_at"] = "2024-01-03T23:30:00.123456-05:00"  # microseconds, local offset
    orders[1]["lines"][0]["discount"] = "0.05"
    # Characters PostgreSQL array literals and SQL strings give a meaning to.
    orders[2].update(order_id="O\"\\{1},NULL'", customer_id="NULL")
    orders[2]["lines"][0]["sku"] = "S\\\"}{,'"
    with app.app_context():
        store = current_store()
        now = datetime(2024, 6, 1, 12, 0, 0, 654321, tzinfo=UTC)
        batch = OrderBatchIn.model_validate({"orders": orders})
        validate_orders(batch.orders, store, now)
        with get_db().sessionmaker.begin() as session:
            ingest_orders(session, batch.orders, store, now)
    with get_engine(app).begin() as connection:
        fast = {t.name: _raw_rows(connection, t) for t in WRITTEN}
        typed = {t.name: [r._asdict() for r in connection.execute(select(t))] for t in WRITTEN}
        for table in reversed(WRITTEN):
            connection.execute(delete(table))
        for table in WRITTEN:
            connection.execute(insert(table), typed[table.name])
        again = {t.name: _raw_rows(connection, t) for t in WRITTEN}
    assert all(fast[t.name] for t in WRITTEN)
    assert fast == again
    # And the values are the payload's (the comparison above would not see them mangled).
    assert {(r["order_id"], r["customer_id"]) for r in typed["orders"]} == {
        (o["order_id"], o["customer_id"]) for o in orders
    }
    assert {(r["order_id"], r["sku"], r["quantity"]) for r in typed["order_lines"]} == {
        (o["order_id"], ln["sku"], ln["quantity"]) for o in orders for ln in o["lines"]
    }


def _expected(orders: list[dict[str, Any]], zone: ZoneInfo) -> dict[str, Any]:
    """Each rollup recomputed in plain Python from the order payloads (money as Decimal)."""

    def dec(value: str | None) -> Decimal:
        return Decimal(value or "0")

    def add(table: dict[Any, list[Any]], key: Any, *values: Any) -> None:
        row = table.setdefault(key, [0] * len(values))
        row[:] = [a + b for a, b in zip(row, values, strict=True)]

    daily: dict[date, list[Any]] = {}
    product_daily: dict[tuple[date, str], list[Any]] = {}
    customer_days: dict[tuple[date, str], list[Any]] = {}
    customer_months: dict[tuple[str, date], list[Any]] = {}
    products: dict[str, list[Any]] = {}
    customers: dict[str, list[Any]] = {}
    moments: dict[str, list[datetime]] = defaultdict(list)
    product_moments: dict[str, list[datetime]] = defaultdict(list)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for o in orders:
        at = datetime.fromisoformat(o["created_at"]).astimezone(UTC)
        day = at.astimezone(zone).date()
        cid = o["customer_id"]
        gross = sum(dec(ln["unit_price"]) * ln["quantity"] for ln in o["lines"])
        discounts = sum(dec(ln.get("discount")) for ln in o["lines"])
        units = sum(ln["quantity"] for ln in o["lines"])
        add(daily, day, 1, units, gross, discounts, dec(o.get("shipping")), dec(o.get("tax")))
        add(customer_days, (day, cid), 1, gross - discounts)
        add(customer_months, (cid, day.replace(day=1)), 1, gross - discounts)
        add(customers, cid, 1, units, gross, discounts)
        moments[cid].append(at)
        for ln in o["lines"]:
            q, price, discount = ln["quantity"], dec(ln["unit_price"]), dec(ln.get("discount"))
            add(product_daily, (day, ln["sku"]), 1, q, q * price, discount)
            add(products, ln["sku"], 1, q)
            product_moments[ln["sku"]].append(at)
        for a, b in combinations(sorted(ln["sku"] for ln in o["lines"]), 2):
            pairs[(a, b)] += 1

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    first = {cid: min(m) for cid, m in moments.items()}
    last = {cid: max(m) for cid, m in moments.items()}
    return {
        "products": {k: (min(product_moments[k]), *v) for k, v in products.items()},
        "customers": {
            k: (
                first[k],
                last[k],
                *v,
                local(first[k]),
                local(last[k]),
                local(first[k]).replace(day=1),
            )
            for k, v in customers.items()
        },
        "daily": {k: tuple(v) for k, v in daily.items()},
        "product_daily": {k: tuple(v) for k, v in product_daily.items()},
        "customer_days": {k: tuple(v) for k, v in customer_days.items()},
        "customer_months": {
            k: (*v, local(first[k[0]]).replace(day=1)) for k, v in customer_months.items()
        },
        "pairs": dict(pairs),
    }


def _stored(connection: Any) -> dict[str, Any]:
    def rows(*columns: Any, key: int = 1) -> dict[Any, tuple[Any, ...]]:
        result = {}
        for row in connection.execute(select(*columns)):
            k = row[0] if key == 1 else tuple(row[:key])
            result[k] = tuple(row[key:])
        return result

    p, c, d = Product, Customer, DailySales
    pd, cd, cm, pp = ProductDailySales, CustomerDay, CustomerMonth, ProductPair
    return {
        "products": rows(p.sku, p.first_sold_at, p.orders, p.units),
        "customers": rows(
            c.customer_id,
            c.first_order_at,
            c.last_order_at,
            c.orders,
            c.units,
            c.gross_sales,
            c.discounts,
            c.first_order_date,
            c.last_order_date,
            c.first_order_month,
        ),
        "daily": rows(d.day, d.orders, d.units, d.gross_sales, d.discounts, d.shipping, d.tax),
        "product_daily": rows(
            pd.day, pd.sku, pd.orders, pd.units, pd.gross_sales, pd.discounts, key=2
        ),
        "customer_days": rows(cd.day, cd.customer_id, cd.orders, cd.order_value, key=2),
        "customer_months": rows(
            cm.customer_id, cm.month_start, cm.orders, cm.order_value, cm.cohort_month, key=2
        ),
        "pairs": {k: v[0] for k, v in rows(pp.sku_a, pp.sku_b, pp.orders, key=2).items()},
    }


def test_rollups_equal_the_raw_orders_with_retries_in_mixed_batches(make_app):
    """Shuffled batches of varying size, each resending some earlier orders: every rollup
    equals a recomputation from the orders, each counted once, in a non-UTC store zone."""
    app = make_app(STORE_TIMEZONE=ZONE)
    api = Api(app.test_client(), new_key(app, "read", "write"))
    orders = random_orders(300, seed=21, days=200)
    rng = random.Random(4)
    rng.shuffle(orders)
    sent: list[dict[str, Any]] = []
    i = 0
    while i < len(orders):
        size = rng.choice([1, 7, 40, 90])
        retries = rng.sample(sent, min(len(sent), rng.randint(0, 5)))
        batch = orders[i : i + size] + retries
        response = api.post("/api/v1/orders", {"orders": batch})
        assert response.status_code == 201, response.json
        assert sorted(response.json["existing"]) == sorted(o["order_id"] for o in retries)
        sent += orders[i : i + size]
        i += size
    with get_engine(app).connect() as connection:
        stored = _stored(connection)
    assert stored == _expected(orders, ZoneInfo(ZONE))


def test_batches_larger_than_one_statement(make_app):
    """More orders than one multi-row INSERT holds on SQLite and more customers than one
    cohort read takes (500 each): all stored, reported and counted."""
    app = make_app()
    api = Api(app.test_client(), new_key(app, "read", "write"))
    start = datetime(2024, 2, 1, tzinfo=UTC)
    orders = [
        order(f"BIG-{i:04d}", f"C{i % 600}", (start + timedelta(minutes=i)).isoformat())
        for i in range(1000)
    ]
    first = api.post("/api/v1/orders", {"orders": orders[:600]})
    assert first.status_code == 201
    response = api.post("/api/v1/orders", {"orders": orders})
    assert response.status_code == 201
    assert response.json["created"] == [o["order_id"] for o in orders[600:]]
    assert response.json["existing"] == [o["order_id"] for o in orders[:600]]
    totals = api.get(
        "/api/v1/sales", start="2024-02-01", end="2024-02-28", granularity="month"
    ).json["totals"]
    assert (totals["orders"], totals["gross_sales"], totals["customers"]) == (1000, "20000.00", 600)


def test_row_writers_reject_misplaced_keys(app):
    with app.app_context(), get_db().sessionmaker() as session:
        products = Product.__table__
        with pytest.raises(ValueError, match="leading columns"):
            upsert_add_rows(
                session,
                products,  # type: ignore[arg-type]
                ("orders", "sku"),
                [(1, "S")],
                key=("sku",),
                add=("orders",),
            )
        with pytest.raises(ValueError, match="not the primary key"):
            insert_ignore_rows(session, products, ("orders", "sku"), [(1, "S")])  # type: ignore[arg-type]


def test_a_value_longer_than_its_column_is_refused_not_cut(app, backend):
    """A driver-level write fails like a typed insert when a value does not fit its column;
    it never stores a shortened value (PostgreSQL's explicit VARCHAR(n) casts would cut it)."""
    if backend == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    from sqlalchemy.exc import DataError, OperationalError

    from ecommerce_analytics.models import ID_LENGTH
    from ecommerce_analytics.upsert import encoders, insert_rows

    too_long = "S" * (ID_LENGTH + 1)
    with app.app_context(), get_db().sessionmaker() as session:
        moment = encoders(session).datetime(datetime(2024, 1, 1, tzinfo=UTC))
        with pytest.raises((DataError, OperationalError), match="too long"):
            insert_rows(
                session,
                Product.__table__,  # type: ignore[arg-type]
                ("sku", "first_sold_at", "orders", "units"),
                [("SKU-1", moment, 1, 1), (too_long, moment, 1, 1)],
            )
        session.rollback()
        assert session.scalars(select(Product.sku)).all() == []


def test_an_error_in_a_pipelined_block_is_raised_as_a_dbapi_error(app, backend):
    """PostgreSQL reports errors of pipelined statements at the end of the block: they arrive
    as SQLAlchemy errors carrying the driver's (what ``run_in_transaction`` classifies for
    retries), and nothing of the block is kept."""
    if backend == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    from sqlalchemy.exc import DBAPIError

    from ecommerce_analytics.models import ID_LENGTH
    from ecommerce_analytics.upsert import encoders, insert_rows, pipelined, upsert_add_rows

    with app.app_context(), get_db().sessionmaker() as session:
        moment = encoders(session).datetime(datetime(2024, 1, 1, tzinfo=UTC))
        with pytest.raises(DBAPIError, match="too long") as raised, pipelined(session):
            upsert_add_rows(
                session,
                ProductPair.__table__,  # type: ignore[arg-type]
                ("sku_a", "sku_b", "orders"),
                [("SKU-1", "SKU-2", 1)],
                key=("sku_a", "sku_b"),
                add=("orders",),
            )
            insert_rows(
                session,
                Product.__table__,  # type: ignore[arg-type]
                ("sku", "first_sold_at", "orders", "units"),
                [("S" * (ID_LENGTH + 1), moment, 1, 1)],
            )
        assert raised.value.orig is not None
        session.rollback()
        assert session.scalars(select(ProductPair.sku_a)).all() == []


def test_a_connection_lost_in_a_pipelined_block_is_retried_on_a_fresh_one(app, backend):
    """A database failover while a batch's pipeline is in flight: the batch is written once,
    on a new connection, by ``run_in_transaction``'s retry (repeated: the loss surfaces at
    different points of the pipeline's exit)."""
    if backend != "postgresql":
        pytest.skip("pipelines are PostgreSQL's")
    from sqlalchemy import func, text

    from ecommerce_analytics.db import run_in_transaction
    from ecommerce_analytics.upsert import pipelined, upsert_add_rows

    with app.app_context():
        database = get_db()
        for round_number in range(8):
            attempts: list[int] = []

            def work(session: Any, n: int = round_number, tried: list[int] = attempts) -> None:
                tried.append(1)
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
                with pipelined(session):
                    upsert_add_rows(
                        session,
                        ProductPair.__table__,  # type: ignore[arg-type]
                        ("sku_a", "sku_b", "orders"),
                        [(f"SKU-{n}", "SKU-Z", 1)],
                        key=("sku_a", "sku_b"),
                        add=("orders",),
                    )
                    if len(tried) == 1:
                        # Sent, not yet synced: the loss surfaces when the block waits.
                        with database.engine.connect() as admin:
                            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            run_in_transaction(database, work)
            assert len(attempts) == 2
        with database.engine.connect() as conn:
            stored = conn.execute(select(func.sum(ProductPair.orders))).scalar()
    assert stored == 8
