"""Benchmark the analytics service as it runs in the container: gunicorn with the image's config,
driven by wrk over loopback.

For each backend (SQLite, PostgreSQL, MariaDB/MySQL) and data size it seeds a database through
the service's own ingest path (``ecommerce_analytics.seed``), serves a copy of it with
``gunicorn -c python:ecommerce_analytics.gunicorn_conf "ecommerce_analytics:create_app()"``, then
runs wrk against ``/healthz`` (the framework's ceiling on this machine) and every read endpoint,
interleaved, ``--repeat`` times, and reports medians. Ingest is measured on a clone of the seeded
database: orders/s through ``POST /api/v1/orders`` versus raw SQLAlchemy Core bulk inserts of the
same rows (the storage ceiling), and the rollups are checked against the raw rows afterwards.

Live phase (``--live-rate``, orders/s; default 200, 20 in smoke mode; 0 skips it): on the same
server, right after the quiet read rounds, a writer streams order batches through
``POST /api/v1/orders`` at a fixed rate while wrk reads every endpoint again; the report sets
quiet and live latencies side by side and each endpoint's live p95 against ``/healthz``'s. A
probe meanwhile writes marked orders and times how long after the write's 2xx each read
family (one order, sales, products, customers, insights) first reflects it: the staleness.
The live phase writes, so the server always runs on a copy of the seeded database
(``bench_live_<backend>``), dropped afterwards; the seeded one stays as seeded.

    .venv/bin/python bench/bench_service.py --mode smoke   # about a minute: 200 orders, CI
    .venv/bin/python bench/bench_service.py --mode quick   # minutes (make bench)
    .venv/bin/python bench/bench_service.py --mode full    # up to 10M orders; hours

Needs ``wrk`` (``apt-get install -y wrk``); for PostgreSQL a server at ``BENCH_POSTGRES_URL``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and for MariaDB/MySQL one at
``BENCH_MYSQL_URL`` (default ``mysql+pymysql://root@127.0.0.1:3306/test``); databases
``bench_analytics_*`` (and scratch copies) are created there. Installs nothing. Only ever talks
to 127.0.0.1 (a server URL elsewhere is refused).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import platform
import queue
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
VENV_BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
# Server backends: the environment variable naming the admin URL, and its default.
SERVER_URLS = {
    "postgresql": ("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
    "mysql": ("BENCH_MYSQL_URL", DEFAULT_MYSQL),
}
BACKENDS = ("sqlite", "postgresql", "mysql")
HOST = "127.0.0.1"
INGEST_BATCH = 100
INGEST_CONNECTIONS = 8
# Seeding processes per backend: PostgreSQL and MariaDB take concurrent writers (one per core
# here); SQLite has one writer at a time, so a second process would only wait for the lock.
SEED_JOBS = {"sqlite": 1, "postgresql": 2, "mysql": 2}
# Seeding is given up when no batch was written for this long (a hung process).
SEED_STALL_S = 600

HEALTH = ("healthz", "/healthz")
# Every read endpoint, with the query a dashboard would send over the seeded year of data.
READS: tuple[tuple[str, str], ...] = (
    ("sales", "/api/v1/sales?start=2024-07-01&end=2025-06-30&granularity=month"),
    ("sales_daily", "/api/v1/sales?start=2025-04-01&end=2025-06-30&granularity=day"),
    ("products", "/api/v1/products/performance?start=2025-04-01&end=2025-06-30&limit=10"),
    ("customers", "/api/v1/customers?limit=20"),
    ("ltv_distribution", "/api/v1/customers/ltv-distribution"),
    ("returning_rate", "/api/v1/customers/returning-rate?start=2025-01-01&end=2025-06-30"),
    ("cohorts", "/api/v1/customers/cohorts?start=2024-07&end=2024-12&months=6"),
    ("rfm", "/api/v1/customers/rfm?limit=20"),
    ("bought_together", "/api/v1/insights/bought-together?limit=10"),
    ("churn_risk", "/api/v1/insights/churn-risk?limit=20"),
    ("order", "/api/v1/orders/SEED-000001"),
    ("openapi", "/api/v1/openapi.json"),
)


@dataclass(frozen=True)
class Mode:
    sizes: dict[str, tuple[int, ...]]
    duration: float
    warmup: float
    repeat: int
    connections: int
    c1000_duration: float
    # Live phase: seconds per endpoint while the writer runs, and its orders/s (0: no live phase).
    live_duration: float = 0
    live_rate: float = 0
    live_batch: int = 10


MODES = {
    # Smoke: live reads of 1 s per endpoint (not 2) keep the whole run near a minute.
    "smoke": Mode({"sqlite": (200,)}, 2, 0.5, 1, 16, 0, live_duration=1, live_rate=20),
    # MariaDB seeds slower than PostgreSQL (here ~1,600 orders/s with 2 jobs): 100k still takes
    # about a minute, and the same sizes on every backend keep the tables comparable.
    "quick": Mode(
        {"sqlite": (10_000, 100_000), "postgresql": (10_000, 100_000), "mysql": (10_000, 100_000)},
        3,
        0.5,
        1,
        64,
        10,
        live_duration=3,
        live_rate=200,
    ),
    "full": Mode(
        {
            "sqlite": (10_000, 100_000, 1_000_000),
            "postgresql": (10_000, 100_000, 1_000_000, 10_000_000),
            "mysql": (10_000, 100_000, 1_000_000),
        },
        10,
        2,
        3,
        64,
        60,
        live_duration=10,
        live_rate=200,
    ),
}

# ---- live phase settings ----
# Writer: share of orders from brand-new customers (the rest return: seeded customers and the
# writer's own earlier ones) and share dated "now" (the rest fall inside the seeded year).
LIVE_NEW_CUSTOMER_SHARE = 0.2
LIVE_TODAY_SHARE = 0.2
# Concurrent writer requests at most: a batch is due every batch/rate seconds; when requests
# take longer than that, up to this many overlap so the rate holds.
WRITER_THREADS = 8
# Probe: at most this many marked writes per live phase, spread over it (at least
# PROBE_MIN_PERIOD_S apart); each is polled every PROBE_POLL_S, first at once after the 2xx,
# for at most PROBE_LIMIT_S (then counted as not seen).
PROBE_MAX = 100
PROBE_MIN_PERIOD_S = 0.5
PROBE_POLL_S = 0.1
PROBE_LIMIT_S = 10.0
# Probe orders land on a day before the seeded year that the writer never writes to, with two
# SKUs no one else sells and a new customer each, so every signal below counts probe writes
# only: count = count before the first probe + probes acknowledged so far.
PROBE_SKUS = ("PROBE-A", "PROBE-B")


@dataclass
class Run:
    """One wrk run, or the median of several."""

    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    requests: int


@dataclass
class Row:
    backend: str
    orders: int
    endpoint: str
    run: Run
    health: Run
    cold_ms: float | None = None


@dataclass
class IngestRow:
    backend: str
    orders: int
    api_orders_per_s: float
    raw_orders_per_s: float
    errors: int
    rollups_exact: bool


@dataclass
class SizeInfo:
    backend: str
    orders: int
    seed_s: float | None
    seed_orders_per_s: float | None
    rss_mib: float
    worker_rss_mib: list[float] = field(default_factory=list)


@dataclass
class LiveEndpoint:
    """One endpoint's medians without and with the writer running, on the same server."""

    endpoint: str
    quiet: Run
    live: Run
    live_p95_vs_healthz: float


