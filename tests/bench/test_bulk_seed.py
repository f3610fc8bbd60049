"""Bulk seeding (``bench/bulk_seed.py``) stores exactly what the ingest path stores, and
``rebuild_rollups`` recomputes exactly the rollups ingest keeps.

Per engine, the same plan (1,500 orders: refunds, customers with several orders and days, a
store zone off UTC so the store-local day differs from the UTC one) is seeded through
``seed.seed`` into one database and through ``bulk_seed`` into another, and every raw table
and every table of ``models.ROLLUP_TABLES`` is compared row by row. SQLite always;
PostgreSQL and MariaDB/MySQL with ``TEST_POSTGRES_URL`` / ``TEST_MYSQL_URL`` (skipped with the
reason otherwise), in private databases ``test_bulk_<pid>_<path>`` dropped at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade  # type: ignore[import-untyped]
from sqlalchemy import Engine, Integer, Table, create_engine, delete, insert, select
from sqlalchemy.orm import Session

from bench.bulk_seed import (
    BulkSeedError,
    Chunk,
    MySQLLoad,
    PostgresCopy,
    SQLiteInsert,
    bulk_seed,
    engine_options,
    plan_rows,
)
from bench.targets import seeded_by
from ecommerce_analytics import create_app
from ecommerce_analytics.config import StoreSettings
from ecommerce_analytics.db import get_db
from ecommerce_analytics.ingest.rebuild import rebuild_rollups
from ecommerce_analytics.models import (
    ROLLUP_TABLES,
    Base,
    DataVersion,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    SharedResponse,
)
from ecommerce_analytics.money import Money
from ecommerce_analytics.seed import iter_plan, seed
from ecommerce_analytics.upsert import dialect_encoders

from ..databases import server_databases

ORDERS = 1_500
STORE = StoreSettings.from_config({"STORE_TIMEZONE": "America/New_York"})
RAW_TABLES = (Order, OrderLine, Refund, RefundLine)
# Not compared: when ingest stored the order (the time of the run).
IGNORED = {("orders", "ingested_at")}


def _migrate(url: str) -> None:
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        get_db().dispose()


@dataclass
class Seeded:
    backend: str
    api: Engine  # seeded through seed.seed (the ingest path)
    bulk: Engine  # seeded through bulk_seed
    bulk_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The same plan seeded both ways, once per engine for the module's tests (which run in
    file order: the comparison before the tests that change a database)."""
    kind = request.param
    if kind == "sqlite":
        folder = tmp_path_factory.mktemp("bulk")
        databases: Iterator[list[str]] = iter(
            [[f"sqlite:///{folder / 'api.sqlite3'}", f"sqlite:///{folder / 'bulk.sqlite3'}"]]
        )
    else:
        pid = os.getpid()
        databases = server_databases(kind, [f"test_bulk_{pid}_api", f"test_bulk_{pid}_bulk"])
    api_url, bulk_url = next(databases)
    for url in (api_url, bulk_url):
        _migrate(url)
    app = create_app({"DATABASE_URL": api_url})
    with app.app_context():
        assert seed(get_db(), STORE, ORDERS)[0] == ORDERS
        get_db().dispose()
    result = bulk_seed(bulk_url, STORE, ORDERS, log=lambda message: None)
    assert result.orders == ORDERS
    bulk = create_engine(bulk_url, **engine_options(bulk_url))
    engines = Seeded(kind, create_engine(api_url), bulk, bulk_url)
    yield engines
    engines.api.dispose()
    engines.bulk.dispose()
    next(databases, None)  # drops the server databases


def _compared(table: Table) -> tuple[list[Any], list[Any]]:
    """The columns compared (all but a surrogate autoincrement id and ``IGNORED``) and the
    order of the rows: the primary key, or with a surrogate id every compared column."""
    key = list(table.primary_key.columns)
    surrogate = len(key) == 1 and isinstance(key[0].type, Integer) and key[0].autoincrement is True
    columns = [
        c
        for c in table.columns
        if not (surrogate and c is key[0]) and (table.name, c.name) not in IGNORED
    ]
    return columns, columns if surrogate else key


