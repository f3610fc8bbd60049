"""The service benchmark's smoke mode: the harness runs end to end and every endpoint answers.

Runs ``bench/bench_service.py --mode smoke`` (200 orders on SQLite, about a minute) when ``wrk``
is installed; skips with the reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_service.py"
ENDPOINTS = {
    "healthz",
    "sales",
    "sales_daily",
    "products",
    "customers",
    "ltv_distribution",
    "returning_rate",
    "cohorts",
    "rfm",
    "bought_together",
    "churn_risk",
    "order",
    "openapi",
}


def _table(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)
def test_smoke_run_reports_every_endpoint_without_errors(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--mode", "smoke", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    reads = _table(done.stdout, "| backend | orders | endpoint |")
    assert {row[2] for row in reads} == ENDPOINTS
    for row in reads:
        assert int(row[3].replace(",", "")) > 0, row  # req/s
        assert row[7] == "0", row  # errors: socket errors + non-2xx
    ingest = _table(done.stdout, "| backend | orders in db | API orders/s |")
    assert len(ingest) == 1
    assert ingest[0][5] == "0"
    assert ingest[0][6] == "yes"  # rollups equal the raw rows after the ingest run