@dataclass
class WriterStats:
    """What the live writer sent and how the service took it; errors are non-2xx answers and
    failed requests. ``max_lag_ms``: how late the most delayed batch left against its slot."""

    target_orders_per_s: float
    achieved_orders_per_s: float
    seconds: float
    batches: int
    orders: int
    new_customers: int
    today_orders: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_lag_ms: float


@dataclass
class Staleness:
    """One signal's probe results: ms from a write's 2xx to the first response that reflects
    it (None when none did); ``stale_reads``: responses, all requested after the 2xx, that did
    not reflect it yet."""

    signal: str
    read: str
    probes: int
    seen: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    stale_reads: int
    errors: int


@dataclass
class LiveRun:
    backend: str
    orders: int
    connections: int
    writer: WriterStats
    endpoints: list[LiveEndpoint]
    staleness: list[Staleness]
    probe_write_errors: int


@dataclass
class Report:
    mode: str
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ingest: list[IngestRow] = field(default_factory=list)
    sizes: list[SizeInfo] = field(default_factory=list)
    c1000: list[Row] = field(default_factory=list)
    live: list[LiveRun] = field(default_factory=list)


# ---- wrk ------------------------------------------------------------------------------------


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        sys.exit(
            "bench_service: wrk is not installed. Install it with `apt-get install -y wrk` "
            "(Debian/Ubuntu) or `brew install wrk` (macOS), then re-run."
        )
    return found


