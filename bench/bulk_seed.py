"""Bulk seeding: a benchmark database filled with exactly the orders and refunds of
``seed.iter_plan(n, store)`` in minutes instead of the ~hour the ingest path takes at 10M.

The ingest path (``seed.seed``: ``ingest_orders`` and ``record_refund`` per batch) updates
every rollup row by row as it goes. Here only the raw rows are written, each engine's fast
way (PostgreSQL ``COPY``; MariaDB/MySQL ``LOAD DATA LOCAL INFILE``, or multi-row ``INSERT``s
where the server does not allow it; SQLite ``executemany``), and the rollups are then computed
once from them, set-based (``ingest.rebuild.rebuild_rollups``), and the tables ``ANALYZE``d.

Exactness: rows are built by ingest's own stored-form code (``ingest.stored_form``:
``stored_order``, ``order_row``, ``line_rows``, ``stored_refund``, ...), refunds pass
``RefundIn`` and ``refund_problems`` and move ``orders.refunded`` and
``order_lines.returned_quantity`` as ``record_refund`` does. Orders skip the API's pydantic
models (they cost more than everything else here), so one batch of ``seed.BATCH`` orders in
``CHECK_EVERY`` also goes through ``OrderBatchIn``, ``validate_orders`` and ``prepare_order``
and must come out identical, else the load stops. ``tests/bench/test_bulk_seed.py`` checks
that both paths leave every table identical; the bench checks ``rollups_exact`` afterwards.

Generation (Python) and loading (the server) overlap: a writer thread sends one chunk while
the next is generated, so at most two chunks of ``CHUNK_ORDERS`` orders are held, whatever
``n``. To time seeding alone (a fresh ``bench_analytics_<orders>`` database, as the bench
prepares it)::

    .venv/bin/python bench/bulk_seed.py --backend postgresql --orders 1000000
    .venv/bin/python bench/bulk_seed.py --backend mysql --orders 100000 --seed api
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

# Run as a script, only bench/ itself is on sys.path (as in bench_service.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bench.targets import analyze
from ecommerce_analytics.config import StoreSettings
from ecommerce_analytics.errors import Problem
from ecommerce_analytics.ingest import validate_orders
from ecommerce_analytics.ingest.rebuild import rebuild_rollups
from ecommerce_analytics.ingest.stored_form import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    REFUND_COLUMNS,
    REFUND_LINE_COLUMNS,
    StoredOrder,
    StoredRefund,
    line_rows,
    order_row,
    prepare_order,
    refund_line_rows,
    refund_row,
    stored_order,
    stored_refund,
)
from ecommerce_analytics.ingest.validation import refund_problems
from ecommerce_analytics.models import Order
from ecommerce_analytics.schemas import OrderBatchIn, RefundIn
from ecommerce_analytics.seed import BATCH, DEFAULT_END, DEFAULT_SEED, Planned, iter_plan
from ecommerce_analytics.upsert import Encoders, Row, dialect_encoders

# Orders per load round (one COPY / LOAD DATA per table); two rounds are held at a time.
CHUNK_ORDERS = 20_000
# One batch of ``seed.BATCH`` orders in this many is also parsed as the API parses it.
CHECK_EVERY = 16
# The raw tables in load order (a row's parent first) with the columns written.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("orders", ORDER_COLUMNS),
    ("order_lines", (*LINE_COLUMNS, "returned_quantity")),
    ("refunds", REFUND_COLUMNS),
    ("refund_lines", REFUND_LINE_COLUMNS),
)


_NOTHING_RETURNED: dict[str, int] = {}


class BulkSeedError(RuntimeError):
    """The plan cannot be bulk loaded as the ingest path would store it."""


@dataclass
class Chunk:
    """Up to ``CHUNK_ORDERS`` orders as encoded rows, one list per table of ``TABLES``."""

    orders: int = 0
    refunds: int = 0
    rows: tuple[list[Row], ...] = field(default_factory=lambda: tuple([] for _ in TABLES))


@dataclass
class BulkSeedResult:
    orders: int
    refunds: int
    method: str
    load_s: float
    rebuild_s: dict[str, float]
    analyze_s: float

    @property
    def total_s(self) -> float:
        return self.load_s + sum(self.rebuild_s.values()) + self.analyze_s


def _fast_stored(payload: dict[str, Any], store: StoreSettings) -> StoredOrder:
    """A plan order's stored form straight from its payload (no pydantic model)."""
    return stored_order(
        payload["order_id"],
        payload["customer_id"],
        datetime.fromisoformat(payload["created_at"]),
        [
            (line["sku"], line["quantity"], line["unit_price"], line.get("discount"))
            for line in payload["lines"]
        ],
        payload.get("shipping"),
        payload.get("tax"),
        store,
    )


