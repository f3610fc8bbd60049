"""The quiet read phase: one first (uncached) request per endpoint, a warm-up, then rounds of
wrk over ``/healthz`` and every read endpoint; ``Row`` holds one endpoint's medians.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.server import Server
from bench.workload import HEALTH, READS, Mode
from bench.wrk_runner import Run, median_run, run_wrk


@dataclass
class Row:
    backend: str
    orders: int
    endpoint: str
    run: Run
    health: Run
    cold_ms: float | None = None


def first_answer(url: str, key: str) -> tuple[int, float]:
    """The status of one request and its milliseconds; an error answer is returned, not
    raised (an uncached computation past the statement timeout answers 503)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            error.read()
        status = error.code
    return status, (time.perf_counter() - started) * 1000


def measure_reads(
    server: Server, key: str, mode: Mode, backend: str, orders: int, log: Any
) -> list[Row]:
    """Per round: /healthz, then every read endpoint; medians over ``mode.repeat`` rounds."""
    env = {"BENCH_API_KEY": key}
    cold: dict[str, float | None] = {}
    for name, path in READS:
        status, ms = first_answer(server.base + path, key)
        cold[name] = ms if status == 200 else None
        if status != 200:
            # Reported (and shown as "-"), not fatal: the rounds still measure the endpoint.
            log(f"  [{backend} {orders:,}] first {name}: HTTP {status} after {ms:,.0f} ms")
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