def run_wrk(
    url: str,
    *,
    script: str,
    duration: float,
    connections: int,
    env: dict[str, str],
    timeout_s: int = 10,
) -> Run:
    threads = 2 if connections >= 2 else 1
    cmd = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(WRK_DIR / script),
        url,
    ]
    done = subprocess.run(
        cmd,
        env={**os.environ, "BENCH_THREADS": str(threads), **env},
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=False,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = data["duration_us"] / 1e6
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Run(
        rps=data["requests"] / seconds,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=socket_errors,
        non_2xx=data["status"],
        requests=data["requests"],
    )


def median_run(runs: Sequence[Run]) -> Run:
    return Run(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p95_ms=statistics.median(r.p95_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        requests=sum(r.requests for r in runs),
    )


# ---- databases ------------------------------------------------------------------------------


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


def prepare(backend: str, orders: int, data_dir: Path) -> tuple[Target, float | None]:
    """A migrated database seeded with ``orders`` orders through the ingest path; reused (and
    migrated to the current head) when a previous run completed it (marker file). Returns it
    and the seeding time (None if reused)."""
    from flask_migrate import upgrade  # type: ignore[import-untyped]

    from ecommerce_analytics import create_app
    from ecommerce_analytics.db import get_db

    target = target_for(backend, f"bench_analytics_{orders}", data_dir)
    marker = data_dir / f"{backend}-{orders}.seeded"
    if marker.exists():
        # Seeded by an older checkout: bring the schema to this one's head (a no-op when current).
        app = create_app({"DATABASE_URL": target.url})
        with app.app_context():
            upgrade()
            forget_shared_responses(get_db())
            analyze(get_db())
            get_db().dispose()
        return target, None
    create_empty(target, data_dir)
    app = create_app({"DATABASE_URL": target.url})
    with app.app_context():
        upgrade()
        get_db().dispose()
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
                    f"[{backend} {orders:,}] seeded {done:,} orders ({rate:,.0f}/s, {jobs} jobs)",
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
    elapsed = time.perf_counter() - started
    with app.app_context():
        analyze(get_db())
        get_db().dispose()
    marker.write_text(f"{elapsed:.3f}\n")
    return target, elapsed


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


def analyze(database: Any) -> None:
    """Planner statistics for the freshly written tables, as autovacuum (PostgreSQL) or
    InnoDB's background statistics (MariaDB/MySQL) would gather on a long-lived database
    (without them the first minutes plan like an empty one). SQLite: nothing."""
    dialect = database.engine.dialect.name
    if dialect not in ("postgresql", "mysql"):
        return
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
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


# ---- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str

    def rss_mib(self) -> tuple[float, list[float]]:
        """Resident size of the master plus workers, and of each worker, in MiB."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        workers = [_rss_mib(int(c)) for c in children]
        return _rss_mib(pid) + sum(workers), workers


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def serve(target: Target, log: Path) -> Iterator[Server]:
    """gunicorn exactly as the image runs it (same config module), on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": target.url,
        "PORT": str(port),
        "MIGRATE_ON_START": "0",
        # One benchmark key would exceed any per-key limit at once; measured without it.
        "RATE_LIMIT_PER_MINUTE": "0",
    }
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        "python:ecommerce_analytics.gunicorn_conf",
        "--bind",
        f"{HOST}:{port}",
        "ecommerce_analytics:create_app()",
    ]
    with log.open("ab") as err:
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    server = Server(process, f"http://{HOST}:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(server.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not become ready; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get_ms(url: str, key: str) -> float:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


# ---- phases ---------------------------------------------------------------------------------


def measure_reads(
    server: Server, key: str, mode: Mode, backend: str, orders: int, log: Any
) -> list[Row]:
    """Per round: /healthz, then every read endpoint; medians over ``mode.repeat`` rounds."""
    env = {"BENCH_API_KEY": key}
    cold = {name: get_ms(server.base + path, key) for name, path in READS}
    for _name, path in READS:
        run_wrk(
            server.base + path,
            script="read.lua",
            duration=mode.warmup,
            connections=mode.connections,
            env=env,
        )
    runs = read_rounds(server, key, mode, mode.duration, backend, orders, log)
    health = median_run(runs["healthz"])
    rows = [Row(backend, orders, "healthz", health, health)]
    rows += [
        Row(backend, orders, name, median_run(runs[name]), health, cold[name]) for name, _ in READS
    ]
    return rows


def read_rounds(
    server: Server, key: str, mode: Mode, duration: float, label: str, orders: int, log: Any
) -> dict[str, list[Run]]:
    """``mode.repeat`` rounds of wrk at ``mode.connections``: /healthz, then every read
    endpoint, ``duration`` s each; the runs by endpoint name."""
    env = {"BENCH_API_KEY": key}
    runs: dict[str, list[Run]] = {name: [] for name, _ in (HEALTH, *READS)}
    for round_number in range(mode.repeat):
        for name, path in (HEALTH, *READS):
            run = run_wrk(
                server.base + path,
                script="read.lua",
                duration=duration,
                connections=mode.connections,
                env={} if name == "healthz" else env,
            )
            runs[name].append(run)
            log(
                f"  [{label} {orders:>9,} round {round_number + 1}] {name:<17} "
                f"{run.rps:9.0f} req/s  p95 {run.p95_ms:7.2f} ms  errors {run.errors + run.non_2xx}"
            )
    return runs


def ingest_bodies(path: Path, batches: int) -> list[list[dict[str, Any]]]:
    """Order batches (the seed generator's shape, another seed), ids templated with ``@@``."""
    from ecommerce_analytics.config import StoreSettings
    from ecommerce_analytics.seed import plan

    store = StoreSettings.from_config({})
    orders = plan(batches * INGEST_BATCH, store, seed=4242).orders
    result = []
    with path.open("w") as out:
        for i in range(batches):
            batch = []
            for j, order in enumerate(orders[i * INGEST_BATCH : (i + 1) * INGEST_BATCH]):
                batch.append({**order, "order_id": f"@@-{j:03d}"})
            out.write(json.dumps({"orders": batch}) + "\n")
            result.append(batch)
    return result


def raw_insert_rate(
    target: Target, batches: list[list[dict[str, Any]]], seconds: float, tag: str = "raw"
) -> float:
    """Orders/s of plain Core ``INSERT`` executemany of the same rows (orders and lines), one
    transaction per batch: what the storage does with no validation and no rollups."""
    from sqlalchemy import create_engine, insert

    from ecommerce_analytics.models import Order, OrderLine

    engine = create_engine(target.url)
    now = datetime.now(UTC)
    inserted = 0
    started = time.perf_counter()
    n = 0
    try:
        while time.perf_counter() - started < seconds:
            n += 1
            rows, lines = [], []
            for order in batches[n % len(batches)]:
                order_id = order["order_id"].replace("@@", f"{tag}-{n}")
                created = datetime.fromisoformat(order["created_at"]).astimezone(UTC)
                order_lines = [
                    {
                        "order_id": order_id,
                        "line_number": k,
                        "sku": ln["sku"],
                        "quantity": ln["quantity"],
                        "unit_price": Decimal(ln["unit_price"]),
                        "discount": Decimal(ln.get("discount", "0")),
                    }
                    for k, ln in enumerate(order["lines"], start=1)
                ]
                lines += order_lines
                rows.append(
                    {
                        "order_id": order_id,
                        "customer_id": order["customer_id"],
                        "created_at": created,
                        "order_date": created.date(),
                        "currency": order["currency"],
                        "units": sum(ln["quantity"] for ln in order_lines),
                        "gross_sales": sum(
                            (ln["quantity"] * ln["unit_price"] for ln in order_lines), Decimal(0)
                        ),
                        "discounts": sum((ln["discount"] for ln in order_lines), Decimal(0)),
                        "shipping": Decimal(order["shipping"]),
                        "tax": Decimal(order["tax"]),
                        "refunded": Decimal(0),
                        "ingested_at": now,
                    }
                )
            with engine.begin() as conn:
                conn.execute(insert(Order), rows)
                conn.execute(insert(OrderLine), lines)
            inserted += len(rows)
        return inserted / (time.perf_counter() - started)
    finally:
        engine.dispose()


def rollups_exact(target: Target) -> bool:
    """Rollups equal aggregates of the raw rows (orders, units, money; per day and customer)."""
    from sqlalchemy import create_engine, func, select

    from ecommerce_analytics.models import Customer, DailySales, Order, OrderLine, Product

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
            ]
    finally:
        engine.dispose()
    return all(int(a or 0) == int(b or 0) for a, b in checks)


