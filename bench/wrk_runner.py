"""Running wrk with one of the ``bench/wrk/*.lua`` scripts against one URL: ``run_wrk`` returns
a ``Run`` (req/s, latency percentiles, errors); ``median_run`` sums up repeated runs.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"


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
