"""The ingest phase, on clones of the seeded database: orders/s through ``POST /api/v1/orders``
(wrk with ``ingest.lua``) against raw SQLAlchemy Core inserts of the same rows (the storage
ceiling), and whether the rollups equal the raw rows afterwards.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.server import serve
from bench.targets import Target, api_key, clone, drop, rollups_exact
from bench.workload import Mode
from bench.wrk_runner import Run, median_run, run_wrk

INGEST_BATCH = 100
INGEST_CONNECTIONS = 8


@dataclass
class IngestRow:
    backend: str
    orders: int
    api_orders_per_s: float
    raw_orders_per_s: float
    errors: int
    rollups_exact: bool


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