def measure_ingest(
    source: Target, mode: Mode, data_dir: Path, log_file: Path, log: Any
) -> IngestRow:
    scratch = clone(source, f"bench_scratch_{source.backend}", data_dir)
    # The raw inserts get their own copy: the API copy must hold API-written rows only for
    # the rollup check.
    raw_scratch = clone(source, f"bench_scratch_raw_{source.backend}", data_dir)
    bodies_file = data_dir / "ingest_bodies.jsonl"
    batches = ingest_bodies(bodies_file, 20)
    try:
        key = api_key(scratch)
        with serve(scratch, log_file) as server:

            def api_run(tag: str, seconds: float) -> Run:
                return run_wrk(
                    server.base + "/api/v1/orders",
                    script="ingest.lua",
                    duration=seconds,
                    connections=INGEST_CONNECTIONS,
                    env={
                        "BENCH_API_KEY": key,
                        "BENCH_BODIES": str(bodies_file),
                        "BENCH_RUN_TAG": f"{tag}{int(time.time())}",
                    },
                    timeout_s=30,
                )

            # Warm-up first, as for the reads: fresh workers, pools and prepared statements.
            api_run("warm", mode.warmup)
            # Then API and raw rounds alternated (the idle server costs the raw run nothing).
            api_runs, raw_rates = [], []
            for i in range(mode.repeat):
                api_runs.append(api_run(f"api{i}-", mode.duration))
                raw_rates.append(raw_insert_rate(raw_scratch, batches, mode.duration, f"raw{i}"))
        exact = rollups_exact(scratch)
        run = median_run(api_runs)
        raw = statistics.median(raw_rates)
    finally:
        drop(scratch, data_dir)
        drop(raw_scratch, data_dir)
    api = run.rps * INGEST_BATCH
    log(
        f"  [{source.backend}] ingest {api:,.0f} orders/s via API, raw {raw:,.0f} orders/s, "
        f"rollups exact: {exact}"
    )
    return IngestRow(source.backend, 0, api, raw, run.errors + run.non_2xx, exact)


