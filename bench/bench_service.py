"""Benchmark the analytics service as it runs in the container: gunicorn with the image's config,
driven by wrk over loopback.

For each backend (SQLite, PostgreSQL, MariaDB/MySQL) and data size it seeds a database with the
demo plan (``ecommerce_analytics.seed``): by default in bulk (``bench/bulk_seed.py``: raw rows
loaded, rollups rebuilt from them and checked against them), with ``--seed api`` through the
service's own ingest path; it serves a copy of it with
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
import json
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

# The modules next to this script are imported as the ``bench`` package from the repository
# root, as tests and mypy import them; run as a script, only bench/ itself is on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import measure_ingest
from bench.live import measure_live
from bench.reads import Row, measure_reads
from bench.report import Report, SizeInfo, machine, render
from bench.server import serve
from bench.targets import (
    BACKENDS,
    SEED_PATHS,
    Target,
    api_key,
    check_server,
    prepare,
    serving_copy,
)
from bench.workload import READS, Mode
from bench.wrk_runner import run_wrk, wrk_binary

ROOT = Path(__file__).resolve().parent.parent


MODES = {
    # Smoke: live reads of 1 s per endpoint (not 2) keep the whole run near a minute.
    "smoke": Mode({"sqlite": (200,)}, 2, 0.5, 1, 16, 0, live_duration=1, live_rate=20),
    # The same sizes on every backend keep the tables comparable (MariaDB seeds 100k in ~10 s in
    # bulk, ~25 s with --seed api).
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
    parser.add_argument(
        "--seed",
        choices=SEED_PATHS,
        default="bulk",
        help="How databases are seeded: bulk (default; raw rows loaded with COPY / LOAD DATA, "
        "rollups rebuilt from them; minutes at 10M) or api (the ingest path, batch by batch, "
        "as POST /api/v1/orders stores them; ~an hour at 10M). Same data either way; a "
        "database already seeded is reused whichever path seeded it (--fresh re-seeds).",
    )
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
            target, seed_s, seeded_by = prepare(backend, orders, data_dir, seed=args.seed)
            if seed_s is not None:
                log(f"[{backend} {orders:,}] seeded ({seeded_by}) in {seed_s:.1f} s")
            largest = orders == backend_sizes[-1]
            seeding = (seed_s, seeded_by)
            measure_size(report, target, orders, seeding, mode, largest, data_dir, log_file, log)
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
    seeding: tuple[float | None, str],
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
            seed_s, seeded_by = seeding
            rate = orders / seed_s if seed_s else None
            report.sizes.append(
                SizeInfo(backend, orders, seed_s, rate, total, workers, seeded_by=seeded_by)
            )
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