def check_like_the_api(
    planned: list[tuple[dict[str, Any], StoredOrder]], store: StoreSettings, now: datetime
) -> None:
    """Parse the payloads as ``POST /api/v1/orders`` does (``OrderBatchIn``,
    ``validate_orders``, ``prepare_order``) and require the stored forms ``_fast_stored``
    made; ``BulkSeedError`` naming the first difference otherwise."""
    try:
        batch = OrderBatchIn.model_validate({"orders": [payload for payload, _ in planned]})
        validate_orders(batch.orders, store, now)
    except Problem as exc:
        raise BulkSeedError(f"the API would refuse: {exc.extensions.get('errors')}") from exc
    except ValueError as exc:  # pydantic's ValidationError
        raise BulkSeedError(f"the API would refuse: {exc}") from exc
    for model, (_, fast) in zip(batch.orders, planned, strict=True):
        expected = prepare_order(model, store)
        if expected != fast:
            raise BulkSeedError(f"order {model.order_id}: API {expected} != bulk {fast}")


def _refund(
    o: StoredOrder, refund: tuple[str, dict[str, Any]], store: StoreSettings, now: datetime
) -> tuple[StoredRefund, dict[str, int]]:
    """A plan refund of order ``o`` in stored form, and the units it returns per SKU;
    refused as ``record_refund`` refuses it (422 and 409)."""
    order_id, payload = refund
    if order_id != o.order_id:
        raise BulkSeedError(f"refund of {order_id} planned with order {o.order_id}")
    body = RefundIn.model_validate(payload)
    r = stored_refund(order_id, body, store, now)
    quantities = {sku: quantity for sku, quantity, *_ in o.lines}
    errors = refund_problems(
        body, Decimal(body.amount), r.created_at, o.created_at, quantities, store, now
    )
    if errors:
        raise BulkSeedError(f"refund {r.refund_id} would be refused: {errors}")
    if r.amount > o.gross - o.discounts:
        raise BulkSeedError(f"refund {r.refund_id} exceeds order {order_id}")
    returned: dict[str, int] = {}
    for sku, quantity, _ in r.lines:
        returned[sku] = returned.get(sku, 0) + quantity
        if returned[sku] > quantities[sku]:
            raise BulkSeedError(f"refund {r.refund_id} returns more {sku} than ordered")
    return r, returned


def plan_rows(
    plan: Iterator[Planned], store: StoreSettings, enc: Encoders, now: datetime
) -> Iterator[Chunk]:
    """``plan``'s orders and refunds as encoded raw rows, ``CHUNK_ORDERS`` orders a chunk,
    each with its refund (so a chunk's rows reference only its own orders), ``ingested_at``
    ``now``."""
    ingested_at = enc.datetime(now.astimezone(UTC))
    chunk = Chunk()
    checked: list[tuple[dict[str, Any], StoredOrder]] = []
    for number, (payload, refund) in enumerate(plan):
        o = _fast_stored(payload, store)
        if number // BATCH % CHECK_EVERY == 0:
            checked.append((payload, o))
            if len(checked) == BATCH:
                check_like_the_api(checked, store, now)
                checked.clear()
        orders, lines, refunds, refund_lines = chunk.rows
        refunded, returned = 0, _NOTHING_RETURNED
        if refund is not None:
            r, returned = _refund(o, refund, store, now)
            refunded = r.amount
            refunds.append(refund_row(r, enc))
            refund_lines.extend(refund_line_rows(r))
            chunk.refunds += 1
        orders.append(order_row(o, store.currency, ingested_at, enc, refunded))
        lines.extend([(*row, returned.get(row[2], 0)) for row in line_rows(o)])
        chunk.orders += 1
        if chunk.orders == CHUNK_ORDERS:
            yield chunk
            chunk = Chunk()
    if checked:
        check_like_the_api(checked, store, now)
    if chunk.orders:
        yield chunk


class Sink(Protocol):
    """Where chunks are written: one database connection, each chunk committed."""

    method: str
    # Whether a writer thread may send a chunk while the next is generated.
    threaded: bool

    def write(self, chunk: Chunk) -> None: ...


def _column_list(columns: Sequence[str]) -> str:
    # Every raw table and column name is a plain lower-case identifier on every engine.
    return ", ".join(columns)