# ---- live phase -----------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection to the server on 127.0.0.1 with the bench key,
    reopened (and the request sent once more) when it drops. Not thread-safe: one per thread.
    Re-sending a POST is safe here: order ingest is idempotent on ``order_id``."""

    def __init__(self, base: str, key: str, timeout_s: float = 30) -> None:
        parts = urllib.parse.urlsplit(base)
        if parts.hostname != HOST or parts.port is None:
            raise ValueError(f"only http://{HOST}:<port> is served here, got {base!r}")
        self._port = parts.port
        self._timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Status and body; raises ``OSError`` or ``http.client.HTTPException`` when the
        second attempt fails too."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(HOST, self._port, timeout=self._timeout_s)
            try:
                self._conn.request(method, path, body=body, headers=self._headers)
                response = self._conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(len(ranked) * pct / 100) - 1)]


def seeded_period() -> tuple[date, date]:
    """First and last day of the year of orders ``seed`` writes."""
    from ecommerce_analytics import seed

    return seed.DEFAULT_END - timedelta(days=seed.DAYS - 1), seed.DEFAULT_END


@dataclass(frozen=True)
class Traffic:
    """What the live writer sends: seed-shaped orders (lines, amounts, currency) re-addressed
    to new order ids, customers drawn from ``returning`` (seeded ids) or brand new, dated in
    the seeded year or now."""

    templates: list[dict[str, Any]]
    returning: list[str]
    first_day: date
    last_day: date
    tag: str


def live_traffic(target: Target, tag: str) -> Traffic:
    """Templates from the seed generator (another seed) and up to 5,000 stored customer ids."""
    from sqlalchemy import create_engine, select

    from ecommerce_analytics.config import StoreSettings
    from ecommerce_analytics.models import Customer
    from ecommerce_analytics.seed import plan

    templates = plan(500, StoreSettings.from_config({}), seed=4343).orders
    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:
            customers = list(conn.execute(select(Customer.customer_id).limit(5000)).scalars())
    finally:
        engine.dispose()
    first, last = seeded_period()
    return Traffic(templates, customers, first, last, tag)


class Writer:
    """Streams ``batch``-order batches to ``POST /api/v1/orders`` at ``rate`` orders/s on a
    fixed schedule (batch ``i`` is due ``(i + 1) * batch / rate`` s after the start), from up to
    ``WRITER_THREADS`` requests at once, until ``stop()`` or ``max_seconds``. Every order id is
    new; ``LIVE_NEW_CUSTOMER_SHARE`` of the orders (default 20%) come from new customers, the
    rest from returning ones, and ``LIVE_TODAY_SHARE`` (20%) are dated now, the rest in the
    seeded year."""

    def __init__(
        self, base: str, key: str, traffic: Traffic, rate: float, batch: int, max_seconds: float
    ) -> None:
        self._base, self._key, self._traffic = base, key, traffic
        self._rate, self._batch, self._max_seconds = rate, batch, max_seconds
        self._interval = batch / rate
        self._rng = random.Random(7)
        self._customers = list(traffic.returning)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"live-writer-{i}", daemon=True)
            for i in range(WRITER_THREADS)
        ]
        self._t0 = 0.0
        self._next = 0
        self._orders = self._batches = self._new = self._today = self._errors = 0
        self._latencies: list[float] = []
        self._max_lag = 0.0
        self.first_errors: list[str] = []

    def start(self) -> None:
        self._t0 = time.perf_counter()
        for thread in self._threads:
            thread.start()

    def stop(self) -> WriterStats:
        """Stop sending, wait for the requests in flight, and sum up."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)
        seconds = time.perf_counter() - self._t0
        lat = self._latencies or [0.0]
        return WriterStats(
            target_orders_per_s=self._rate,
            achieved_orders_per_s=self._orders / seconds,
            seconds=seconds,
            batches=self._batches,
            orders=self._orders,
            new_customers=self._new,
            today_orders=self._today,
            errors=self._errors,
            p50_ms=percentile(lat, 50),
            p95_ms=percentile(lat, 95),
            p99_ms=percentile(lat, 99),
            max_lag_ms=self._max_lag * 1000,
        )

    def _take(self) -> tuple[float, bytes, int, int]:
        """The next slot: when it is due, its body, and its new-customer and today counts."""
        with self._lock:
            number = self._next
            self._next += 1
            orders, new, today = [], 0, 0
            for j in range(self._batch):
                order, is_new, is_today = self._order(f"{number:07d}-{j:03d}")
                orders.append(order)
                new, today = new + is_new, today + is_today
        body = json.dumps({"orders": orders}).encode()
        # Slot i is due at the end of interval i, so n slots take n intervals.
        return self._t0 + (number + 1) * self._interval, body, new, today

    def _order(self, suffix: str) -> tuple[dict[str, Any], bool, bool]:
        rng, traffic = self._rng, self._traffic
        new = not self._customers or rng.random() < LIVE_NEW_CUSTOMER_SHARE
        if new:
            customer = f"LIVE-{traffic.tag}-C{len(self._customers):06d}"
            self._customers.append(customer)
        else:
            customer = rng.choice(self._customers)
        today = rng.random() < LIVE_TODAY_SHARE
        if today:
            created = datetime.now(UTC) - timedelta(seconds=rng.uniform(0, 60))
        else:
            span = (traffic.last_day - traffic.first_day).days
            day = traffic.first_day + timedelta(days=rng.randint(0, span))
            created = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 86_399)
            )
        order = {
            **rng.choice(traffic.templates),
            "order_id": f"LIVE-{traffic.tag}-{suffix}",
            "customer_id": customer,
            "created_at": created.isoformat(),
        }
        return order, new, today

    def _run(self) -> None:
        client = Http(self._base, self._key)
        try:
            while not self._stopping.is_set():
                due, body, new, today = self._take()
                if due - self._t0 > self._max_seconds:
                    break
                delay = due - time.perf_counter()
                if delay > 0 and self._stopping.wait(delay):
                    break
                self._send(client, due, body, new, today)
        finally:
            client.close()

    def _send(self, client: Http, due: float, body: bytes, new: int, today: int) -> None:
        sent = time.perf_counter()
        try:
            status, answer = client.request("POST", "/api/v1/orders", body)
            error = None if 200 <= status < 300 else f"HTTP {status}: {answer[:200]!r}"
        except (http.client.HTTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        done = time.perf_counter()
        with self._lock:
            self._batches += 1
            self._latencies.append((done - sent) * 1000)
            self._max_lag = max(self._max_lag, sent - due)
            if error is None:
                self._orders += self._batch
                self._new += new
                self._today += today
            else:
                self._errors += 1
                if len(self.first_errors) < 3:
                    self.first_errors.append(error)


@dataclass(frozen=True)
class Signal:
    """A read that must change once a probe order is stored: ``observe`` turns its answer into
    a count (None for an unexpected answer); the write is reflected once the count reaches the
    count before the first probe plus the probes acknowledged so far, or, ``per_order``, 1."""

    name: str
    path: Callable[[str], str]
    observe: Callable[[int, Any], int | None]
    per_order: bool = False


def _count(status: int, body: Any, figure: Callable[[Any], int]) -> int | None:
    return figure(body) if status == 200 else None


def probe_day() -> date:
    """Two weeks before the seeded year: no seeded or writer order is dated then."""
    return seeded_period()[0] - timedelta(days=14)


def signals() -> tuple[Signal, ...]:
    """One signal per read family (orders, sales, products, customers, insights); each counts
    probe writes only (the probe day, the probe SKUs, a new customer per probe)."""
    day, (sku_a, sku_b) = probe_day().isoformat(), PROBE_SKUS
    month = day[:7]

    def sku_orders(body: Any) -> int:
        return sum(int(row["orders"]) for row in body["data"] if row["sku"] == sku_a)

    def pair_orders(body: Any) -> int:
        pairs = body["data"]
        return sum(int(p["orders"]) for p in pairs if {p["sku_a"], p["sku_b"]} == {sku_a, sku_b})

    def cohort_customers(body: Any) -> int:
        return sum(int(c["customers"]) for c in body["cohorts"] if c["cohort"] == month)

    return (
        Signal(
            "order",
            lambda order_id: f"/api/v1/orders/{order_id}",
            lambda status, body: {200: 1, 404: 0}.get(status),
            per_order=True,
        ),
        Signal(
            "sales: day's orders",
            lambda _: f"/api/v1/sales?start={day}&end={day}&granularity=day",
            lambda status, body: _count(status, body, lambda b: int(b["totals"]["orders"])),
        ),
        Signal(
            "products: SKU's orders",
            lambda _: f"/api/v1/products/performance?start={day}&end={day}&metric=orders",
            lambda status, body: _count(status, body, sku_orders),
        ),
        Signal(
            "returning-rate: customers",
            lambda _: f"/api/v1/customers/returning-rate?start={day}&end={day}",
            lambda status, body: _count(status, body, lambda b: int(b["customers"])),
        ),
        Signal(
            "cohorts: cohort size",
            lambda _: f"/api/v1/customers/cohorts?start={month}&end={month}&months=0",
            lambda status, body: _count(status, body, cohort_customers),
        ),
        Signal(
            "bought-together: pair's orders",
            lambda _: f"/api/v1/insights/bought-together?sku={sku_a}&min_orders=1",
            lambda status, body: _count(status, body, pair_orders),
        ),
    )


@dataclass(frozen=True)
class Sample:
    visible_ms: float | None
    stale_reads: int
    errors: int


class Probe:
    """Every ``period_s`` (at most ``PROBE_MAX`` times) writes one marked order and polls
    every signal, all at once: the first poll right after the 2xx, then every
    ``PROBE_POLL_S`` until the answer reflects the write or ``PROBE_LIMIT_S`` has passed."""

    def __init__(self, base: str, key: str, tag: str, period_s: float) -> None:
        self._base, self._key, self._tag, self._period_s = base, key, tag, period_s
        self._signals = signals()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-probe", daemon=True)
        self._local = threading.local()
        self.samples: dict[str, list[Sample]] = {s.name: [] for s in self._signals}
        self.write_errors = 0
        from ecommerce_analytics.config import StoreSettings

        self._currency = StoreSettings.from_config({}).currency

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Staleness]:
        """Finish the probe under way (at most ``PROBE_LIMIT_S`` more) and sum up."""
        self._stopping.set()
        self._thread.join(timeout=PROBE_LIMIT_S + 60)
        return [self._summary(s) for s in self._signals]

    def _summary(self, signal: Signal) -> Staleness:
        samples = self.samples[signal.name]
        seen = [s.visible_ms for s in samples if s.visible_ms is not None]
        return Staleness(
            signal=signal.name,
            read=signal.path("{id}"),
            probes=len(samples),
            seen=len(seen),
            p50_ms=percentile(seen, 50) if seen else None,
            p99_ms=percentile(seen, 99) if seen else None,
            max_ms=max(seen) if seen else None,
            stale_reads=sum(s.stale_reads for s in samples),
            errors=sum(s.errors for s in samples),
        )

    def _client(self) -> Http:
        client: Http | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Http(self._base, self._key)
        return client

    def _get(self, signal: Signal, order_id: str) -> int | None:
        try:
            status, body = self._client().request("GET", signal.path(order_id))
            return signal.observe(status, json.loads(body) if status == 200 else None)
        except (http.client.HTTPException, OSError, ValueError, KeyError, TypeError):
            return None

    def _baseline(self, signal: Signal) -> int:
        """The signal's count before the first probe (0 for per-order ones or on an error)."""
        return 0 if signal.per_order else self._get(signal, "") or 0

    def _run(self) -> None:
        writer = Http(self._base, self._key)
        with ThreadPoolExecutor(len(self._signals), thread_name_prefix="live-poll") as pool:
            before = dict(zip(self.samples, pool.map(self._baseline, self._signals), strict=True))
            acknowledged = 0
            for number in range(PROBE_MAX):
                if self._stopping.is_set():
                    break
                started = time.perf_counter()
                order_id = f"PROBE-{self._tag}-{number:04d}"
                acked_at = self._write(writer, order_id, number)
                if acked_at is not None:
                    acknowledged += 1
                    expected = {
                        s.name: 1 if s.per_order else before[s.name] + acknowledged
                        for s in self._signals
                    }
                    watches = [
                        pool.submit(self._watch, s, order_id, expected[s.name], acked_at)
                        for s in self._signals
                    ]
                    for signal, watch in zip(self._signals, watches, strict=True):
                        self.samples[signal.name].append(watch.result())
                if self._stopping.wait(max(0.0, started + self._period_s - time.perf_counter())):
                    break
        writer.close()

    def _write(self, writer: Http, order_id: str, number: int) -> float | None:
        """POST one probe order; the moment of its 2xx, or None (counted) on failure."""
        sku_a, sku_b = PROBE_SKUS
        order = {
            "order_id": order_id,
            "customer_id": f"PROBE-{self._tag}-C{number:04d}",
            "created_at": f"{probe_day().isoformat()}T12:00:00+00:00",
            "currency": self._currency,
            "lines": [
                {"sku": sku_a, "quantity": 1, "unit_price": "10.00"},
                {"sku": sku_b, "quantity": 1, "unit_price": "5.00"},
            ],
        }
        body = json.dumps({"orders": [order]}).encode()
        try:
            status, _ = writer.request("POST", "/api/v1/orders", body)
        except (http.client.HTTPException, OSError):
            status = 0
        if not 200 <= status < 300:
            self.write_errors += 1
            return None
        return time.perf_counter()

    def _watch(self, signal: Signal, order_id: str, expected: int, acked_at: float) -> Sample:
        stale = errors = 0
        for _ in range(int(PROBE_LIMIT_S / PROBE_POLL_S) + 1):
            seen = self._get(signal, order_id)
            now = time.perf_counter()
            if seen is None:
                errors += 1
            elif seen >= expected:
                return Sample((now - acked_at) * 1000, stale, errors)
            else:
                stale += 1
            if now - acked_at > PROBE_LIMIT_S:
                break
            time.sleep(PROBE_POLL_S)
        return Sample(None, stale, errors)


