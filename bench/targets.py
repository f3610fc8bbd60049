"""The databases the service is benchmarked on (``Target``): the servers' admin URLs
(``BENCH_POSTGRES_URL``, ``BENCH_MYSQL_URL``), creating, seeding (``prepare``: bulk or through
the ingest path), cloning and dropping databases, planner statistics (``analyze``), a bench
API key (``api_key``) and the check that the rollups equal the raw rows (``rollups_exact``).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.loopback import HOST

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ecommerce_analytics.config import StoreSettings

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
# Server backends: the environment variable naming the admin URL, and its default.
SERVER_URLS = {
    "postgresql": ("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
    "mysql": ("BENCH_MYSQL_URL", DEFAULT_MYSQL),
}
BACKENDS = ("sqlite", "postgresql", "mysql")


# How a database is seeded: ``bulk`` (``bench.bulk_seed``: raw rows loaded, rollups rebuilt) or
# ``api`` (``seed.seed``: the ingest path, batch by batch). Same rows either way.
SEED_PATHS = ("bulk", "api")
# The API path's processes per backend: PostgreSQL and MariaDB take concurrent writers (one per core
# here); SQLite has one writer at a time, so a second process would only wait for the lock.
SEED_JOBS = {"sqlite": 1, "postgresql": 2, "mysql": 2}
# Seeding is given up when no batch was written for this long (a hung process).
SEED_STALL_S = 600


@dataclass(frozen=True)
class Target:
    """A database the service can be pointed at, cloneable for the ingest run."""

    backend: str
    name: str
    url: str


def admin_url(backend: str) -> str:
    """The server URL the databases are created from (``BENCH_POSTGRES_URL`` or
    ``BENCH_MYSQL_URL``, else the local default)."""
    env, default = SERVER_URLS[backend]
    return os.environ.get(env, default)


def _admin(backend: str, *statements: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(admin_url(backend), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def check_server(backend: str) -> None:
    """Exit with a clear message unless the backend's server is on 127.0.0.1 and answers."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    env = SERVER_URLS[backend][0]
    url = make_url(admin_url(backend))
    if url.host not in (HOST, "localhost"):
        sys.exit(f"bench_service: {env} must point at {HOST}, got host {url.host!r}")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        shown = url.render_as_string(hide_password=True)
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        sys.exit(
            f"bench_service: no {backend} server at {shown} (set {env}, or leave {backend} "
            f"out with --backends): {reason}"
        )
    finally:
        engine.dispose()


def target_for(backend: str, name: str, data_dir: Path) -> Target:
    if backend == "sqlite":
        return Target(backend, name, f"sqlite:///{data_dir / (name + '.sqlite3')}")
    from sqlalchemy.engine import make_url

    url = make_url(admin_url(backend)).set(database=name).render_as_string(hide_password=False)
    return Target(backend, name, url)


def drop(target: Target, data_dir: Path) -> None:
    if target.backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"{target.name}.sqlite3{suffix}").unlink(missing_ok=True)
    elif target.backend == "postgresql":
        _admin("postgresql", f"DROP DATABASE IF EXISTS {target.name} WITH (FORCE)")
    else:
        _admin(target.backend, f"DROP DATABASE IF EXISTS {target.name}")


def create_empty(target: Target, data_dir: Path) -> None:
    drop(target, data_dir)
    if target.backend != "sqlite":
        _admin(target.backend, f"CREATE DATABASE {target.name}")


def clone(source: Target, name: str, data_dir: Path) -> Target:
    """A copy of ``source`` named ``name`` (replacing any): a file copy on SQLite,
    ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, table by table on MariaDB/MySQL."""
    copy = target_for(source.backend, name, data_dir)
    drop(copy, data_dir)
    if source.backend == "sqlite":
        from sqlalchemy import create_engine, text

        # Fold the WAL into the main file first so a file copy is the whole database.
        engine = create_engine(source.url)
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()
        shutil.copyfile(data_dir / f"{source.name}.sqlite3", data_dir / f"{name}.sqlite3")
    elif source.backend == "postgresql":
        _admin("postgresql", f"CREATE DATABASE {name} TEMPLATE {source.name}")
    else:
        _clone_mysql(source.name, name)
    return copy


