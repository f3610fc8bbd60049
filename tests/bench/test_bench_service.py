"""The service benchmark's smoke mode: the harness runs end to end and every endpoint answers,
quiet and while the live writer streams orders, and the staleness probe reports every signal.

Runs ``bench/bench_service.py --mode smoke`` (200 orders on SQLite, live writer at 20 orders/s,
about a minute) when ``wrk`` is installed; skips with the reason otherwise.
"""

from __future__ import annotations

import json
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
# The staleness probe's signals: one order lookup and an aggregate per read family.
SIGNALS = {
    "order",
    "sales: day's orders",
    "products: SKU's orders",
    "returning-rate: customers",
    "cohorts: cohort size",
    "bought-together: pair's orders",
}
LIVE_RATE = 20  # smoke mode's orders/s


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


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
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--mode",
            "smoke",
            "--data-dir",
            str(tmp_path),
            "--json",
            str(report),
        ],
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

    live = _table(done.stdout, "| backend | orders | endpoint | quiet req/s |")
    assert {row[2] for row in live} == ENDPOINTS
    for row in live:
        assert _number(row[3]) > 0 and _number(row[4]) > 0, row  # quiet and live req/s
        assert _number(row[8]) > 0, row  # live p95
        assert row[11] == "0", row  # live errors
        assert _number(row[12]) > 0, row  # live p95 ÷ healthz live p95
    assert next(row for row in live if row[2] == "healthz")[12] == "1.00"

    writer = _table(done.stdout, "| backend | orders | target orders/s |")
    assert len(writer) == 1
    assert _number(writer[0][2]) == LIVE_RATE
    # The writer held its rate (a loaded CI machine may lag a little) without errors.
    assert _number(writer[0][3]) >= 0.8 * LIVE_RATE, writer[0]
    assert _number(writer[0][4]) > 0  # orders written
    assert writer[0][11] == "0"  # write errors
    assert _number(writer[0][14]) > 0  # the ingest phase's API ÷ raw, next to it

    staleness = _table(done.stdout, "| backend | orders | signal |")
    assert {row[2] for row in staleness} == SIGNALS
    for row in staleness:
        assert int(row[4]) > 0, row  # probes
        assert row[5] == row[4], row  # every probe write was seen
        assert _number(row[6]) >= 0 and _number(row[7]) >= _number(row[6]), row  # p50, p99
        assert row[10] == "0", row  # errors
        # The X-Data-Age the probe's reads were served with: n/a without the header.
        if row[11] != "n/a":
            assert 0 <= _number(row[11]) <= _number(row[12]), row  # p99 ≤ max

    data = json.loads(report.read_text())
    (run,) = data["live"]
    assert run["writer"]["achieved_orders_per_s"] > 0
    assert {e["endpoint"] for e in run["endpoints"]} == ENDPOINTS
    assert all(s["p50_ms"] is not None for s in run["staleness"])
    assert all("age_p99_s" in s and "age_max_s" in s for s in run["staleness"])


def test_a_first_answer_that_fails_is_reported_not_fatal():
    """An uncached computation past the statement timeout answers 503: the benchmark records
    the status (the report shows "-") and goes on measuring, instead of stopping the run."""
    import http.server
    import threading

    from bench.reads import first_answer

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503 if self.path == "/slow" else 200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert first_answer(base + "/slow", "key")[0] == 503
        assert first_answer(base + "/fast", "key")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