def measure_live(
    server: Server,
    target: Target,
    key: str,
    mode: Mode,
    quiet: list[Row],
    backend: str,
    orders: int,
    log: Any,
) -> LiveRun:
    """The quiet rounds' endpoints again, while a ``Writer`` streams orders and a ``Probe``
    times staleness; the writer starts ``mode.warmup`` s before the first live wrk run."""
    tag = f"{int(time.time())}"
    names = [name for name, _ in (HEALTH, *READS)]
    span = mode.repeat * len(names) * mode.live_duration
    rounds_bound = mode.repeat * len(names) * (mode.live_duration + 130)
    writer = Writer(
        server.base,
        key,
        live_traffic(target, tag),
        mode.live_rate,
        mode.live_batch,
        max_seconds=mode.warmup + rounds_bound + PROBE_LIMIT_S + 60,
    )
    probe = Probe(server.base, key, tag, max(PROBE_MIN_PERIOD_S, span / PROBE_MAX))
    log(
        f"  [{backend} {orders:>9,}] live: writer at {mode.live_rate:g} orders/s "
        f"(batches of {mode.live_batch}), reads at {mode.connections} connections"
    )
    writer.start()
    try:
        time.sleep(mode.warmup)
        probe.start()
        try:
            runs = read_rounds(
                server, key, mode, mode.live_duration, f"{backend} live", orders, log
            )
        finally:
            staleness = probe.stop()
    finally:
        written = writer.stop()
    for error in writer.first_errors:
        log(f"  [{backend} {orders:>9,}] live writer error: {error}")
    log(
        f"  [{backend} {orders:>9,}] live writer: {written.achieved_orders_per_s:,.1f} of "
        f"{written.target_orders_per_s:g} orders/s, {written.errors} errors; "
        f"probe write errors {probe.write_errors}"
    )
    health = median_run(runs["healthz"])
    by_name = {row.endpoint: row.run for row in quiet}
    endpoints = []
    for name in names:
        live = health if name == "healthz" else median_run(runs[name])
        endpoints.append(LiveEndpoint(name, by_name[name], live, live.p95_ms / health.p95_ms))
    return LiveRun(
        backend, orders, mode.connections, written, endpoints, staleness, probe.write_errors
    )