def _rows(engine: Engine, model: type[Base]) -> list[Any]:
    """The compared rows; of a rollup, only those with a count or sum other than zero: ingest
    leaves a row at zero when a contribution moves away from it (a cohort cell, an order-day
    link that an older order split), and the rebuild creates none. Such a row changes no
    answer."""
    table = model.__table__
    assert isinstance(table, Table)
    columns, order = _compared(table)
    counters = [
        i
        for i, c in enumerate(columns)
        if model in ROLLUP_TABLES and not c.primary_key and isinstance(c.type, (Integer, Money))
    ]
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(select(*columns).order_by(*order))]
    if not counters:
        return rows
    return [row for row in rows if any(row[i] for i in counters)]


def _assert_same(a: list[Any], b: list[Any], name: str) -> None:
    assert len(a) == len(b), f"{name}: {len(a)} vs {len(b)} rows"
    for left, right in zip(a, b, strict=True):
        assert left == right, f"{name}: first difference {left} vs {right}"


def test_bulk_and_ingest_paths_store_identical_tables(seeded: Seeded):
    counts = {}
    for model in (*RAW_TABLES, *ROLLUP_TABLES):
        name = model.__tablename__
        api, bulk = _rows(seeded.api, model), _rows(seeded.bulk, model)
        _assert_same(api, bulk, name)
        counts[name] = len(api)
    # The plan has what the comparison needs to mean something: refunds, repeat customers
    # (with orders on several days), pairs.
    assert counts["orders"] == ORDERS
    assert counts["refunds"] > 20
    assert counts["customers"] < counts["customer_days"] < ORDERS
    assert counts["customer_months"] > counts["customers"]
    assert counts["product_pairs"] > 0


def test_rebuild_leaves_ingest_rollups_unchanged(seeded: Seeded):
    before = {m.__tablename__: _rows(seeded.api, m) for m in ROLLUP_TABLES}
    with seeded.api.begin() as conn:
        version = conn.execute(select(DataVersion.version)).scalar_one()
        conn.execute(
            insert(SharedResponse),
            {"key_hash": "k" * 64, "version": version, "computed_at": None, "body": b"{}"},
        )
    with Session(seeded.api) as session, session.begin():
        timings = rebuild_rollups(session)
    assert set(timings) == {m.__tablename__ for m in ROLLUP_TABLES}
    for model in ROLLUP_TABLES:
        name = model.__tablename__
        _assert_same(before[name], _rows(seeded.api, model), name)
    with seeded.api.connect() as conn:
        # Read-side caches see new data and no answer computed from the old rollups remains.
        assert conn.execute(select(DataVersion.version)).scalar_one() == version + 1
        assert conn.execute(select(SharedResponse.key_hash)).all() == []


def test_loads_strings_with_escapes_exactly(seeded: Seeded, tmp_path: Path):
    """Identifiers may hold a backslash and a refund reason any character but NUL: the
    engines' text formats (COPY, LOAD DATA) must store them as given."""
    order_id, refund_id = "odd\\N-1", "r\\1"
    reason = "tab\there\nnew line \\N back\\slash \r end"
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    enc = dialect_encoders(seeded.bulk.dialect.name)
    when, day = enc.datetime(moment), enc.date(date(2025, 1, 1))
    chunk = Chunk(orders=1, refunds=1)
    orders, lines, refunds, refund_lines = chunk.rows
    orders.append((order_id, "c\\1", when, day, "USD", 1, 10_000, 0, 0, 0, 10_000, when))
    lines.append((order_id, 1, "s\\1", 1, 10_000, 0, 1))
    refunds.append((refund_id, order_id, 10_000, when, day, reason))
    refund_lines.append((refund_id, "s\\1", 1, 10_000))
    # MariaDB/MySQL: both ways, LOAD DATA LOCAL INFILE and the INSERTs used without it.
    for local_infile in (True, False) if seeded.backend == "mysql" else (True,):
        raw = seeded.bulk.raw_connection()
        try:
            driver: Any = raw.driver_connection
            if seeded.backend == "postgresql":
                PostgresCopy(driver).write(chunk)
            elif seeded.backend == "mysql":
                MySQLLoad(driver, local_infile, tmp_path).write(chunk)
            else:
                SQLiteInsert(driver).write(chunk)
        finally:
            raw.close()
        try:
            with seeded.bulk.connect() as conn:
                stored = conn.execute(
                    select(Refund.refund_id, Refund.reason, Refund.created_at, Order.customer_id)
                    .join(Order, Order.order_id == Refund.order_id)
                    .where(Order.order_id == order_id)
                ).one()
                line = conn.execute(
                    select(OrderLine.sku, OrderLine.returned_quantity).where(
                        OrderLine.order_id == order_id
                    )
                ).one()
            assert tuple(stored) == (refund_id, reason, moment, "c\\1")
            assert tuple(line) == ("s\\1", 1)
        finally:
            with seeded.bulk.begin() as conn:
                conn.execute(delete(RefundLine).where(RefundLine.refund_id == refund_id))
                conn.execute(delete(Refund).where(Refund.refund_id == refund_id))
                conn.execute(delete(OrderLine).where(OrderLine.order_id == order_id))
                conn.execute(delete(Order).where(Order.order_id == order_id))