def _clone_mysql(source: str, name: str) -> None:
    """MariaDB/MySQL have no ``CREATE DATABASE ... TEMPLATE``: each table is re-created from
    its own ``SHOW CREATE TABLE`` (indexes, foreign keys, collations, AUTO_INCREMENT exactly as
    migrated, which ``CREATE TABLE ... LIKE`` would not all keep) and filled with ``INSERT ...
    SELECT``, with key checks off as a dump restore does. Copying is far quicker than seeding
    again (which also goes through every rollup)."""
    from sqlalchemy import create_engine

    engine = create_engine(admin_url("mysql"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
            tables = [
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                    (source,),
                )
            ]
            conn.exec_driver_sql(f"USE {name}")
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            for table in tables:
                ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE `{source}`.`{table}`").one()[1]
                conn.exec_driver_sql(ddl)
            for table in tables:
                conn.exec_driver_sql(
                    f"INSERT INTO `{name}`.`{table}` SELECT * FROM `{source}`.`{table}`"
                )
    finally:
        engine.dispose()


def prepare(
    backend: str, orders: int, data_dir: Path, seed: str = "bulk"
) -> tuple[Target, float | None, str]:
    """A migrated database seeded with ``orders`` orders, through ``seed`` (``SEED_PATHS``,
    default ``bulk``); reused (and migrated to the current head) when a previous run completed
    it, whichever path seeded it (marker file ``<backend>-<orders>.seeded``, which records
    the path; the data are the same). Returns it, the seeding time (None if reused) and the
    path that seeded it. Exits with a message when a bulk seed's rollups do not match its raw
    rows."""
    from flask_migrate import upgrade  # type: ignore[import-untyped]

    from ecommerce_analytics import create_app
    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db

    if seed not in SEED_PATHS:
        raise ValueError(f"seed must be one of {SEED_PATHS}, got {seed!r}")
    target = target_for(backend, f"bench_analytics_{orders}", data_dir)
    marker = data_dir / f"{backend}-{orders}.seeded"
    label = f"[{backend} {orders:,}]"
    if marker.exists():
        path = seeded_by(marker)
        print(
            f"{label} reusing {target.name} (seeded by {path}; --fresh re-seeds)",
            file=sys.stderr,
            flush=True,
        )
        # Seeded by an older checkout: bring the schema to this one's head (a no-op when current).
        app = create_app({"DATABASE_URL": target.url})
        with app.app_context():
            upgrade()
            forget_shared_responses(get_db())
            analyze(get_db().engine)
            get_db().dispose()
        return target, None, path
    create_empty(target, data_dir)
    app = create_app({"DATABASE_URL": target.url})
    with app.app_context():
        upgrade()
        store = current_store()
        get_db().dispose()
    if seed == "bulk":
        elapsed = _bulk(target, orders, store, label)
    else:
        elapsed = _through_api(target, orders, label)
        with app.app_context():
            analyze(get_db().engine)
            get_db().dispose()
    marker.write_text(f"seconds={elapsed:.3f}\nseed={seed}\n")
    return target, elapsed, seed


def seeded_by(marker: Path) -> str:
    """The seeding path a marker records; ``api`` for markers written before there was a
    choice (they held only the seconds)."""
    for line in marker.read_text().splitlines():
        if line.startswith("seed="):
            return line.removeprefix("seed=")
    return "api"


def _bulk(target: Target, orders: int, store: StoreSettings, label: str) -> float:
    """``bench.bulk_seed`` into ``target``, then the rollups checked against the raw rows."""
    from bench.bulk_seed import BulkSeedError, bulk_seed

    def log(message: str) -> None:
        print(f"{label} {message}", file=sys.stderr, flush=True)

    try:
        result = bulk_seed(target.url, store, orders, log=log)
    except BulkSeedError as exc:
        sys.exit(f"bench_service: bulk seeding {target.name} failed: {exc} (--seed api avoids it)")
    log(
        f"bulk seeded in {result.total_s:.1f} s ({orders / result.total_s:,.0f} orders/s): "
        f"load {result.load_s:.1f} s, rollups {sum(result.rebuild_s.values()):.1f} s, "
        f"analyze {result.analyze_s:.1f} s"
    )
    if not rollups_exact(target):
        sys.exit(
            f"bench_service: the rollups of bulk-seeded {target.name} do not match its raw rows "
            "(rollups_exact): the bulk path and ingest disagree; re-seed with --seed api and "
            "report it"
        )
    return result.total_s


def _through_api(target: Target, orders: int, label: str) -> float:
    """``seed.seed`` through the ingest path, in ``SEED_JOBS`` processes; the seconds taken."""
    backend = target.backend
    jobs = SEED_JOBS[backend]
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    written: Any = context.Queue()
    workers = [
        context.Process(target=seed_shard, args=(target.url, orders, (k, jobs), written))
        for k in range(jobs)
    ]
    for worker in workers:
        worker.start()
    done = 0
    step = max(orders // 10, 1)
    last_progress = time.monotonic()
    try:
        while done < orders:
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed:
                raise RuntimeError(f"a seeding process exited with {failed[0]}")
            if time.monotonic() - last_progress > SEED_STALL_S:
                raise RuntimeError(f"no batch written for {SEED_STALL_S} s")
            try:
                batch = written.get(timeout=5)
            except queue.Empty:
                if all(w.exitcode == 0 for w in workers):
                    raise RuntimeError("the seeding processes ended early") from None
                continue
            last_progress = time.monotonic()
            before, done = done, done + batch
            if done // step != before // step or done == orders:
                rate = done / (time.perf_counter() - started)
                print(
                    f"{label} seeded {done:,} orders ({rate:,.0f}/s, {jobs} jobs)",
                    file=sys.stderr,
                    flush=True,
                )
        for worker in workers:
            worker.join()
            if worker.exitcode != 0:
                raise RuntimeError(f"a seeding process exited with {worker.exitcode}")
    except RuntimeError as exc:
        for worker in workers:
            worker.kill()
        sys.exit(f"bench_service: seeding {target.name} stopped at {done:,} orders: {exc}")
    return time.perf_counter() - started


def seed_shard(url: str, orders: int, shard: tuple[int, int], written: Any) -> None:
    """One seeding process: its shard of the plan, reporting each written batch's size."""
    from ecommerce_analytics import create_app
    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.seed import seed

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        seed(get_db(), current_store(), orders, progress=written.put, shard=shard)
        get_db().dispose()


def analyze(engine: Engine) -> None:
    """Planner statistics for the freshly written tables, as autovacuum (PostgreSQL) or
    InnoDB's background statistics (MariaDB/MySQL) would gather on a long-lived database
    (without them the first minutes plan like an empty one). SQLite: nothing."""
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "mysql"):
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE")
            return
        from ecommerce_analytics.models import Base

        tables = ", ".join(f"`{table.name}`" for table in Base.metadata.sorted_tables)
        conn.exec_driver_sql(f"ANALYZE TABLE {tables}").fetchall()


def forget_shared_responses(database: Any) -> None:
    """Empty the shared response cache a previous run left, so "first (uncached)" measures
    the computation, not a saved body."""
    from sqlalchemy import delete

    from ecommerce_analytics.models import SharedResponse

    with database.engine.begin() as connection:
        connection.execute(delete(SharedResponse))


def api_key(target: Target) -> str:
    from ecommerce_analytics import create_app
    from ecommerce_analytics.auth import create_key
    from ecommerce_analytics.db import get_db

    app = create_app({"DATABASE_URL": target.url})
    with app.app_context():
        with get_db().sessionmaker.begin() as session:
            key = create_key(session, ["read", "write"], "bench")[1]
        get_db().dispose()
    return key


def rollups_exact(target: Target) -> bool:
    """Rollups equal aggregates of the raw rows (orders, units, money; per day and customer),
    and the customers per value bucket, last order day and RFM cell a recount of the
    customers."""
    from sqlalchemy import BigInteger, create_engine, func, select, type_coerce

    from ecommerce_analytics.models import (
        Customer,
        CustomerLastDay,
        CustomerValueCount,
        DailySales,
        Order,
        OrderLine,
        Product,
        RfmCell,
    )
    from ecommerce_analytics.value_buckets import NET, ORDERS, band_sql, bucket_sql

    net_of_parts = Customer.gross_sales - Customer.discounts - Customer.returns

    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:

            def one(stmt: Any) -> Any:
                return conn.execute(stmt).scalar()

            checks = [
                (one(select(func.sum(DailySales.orders))), one(select(func.count(Order.order_id)))),
                (one(select(func.sum(DailySales.units))), one(select(func.sum(Order.units)))),
                (
                    one(select(func.sum(DailySales.gross_sales))),
                    one(select(func.sum(Order.gross_sales))),
                ),
                (one(select(func.sum(Customer.orders))), one(select(func.count(Order.order_id)))),
                (
                    one(select(func.count(Customer.customer_id))),
                    one(select(func.count(func.distinct(Order.customer_id)))),
                ),
                (one(select(func.sum(Product.units))), one(select(func.sum(OrderLine.quantity)))),
                (
                    one(select(func.sum(type_coerce(Customer.net_sales, BigInteger)))),
                    one(select(func.sum(type_coerce(net_of_parts, BigInteger)))),
                ),
            ]
            # Customers per value bucket, against a recount from the customers.
            for figure, value in ((NET, bucket_sql(Customer.net_sales)), (ORDERS, Customer.orders)):
                stored = set(
                    conn.execute(
                        select(CustomerValueCount.bucket, CustomerValueCount.customers).where(
                            CustomerValueCount.figure == figure, CustomerValueCount.customers != 0
                        )
                    ).tuples()
                )
                bucket = value.label("bucket")
                recount = set(conn.execute(select(bucket, func.count()).group_by(bucket)).tuples())
                checks.append((len(stored ^ recount), 0))
            last = CustomerLastDay
            stored_days = set(
                conn.execute(select(last.day, last.customers).where(last.customers != 0)).tuples()
            )
            day = Customer.last_order_date
            recount_days = set(conn.execute(select(day, func.count()).group_by(day)).tuples())
            checks.append((len(stored_days ^ recount_days), 0))
            cell = RfmCell
            stored_cells = set(
                conn.execute(
                    select(
                        cell.last_order_date,
                        cell.orders,
                        cell.net_band,
                        cell.customers,
                        type_coerce(cell.net_sales, BigInteger),
                    ).where(cell.customers != 0)
                ).tuples()
            )
            band = band_sql(Customer.net_sales)
            cell_key = (Customer.last_order_date, Customer.orders, band)
            recount_cells = set(
                conn.execute(
                    select(
                        *cell_key,
                        func.count(),
                        func.sum(type_coerce(Customer.net_sales, BigInteger)),
                    ).group_by(*cell_key)
                ).tuples()
            )
            checks.append((len(stored_cells ^ recount_cells), 0))
    finally:
        engine.dispose()
    return all(int(a or 0) == int(b or 0) for a, b in checks)


@contextmanager
def serving_copy(target: Target, live: bool, data_dir: Path, log: Any) -> Iterator[Target]:
    """The database the server runs on: with a live phase, a copy (``bench_live_<backend>``,
    dropped afterwards) so the live writes leave the seeded database as it was; else itself."""
    if not live:
        yield target
        return
    started = time.monotonic()
    copy = clone(target, f"bench_live_{target.backend}", data_dir)
    log(f"[{target.backend}] copied {target.name} in {time.monotonic() - started:.1f} s")
    try:
        yield copy
    finally:
        drop(copy, data_dir)