# ---- report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def _f(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def render(report: Report) -> str:
    out = [f"mode: {report.mode}; machine: {json.dumps(report.machine)}", ""]
    out += [
        "| backend | orders | endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | "
        "÷ healthz req/s | p95 ÷ healthz p95 | first (uncached) ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        r, h = row.run, row.health
        cold = _f(row.cold_ms, 1) if row.cold_ms is not None else "-"
        out.append(
            f"| {row.backend} | {row.orders:,} | {row.endpoint} | {_f(r.rps, 0)} | "
            f"{_f(r.p50_ms)} | {_f(r.p95_ms)} | {_f(r.p99_ms)} | {r.errors + r.non_2xx} | "
            f"{_f(r.rps / h.rps)} | {_f(r.p95_ms / h.p95_ms)} | {cold} |"
        )
    curve = _cost_curve(report)
    if curve:
        out += [
            "",
            "Cost curve (p95 at the largest size ÷ p95 at the smallest):",
            "",
            "| backend | endpoint | smallest | p95 ms | largest | p95 ms | ratio |",
            "|---|---|---:|---:|---:|---:|---:|",
            *curve,
        ]
    if report.ingest:
        out += [
            "",
            f"Ingest ({INGEST_BATCH} orders per request, {INGEST_CONNECTIONS} connections):",
            "",
            "| backend | orders in db | API orders/s | raw Core insert orders/s | API ÷ raw | "
            "errors | rollups exact |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for ing in report.ingest:
            out.append(
                f"| {ing.backend} | {ing.orders:,} | {_f(ing.api_orders_per_s, 0)} | "
                f"{_f(ing.raw_orders_per_s, 0)} | "
                f"{_f(ing.api_orders_per_s / ing.raw_orders_per_s)} | {ing.errors} | "
                f"{'yes' if ing.rollups_exact else 'NO'} |"
            )
    out += render_live(report)
    if report.c1000:
        out += [
            "",
            "1000 concurrent keep-alive connections:",
            "",
            "| backend | orders | endpoint | seconds | req/s | p50 ms | p99 ms | socket errors | "
            "non-2xx |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report.c1000:
            r = row.run
            out.append(
                f"| {row.backend} | {row.orders:,} | {row.endpoint} | "
                f"{_f(r.requests / r.rps, 0)} | {_f(r.rps, 0)} | {_f(r.p50_ms)} | "
                f"{_f(r.p99_ms)} | {r.errors} | {r.non_2xx} |"
            )
    out += [
        "",
        "Seeding and server memory (RSS after the read runs, master + 4 workers):",
        "",
        "| backend | orders | seed s | seed orders/s | server RSS MiB | per worker MiB |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for size in report.sizes:
        seed_s = _f(size.seed_s, 1) if size.seed_s is not None else "reused"
        rate = _f(size.seed_orders_per_s, 0) if size.seed_orders_per_s is not None else "-"
        workers = ", ".join(_f(w, 0) for w in size.worker_rss_mib)
        out.append(
            f"| {size.backend} | {size.orders:,} | {seed_s} | {rate} | {_f(size.rss_mib, 0)} | "
            f"{workers} |"
        )
    return "\n".join(out)


def _opt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else _f(value, digits)


def render_live(report: Report) -> list[str]:
    """The live phase: reads quiet vs live, the writer (with the ingest phase's API ÷ raw
    next to it) and the staleness per signal."""
    if not report.live:
        return []
    out = [
        "",
        "Live: the same reads without (quiet) and with the writer streaming orders (live), on "
        "the same server:",
        "",
        "| backend | orders | endpoint | quiet req/s | live req/s | quiet p50 ms | live p50 ms | "
        "quiet p95 ms | live p95 ms | quiet p99 ms | live p99 ms | live errors | "
        "live p95 ÷ healthz live p95 |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report.live:
        for e in run.endpoints:
            q, v = e.quiet, e.live
            out.append(
                f"| {run.backend} | {run.orders:,} | {e.endpoint} | {_f(q.rps, 0)} | "
                f"{_f(v.rps, 0)} | {_f(q.p50_ms)} | {_f(v.p50_ms)} | {_f(q.p95_ms)} | "
                f"{_f(v.p95_ms)} | {_f(q.p99_ms)} | {_f(v.p99_ms)} | {v.errors + v.non_2xx} | "
                f"{_f(e.live_p95_vs_healthz)} |"
            )
    ingest = {row.backend: row for row in report.ingest}
    out += [
        "",
        "Live writer (POST /api/v1/orders) and, next to it, the ingest phase (batches of "
        f"{INGEST_BATCH}, {INGEST_CONNECTIONS} connections, largest size) against raw inserts:",
        "",
        "| backend | orders | target orders/s | achieved orders/s | orders written | "
        "new customers | dated today | write p50 ms | write p95 ms | write p99 ms | "
        "max lag ms | write errors | ingest API orders/s | raw insert orders/s | API ÷ raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report.live:
        w, ing = run.writer, ingest.get(run.backend)
        api = _f(ing.api_orders_per_s, 0) if ing else "-"
        raw = _f(ing.raw_orders_per_s, 0) if ing else "-"
        ratio = _f(ing.api_orders_per_s / ing.raw_orders_per_s) if ing else "-"
        out.append(
            f"| {run.backend} | {run.orders:,} | {_f(w.target_orders_per_s, 0)} | "
            f"{_f(w.achieved_orders_per_s, 1)} | {w.orders:,} | {w.new_customers:,} | "
            f"{w.today_orders:,} | {_f(w.p50_ms)} | {_f(w.p95_ms)} | {_f(w.p99_ms)} | "
            f"{_f(w.max_lag_ms, 0)} | {w.errors} | {api} | {raw} | {ratio} |"
        )
    out += [
        "",
        "Staleness under the live load: ms from a probe write's 2xx to the first response "
        f"reflecting it (first read at once, then every {PROBE_POLL_S * 1000:.0f} ms; stale "
        "reads: answers requested after the 2xx that did not reflect it yet):",
        "",
        "| backend | orders | signal | read | probes | seen | p50 ms | p99 ms | max ms | "
        "stale reads | errors |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report.live:
        for st in run.staleness:
            out.append(
                f"| {run.backend} | {run.orders:,} | {st.signal} | `{st.read}` | {st.probes} | "
                f"{st.seen} | {_opt(st.p50_ms)} | {_opt(st.p99_ms)} | {_opt(st.max_ms)} | "
                f"{st.stale_reads} | {st.errors} |"
            )
    return out


def _cost_curve(report: Report) -> list[str]:
    lines = []
    for backend in dict.fromkeys(r.backend for r in report.rows):
        sizes = sorted({r.orders for r in report.rows if r.backend == backend})
        if len(sizes) < 2:
            continue
        by = {(r.orders, r.endpoint): r.run for r in report.rows if r.backend == backend}
        for name, _ in (HEALTH, *READS):
            small, large = by[(sizes[0], name)], by[(sizes[-1], name)]
            lines.append(
                f"| {backend} | {name} | {sizes[0]:,} | {_f(small.p95_ms)} | {sizes[-1]:,} | "
                f"{_f(large.p95_ms)} | {_f(large.p95_ms / small.p95_ms)} |"
            )
    return lines


# ---- main -----------------------------------------------------------------------------------


def _number(kind: type[int] | type[float], low: float, high: float | None = None) -> Any:
    """An argparse type: a ``kind`` from ``low`` to ``high`` (inclusive), else a message that
    names the value (argparse adds the flag)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


def _sizes(text: str) -> tuple[int, ...]:
    parts = [part.strip().replace("_", "") for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected positive order counts like 10000,100000, got {text!r}"
        )
    return tuple(int(part) for part in parts)


def _backends(text: str) -> list[str]:
    chosen = [b.strip() for b in text.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backends {unknown or [text]}; choose from {','.join(BACKENDS)}"
        )
    return chosen


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument(
        "--backends",
        type=_backends,
        help="Comma-separated subset of sqlite,postgresql,mysql (mysql: MariaDB or MySQL at "
        "BENCH_MYSQL_URL). Defaults to the mode's: sqlite in smoke mode, all three otherwise.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="Comma-separated order counts for every backend, overriding the mode's "
        "(e.g. 10000,100000).",
    )
    parser.add_argument("--duration", type=_number(float, 1), help="Seconds per wrk run.")
    parser.add_argument("--repeat", type=_number(int, 1), help="Rounds; the table shows medians.")
    parser.add_argument(
        "--connections", type=_number(int, 1), help="wrk connections for the read runs."
    )
    parser.add_argument(
        "--c1000-duration", type=_number(float, 0), help="Seconds of the 1000-connection run."
    )
    parser.add_argument(
        "--live-rate",
        type=_number(float, 0, 10_000),
        help="Orders/s the live writer streams while the reads run again; 0 skips the live "
        "phase. Defaults to 200 (smoke mode: 20).",
    )
    parser.add_argument(
        "--live-batch",
        type=_number(int, 1, 1000),
        default=10,
        help="Orders per live write request (default 10: at 200 orders/s one every 50 ms).",
    )
    parser.add_argument(
        "--live-duration",
        type=_number(float, 1),
        help="Seconds per wrk run in the live phase. Defaults to --duration (smoke mode: 1).",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / ".bench-data",
        help="Seeded SQLite files, markers and logs; seeded databases are reused across runs.",
    )
    parser.add_argument("--fresh", action="store_true", help="Re-seed even if a seeded db exists.")
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    return parser.parse_args(argv)


def mode_from_args(args: argparse.Namespace) -> Mode:
    """The mode's settings with the command line's overrides applied."""
    base = MODES[args.mode]
    sizes = dict(base.sizes)
    if args.backends:
        sizes = {b: sizes.get(b, base.sizes.get("sqlite", ())) for b in args.backends}
    if args.sizes:
        sizes = {b: args.sizes for b in sizes}
    duration = args.duration or base.duration
    return Mode(
        sizes,
        duration,
        min(base.warmup, args.duration or base.warmup),
        args.repeat or base.repeat,
        args.connections or base.connections,
        base.c1000_duration if args.c1000_duration is None else args.c1000_duration,
        live_duration=args.live_duration or (args.duration or base.live_duration),
        live_rate=base.live_rate if args.live_rate is None else args.live_rate,
        live_batch=args.live_batch,
    )


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_binary()
    mode = mode_from_args(args)
    for backend in mode.sizes:
        if backend != "sqlite":
            check_server(backend)
    # 1000 connections need more descriptors than the usual soft limit of 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / ".gitignore").write_text("*\n")
    log_file = data_dir / "gunicorn.log"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = Report(mode=args.mode, machine=machine())
    started = time.monotonic()
    for backend, backend_sizes in mode.sizes.items():
        for orders in backend_sizes:
            if args.fresh:
                (data_dir / f"{backend}-{orders}.seeded").unlink(missing_ok=True)
            log(f"[{backend} {orders:,}] preparing ...")
            target, seed_s = prepare(backend, orders, data_dir)
            if seed_s is not None:
                log(f"[{backend} {orders:,}] seeded in {seed_s:.1f} s")
            largest = orders == backend_sizes[-1]
            measure_size(report, target, orders, seed_s, mode, largest, data_dir, log_file, log)
            if largest:
                ingest = measure_ingest(target, mode, data_dir, log_file, log)
                ingest.orders = orders
                report.ingest.append(ingest)
    log(f"done in {time.monotonic() - started:.0f} s")
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str))
    return 0


def measure_size(
    report: Report,
    target: Target,
    orders: int,
    seed_s: float | None,
    mode: Mode,
    largest: bool,
    data_dir: Path,
    log_file: Path,
    log: Any,
) -> None:
    """One backend and size on one server: the quiet read rounds, memory, the 1000-connection
    run (largest size only) and the live phase, each added to ``report``."""
    backend = target.backend
    live = mode.live_rate > 0
    with serving_copy(target, live, data_dir, log) as served:
        key = api_key(served)
        with serve(served, log_file) as server:
            rows = measure_reads(server, key, mode, backend, orders, log)
            report.rows += rows
            total, workers = server.rss_mib()
            rate = orders / seed_s if seed_s else None
            report.sizes.append(SizeInfo(backend, orders, seed_s, rate, total, workers))
            if mode.c1000_duration and largest:
                log(f"[{backend} {orders:,}] 1000 connections for {mode.c1000_duration:.0f} s")
                run = run_wrk(
                    server.base + READS[0][1],
                    script="read.lua",
                    duration=mode.c1000_duration,
                    connections=1000,
                    env={"BENCH_API_KEY": key},
                    timeout_s=30,
                )
                report.c1000.append(Row(backend, orders, READS[0][0], run, run))
            if live:
                report.live.append(
                    measure_live(server, served, key, mode, rows, backend, orders, log)
                )


if __name__ == "__main__":
    sys.exit(main())