# ---- without a database ---------------------------------------------------------------------


def test_the_seeded_marker_records_the_path(tmp_path: Path):
    marker = tmp_path / "postgresql-10000.seeded"
    marker.write_text("seconds=12.000\nseed=bulk\n")
    assert seeded_by(marker) == "bulk"
    marker.write_text("812.345\n")  # written before the choice existed: the API path
    assert seeded_by(marker) == "api"


NOW = datetime(2025, 7, 1, tzinfo=UTC)


def _plan(n: int) -> list[Any]:
    return list(iter_plan(n, STORE))


def test_an_order_the_api_would_refuse_stops_the_load():
    plan = _plan(3)
    plan[1][0]["currency"] = "EUR"
    with pytest.raises(BulkSeedError, match="currency"):
        list(plan_rows(iter(plan), STORE, dialect_encoders("sqlite"), NOW))


def test_a_refund_exceeding_its_order_stops_the_load():
    plan = _plan(400)
    number, (order, refund) = next((i, p) for i, p in enumerate(plan) if p[1] is not None)
    refund[1]["amount"] = refund[1]["lines"][0]["amount"] = "99999"
    with pytest.raises(BulkSeedError, match="exceeds order"):
        list(plan_rows(iter(plan[: number + 1]), STORE, dialect_encoders("sqlite"), NOW))


def test_bulk_rows_match_the_api_parse_of_every_checked_batch():
    """The loader's own conversion is compared against the API's in sampled batches: a
    difference (here a payload field the fast path ignores) stops it."""
    plan = _plan(2)
    plan[0][0]["lines"][0]["unexpected"] = 1
    with pytest.raises(BulkSeedError, match="the API would refuse"):
        list(plan_rows(iter(plan), STORE, dialect_encoders("sqlite"), NOW))


# Digests of iter_plan's output before it was optimised for bulk seeding (stores with other
# currencies, zones, seeds and ends): the data every benchmark round seeded stays the same.
PLAN_DIGESTS = [
    (
        {"STORE_CURRENCY": "JPY", "STORE_TIMEZONE": "Asia/Tokyo"},
        1,
        date(2024, 12, 31),
        "296e988adfaeaa89",
    ),
    (
        {"STORE_CURRENCY": "BHD", "STORE_TIMEZONE": "Pacific/Apia"},
        3,
        date(2012, 1, 10),
        "fdd291f2c9eb61ac",
    ),
]


@pytest.mark.parametrize(("config", "plan_seed", "end", "digest"), PLAN_DIGESTS)
def test_plan_output_is_unchanged(config, plan_seed, end, digest):
    store = StoreSettings.from_config(config)
    h = hashlib.sha256()
    for item in iter_plan(30_000, store, plan_seed, end):
        h.update(json.dumps(item, sort_keys=True).encode())
    assert h.hexdigest()[:16] == digest
