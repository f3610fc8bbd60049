"""Benchmark the analytics service as it runs in the container: gunicorn with the image's config,
driven by wrk over loopback.

For each backend (SQLite, PostgreSQL) and data size it seeds a database through the service's own
ingest path (``ecommerce_analytics.seed``), serves it with
``gunicorn -c python:ecommerce_analytics.gunicorn_conf "ecommerce_analytics:create_app()"``, then
runs wrk against ``/healthz`` (the framework's ceiling on this machine) and every read endpoint,
interleaved, ``--repeat`` times, and reports medians. Ingest is measured on a clone of the seeded
database: orders/s through ``POST /api/v1/orders`` versus raw SQLAlchemy Core bulk inserts of the
same rows (the storage ceiling), and the rollups are checked against the raw rows afterwards.

    .venv/bin/python bench/bench_service.py --mode smoke   # seconds: 200 orders, CI
    .venv/bin/python bench/bench_service.py --mode quick   # a few minutes
    .venv/bin/python bench/bench_service.py --mode full    # 10k, 100k, 1M orders; long

Needs ``wrk`` (``apt-get install -y wrk``) and, for PostgreSQL, a server at ``BENCH_POSTGRES_URL``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``; databases ``bench_analytics_*``
are created there). Installs nothing. Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import queue
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
VENV_BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
INGEST_BATCH = 100
INGEST_CONNECTIONS = 8
# Seeding processes per backend: PostgreSQL takes concurrent writers (one per core here);
# SQLite has one writer at a time, so a second process would only wait for the lock.
SEED_JOBS = {"sqlite": 1, "postgresql": 2}
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


MODES = {
    "smoke": Mode({"sqlite": (200,)}, 2, 0.5, 1, 16, 0),
    "quick": Mode(
        {"sqlite": (10_000, 100_000), "postgresql": (10_000, 100_000)}, 3, 0.5, 1, 64, 10
    ),
    "full": Mode(
        {
            "sqlite": (10_000, 100_000, 1_000_000),
            "postgresql": (10_000, 100_000, 1_000_000, 10_000_000),
        },
        10,
        2,
        3,
        64,
        60,
    ),
}


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
class Report:
    mode: str
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ingest: list[IngestRow] = field(default_factory=list)
    sizes: list[SizeInfo] = field(default_factory=list)
    c1000: list[Row] = field(default_factory=list)


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


def _pg_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def target_for(backend: str, name: str, data_dir: Path) -> Target:
    if backend == "sqlite":
        return Target(backend, name, f"sqlite:///{data_dir / (name + '.sqlite3')}")
    from sqlalchemy.engine import make_url

    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    return Target(backend, name, url)


def drop(target: Target, data_dir: Path) -> None:
    if target.backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"{target.name}.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        _pg_admin(f"DROP DATABASE IF EXISTS {target.name} WITH (FORCE)")


def create_empty(target: Target, data_dir: Path) -> None:
    drop(target, data_dir)
    if target.backend == "postgresql":
        _pg_admin(f"CREATE DATABASE {target.name}")


def clone(source: Target, name: str, data_dir: Path) -> Target:
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
    else:
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE {source.name}")
    return copy


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
    """PostgreSQL: planner statistics for the freshly written tables, as autovacuum would
    gather on a long-lived database (without them the first minutes plan like an empty one)."""
    if database.engine.dialect.name != "postgresql":
        return
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


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
    runs: dict[str, list[Run]] = {name: [] for name, _ in (HEALTH, *READS)}
    for round_number in range(mode.repeat):
        for name, path in (HEALTH, *READS):
            run = run_wrk(
                server.base + path,
                script="read.lua",
                duration=mode.duration,
                connections=mode.connections,
                env={} if name == "healthz" else env,
            )
            runs[name].append(run)
            log(
                f"  [{backend} {orders:>9,} round {round_number + 1}] {name:<17} "
                f"{run.rps:9.0f} req/s  p95 {run.p95_ms:7.2f} ms  errors {run.errors + run.non_2xx}"
            )
    health = median_run(runs["healthz"])
    rows = [Row(backend, orders, "healthz", health, health)]
    rows += [
        Row(backend, orders, name, median_run(runs[name]), health, cold[name]) for name, _ in READS
    ]
    return rows


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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument(
        "--backends", help="Comma-separated subset of sqlite,postgresql. Defaults to the mode's."
    )
    parser.add_argument(
        "--sizes", help="Comma-separated order counts, overriding the mode's (e.g. 10000,100000)."
    )
    parser.add_argument("--duration", type=float, help="Seconds per wrk run.")
    parser.add_argument("--repeat", type=int, help="Rounds; the table shows medians.")
    parser.add_argument("--connections", type=int, help="wrk connections for the read runs.")
    parser.add_argument("--c1000-duration", type=float, help="Seconds of the 1000-connection run.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / ".bench-data",
        help="Seeded SQLite files, markers and logs; seeded databases are reused across runs.",
    )
    parser.add_argument("--fresh", action="store_true", help="Re-seed even if a seeded db exists.")
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_binary()
    base = MODES[args.mode]
    sizes = dict(base.sizes)
    if args.backends:
        chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
        unknown = set(chosen) - {"sqlite", "postgresql"}
        if unknown:
            sys.exit(f"bench_service: unknown backends {sorted(unknown)}")
        sizes = {b: sizes.get(b, base.sizes.get("sqlite", ())) for b in chosen}
    if args.sizes:
        wanted = tuple(int(s) for s in args.sizes.split(","))
        sizes = {b: wanted for b in sizes}
    mode = Mode(
        sizes,
        args.duration or base.duration,
        min(base.warmup, args.duration or base.warmup),
        args.repeat or base.repeat,
        args.connections or base.connections,
        base.c1000_duration if args.c1000_duration is None else args.c1000_duration,
    )
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
            key = api_key(target)
            with serve(target, log_file) as server:
                report.rows += measure_reads(server, key, mode, backend, orders, log)
                total, workers = server.rss_mib()
                report.sizes.append(
                    SizeInfo(
                        backend,
                        orders,
                        seed_s,
                        orders / seed_s if seed_s else None,
                        total,
                        workers,
                    )
                )
                if mode.c1000_duration and orders == backend_sizes[-1]:
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
            if orders == backend_sizes[-1]:
                ingest = measure_ingest(target, mode, data_dir, log_file, log)
                ingest.orders = orders
                report.ingest.append(ingest)
    log(f"done in {time.monotonic() - started:.0f} s")
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