class PostgresCopy:
    """PostgreSQL: one ``COPY ... FROM STDIN`` per table and chunk (psycopg 3 formats the rows
    in C and streams them while the server inserts)."""

    method = "COPY"
    threaded = True

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    def write(self, chunk: Chunk) -> None:
        with self._driver.cursor() as cursor:
            for (table, columns), rows in zip(TABLES, chunk.rows, strict=True):
                if not rows:
                    continue
                statement = f"COPY {table} ({_column_list(columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        self._driver.commit()


# LOAD DATA's default field format: tab-separated, backslash escapes, \N for NULL.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _tsv_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    # int, date (ISO) and naive datetime ("YYYY-MM-DD HH:MM:SS[.ffffff]").
    return str(value)


class MySQLLoad:
    """MariaDB/MySQL: ``LOAD DATA LOCAL INFILE`` of a tab-separated file per table and chunk
    when the server allows local files, else multi-row ``INSERT``s (PyMySQL's executemany).

    ``LOCAL`` turns bad values and duplicate keys into warnings (the row is skipped or the
    value clamped), so every load must report all its rows and no warning, else it stops."""

    threaded = True

    def __init__(self, driver: Any, local_infile: bool, directory: Path) -> None:
        self._driver = driver
        self._local_infile = local_infile
        self._directory = directory
        self.method = "LOAD DATA LOCAL INFILE" if local_infile else "multi-row INSERT"

    def write(self, chunk: Chunk) -> None:
        with self._driver.cursor() as cursor:
            for (table, columns), rows in zip(TABLES, chunk.rows, strict=True):
                if not rows:
                    continue
                if self._local_infile:
                    self._load(cursor, table, columns, rows)
                else:
                    placeholders = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({_column_list(columns)}) VALUES ({placeholders})",
                        rows,
                    )
        self._driver.commit()

    def _load(self, cursor: Any, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        path = self._directory / f"{table}.tsv"
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.writelines("\t".join([_tsv_field(v) for v in row]) + "\n" for row in rows)
        cursor.execute(
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
            f"({_column_list(columns)})",
            (str(path),),
        )
        if cursor.rowcount != len(rows) or cursor.warning_count:
            cursor.execute("SHOW WARNINGS LIMIT 5")
            raise BulkSeedError(
                f"LOAD DATA into {table} stored {cursor.rowcount} of {len(rows)} rows: "
                f"{cursor.fetchall()}"
            )


def _mysql_local_infile(driver: Any, log: Callable[[str], None]) -> tuple[bool, bool]:
    """Whether ``LOAD DATA LOCAL`` may be used, and whether this call switched the server's
    ``local_infile`` on for it (MariaDB allows it by default, MySQL 8 does not; setting it
    needs an admin account, such as the bench's root)."""
    with driver.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.local_infile")
        if int(cursor.fetchone()[0]):
            return True, False
        try:
            cursor.execute("SET GLOBAL local_infile = 1")
        except driver.Error as exc:
            log(f"local_infile is off and cannot be set ({exc}); loading with INSERTs instead")
            return False, False
    log("local_infile was off: on for this load, off again after it")
    return True, True


class SQLiteInsert:
    """SQLite: ``executemany`` of a plain ``INSERT`` per table (C loop, one prepared statement).
    No writer thread: the driver connection belongs to the thread that opened it, and SQLite
    works in this process anyway."""

    method = "executemany"
    threaded = False

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    def write(self, chunk: Chunk) -> None:
        for (table, columns), rows in zip(TABLES, chunk.rows, strict=True):
            if rows:
                placeholders = ", ".join(["?"] * len(columns))
                self._driver.executemany(
                    f"INSERT INTO {table} ({_column_list(columns)}) VALUES ({placeholders})", rows
                )
        self._driver.commit()


def _load(
    chunks: Iterator[Chunk], sink: Sink, total: int, log: Callable[[str], None]
) -> tuple[int, int]:
    """Write every chunk; progress about every 10% of ``total``. Returns (orders, refunds)."""
    started = time.perf_counter()
    step = max(total // 10, 1)
    orders = refunds = 0

    def written(chunk: Chunk) -> None:
        nonlocal orders, refunds
        before = orders
        orders += chunk.orders
        refunds += chunk.refunds
        if orders // step != before // step or orders == total:
            rate = orders / (time.perf_counter() - started)
            log(f"loaded {orders:,} orders ({rate:,.0f}/s, {sink.method})")

    if not sink.threaded:
        for chunk in chunks:
            sink.write(chunk)
            written(chunk)
        return orders, refunds
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-seed-writer") as pool:
        pending: tuple[Future[None], Chunk] | None = None
        for chunk in chunks:
            if pending is not None:
                # One chunk in flight: the previous one must be stored before the next goes.
                pending[0].result()
                written(pending[1])
            pending = (pool.submit(sink.write, chunk), chunk)
        if pending is not None:
            pending[0].result()
            written(pending[1])
    return orders, refunds


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bulk_seed(
    url: str,
    store: StoreSettings,
    orders: int,
    *,
    seed: int = DEFAULT_SEED,
    end: date = DEFAULT_END,
    log: Callable[[str], None] = _stderr,
) -> BulkSeedResult:
    """Load ``iter_plan(orders, store, seed, end)`` (defaults: ``seed.DEFAULT_SEED``,
    ``seed.DEFAULT_END``) into the migrated database at ``url``, whose raw tables must be
    empty: the raw rows, then every rollup rebuilt, then ``ANALYZE``. ``log`` (default:
    stderr) gets the progress lines: orders loaded and orders/s, each phase's and each
    rollup's time."""
    engine = create_engine(url, poolclass=NullPool, **engine_options(url))
    try:
        return _bulk_seed(engine, store, orders, seed, end, log)
    finally:
        engine.dispose()


def engine_options(url: str) -> dict[str, Any]:
    """``create_engine`` arguments for loading into ``url``: PyMySQL must be allowed to send
    local files (``LOAD DATA LOCAL``)."""
    if url.startswith("mysql"):
        return {"connect_args": {"local_infile": True}}
    return {}


def _bulk_seed(
    engine: Engine,
    store: StoreSettings,
    orders: int,
    seed: int,
    end: date,
    log: Callable[[str], None],
) -> BulkSeedResult:
    dialect = engine.dialect.name
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(Order)).scalar():
            raise BulkSeedError("the orders table is not empty: bulk seeding needs an empty one")
    now = datetime.now(UTC)
    chunks = plan_rows(iter_plan(orders, store, seed, end), store, dialect_encoders(dialect), now)
    started = time.perf_counter()
    raw = engine.raw_connection()
    switched_on = False
    try:
        driver: Any = raw.driver_connection
        with tempfile.TemporaryDirectory(prefix="bulk-seed-") as directory:
            sink: Sink
            if dialect == "postgresql":
                sink = PostgresCopy(driver)
            elif dialect == "mysql":
                local_infile, switched_on = _mysql_local_infile(driver, log)
                sink = MySQLLoad(driver, local_infile, Path(directory))
            else:
                sink = SQLiteInsert(driver)
            loaded, refunds = _load(chunks, sink, orders, log)
    finally:
        try:
            if switched_on:
                # Back as it was: the server's setting is not this loader's to keep.
                with driver.cursor() as cursor:
                    cursor.execute("SET GLOBAL local_infile = 0")
        finally:
            raw.close()
    load_s = time.perf_counter() - started
    log(f"raw rows: {loaded:,} orders, {refunds:,} refunds in {load_s:.1f} s ({sink.method})")
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        rebuild_s = rebuild_rollups(session, lambda t, s: log(f"rebuilt {t} in {s:.1f} s"))
    log(f"rollups rebuilt in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    analyze(engine)
    analyze_s = time.perf_counter() - started
    log(f"analyzed in {analyze_s:.1f} s")
    return BulkSeedResult(loaded, refunds, sink.method, load_s, rebuild_s, analyze_s)


def main(argv: Sequence[str] | None = None) -> int:
    """Seed one fresh ``bench_analytics_<orders>`` database as ``bench_service.py`` would
    (``targets.prepare``) and print the time: for measuring seeding alone."""
    from bench.targets import BACKENDS, check_server, prepare

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--seed", choices=("bulk", "api"), default="bulk")
    parser.add_argument("--data-dir", type=Path, default=root / ".bench-data")
    args = parser.parse_args(argv)
    if args.backend != "sqlite":
        check_server(args.backend)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    (args.data_dir / ".gitignore").write_text("*\n")
    (args.data_dir / f"{args.backend}-{args.orders}.seeded").unlink(missing_ok=True)
    _, seconds, _ = prepare(args.backend, args.orders, args.data_dir, seed=args.seed)
    assert seconds is not None
    print(f"{args.backend} {args.orders:,} orders seeded ({args.seed}) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
