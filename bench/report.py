"""The report: ``Report`` collects every phase's results and ``render`` prints them as Markdown
tables (reads, cost curve, ingest, live, 1000 connections, seeding and memory); ``machine``
describes the host.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ingest import INGEST_BATCH, INGEST_CONNECTIONS, IngestRow
from bench.live import LiveRun
from bench.probe import PROBE_POLL_S
from bench.reads import Row
from bench.workload import HEALTH, READS


@dataclass
class SizeInfo:
    backend: str
    orders: int
    seed_s: float | None
    seed_orders_per_s: float | None
    rss_mib: float
    worker_rss_mib: list[float] = field(default_factory=list)
    # How the database was seeded: "bulk" (bench.bulk_seed) or "api" (the ingest path).
    seeded_by: str = "api"


@dataclass
class Report:
    mode: str
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ingest: list[IngestRow] = field(default_factory=list)
    sizes: list[SizeInfo] = field(default_factory=list)
    c1000: list[Row] = field(default_factory=list)
    live: list[LiveRun] = field(default_factory=list)


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
        "| backend | orders | seed s | seed orders/s | server RSS MiB | per worker MiB "
        "| seeded by |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for size in report.sizes:
        seed_s = _f(size.seed_s, 1) if size.seed_s is not None else "reused"
        rate = _f(size.seed_orders_per_s, 0) if size.seed_orders_per_s is not None else "-"
        workers = ", ".join(_f(w, 0) for w in size.worker_rss_mib)
        out.append(
            f"| {size.backend} | {size.orders:,} | {seed_s} | {rate} | {_f(size.rss_mib, 0)} | "
            f"{workers} | {size.seeded_by} |"
        )
    return "\n".join(out)


def _opt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else _f(value, digits)


def _age(seconds: float | None) -> str:
    """A served ``X-Data-Age`` in s, ``n/a`` when no answer carried one."""
    return "n/a" if seconds is None else _f(seconds, 3)


def render_live(report: Report) -> list[str]:
    """The live phase: reads quiet vs live, the writer (with the ingest phase's API ÷ raw
    next to it) and the staleness and served data age per signal."""
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
        "reads: answers requested after the 2xx that did not reflect it yet; data age: the "
        "`X-Data-Age` every probe read was served with, n/a when none carried one):",
        "",
        "| backend | orders | signal | read | probes | seen | p50 ms | p99 ms | max ms | "
        "stale reads | errors | data age p99 s | data age max s |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in report.live:
        for st in run.staleness:
            out.append(
                f"| {run.backend} | {run.orders:,} | {st.signal} | `{st.read}` | {st.probes} | "
                f"{st.seen} | {_opt(st.p50_ms)} | {_opt(st.p99_ms)} | {_opt(st.max_ms)} | "
                f"{st.stale_reads} | {st.errors} | {_age(st.age_p99_s)} | {_age(st.age_max_s)} |"
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
