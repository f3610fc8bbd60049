"""The published CDNOW results, reproduced through the service's own path: the sample's raw
purchases posted as orders, histories derived from the stored per-day rollup with the store's
day boundaries, ``flask clv fit`` with the papers' 39-week calibration, the fit read back from
``GET /api/v1/models/clv``.

References: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way" (BG/NBD,
Table 1's parameters and Figure 2's cumulative tracking) and "RFM and CLV: Using Iso-Value
Curves" (Gamma-Gamma on the 946 customers with repeat purchases).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api

DATA = Path(__file__).parent / "data" / "cdnow_sample.txt"
# The service takes orders from 2000 on, so the sample is moved 28 years later: 2025-2026 has
# the same weekdays as 1997-1998 and, like it, no 29 February, so every gap in days is kept.
SHIFT_YEARS = 28
# Calibration 1997-01-01..1997-09-30 (39 weeks), holdout to the data's end, 1998-06-30.
END = date(1998 + SHIFT_YEARS, 6, 30)
CALIBRATION_END = date(1997 + SHIFT_YEARS, 9, 30)
HOLDOUT_DAYS = (END - CALIBRATION_END).days  # 273: weeks 40-78
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def cdnow_orders() -> list[dict[str, Any]]:
    """One order per line of the file: its dollars as one line's price (quantity 1: the spend
    is what the models read; the CD count is not needed)."""
    orders = []
    for number, line in enumerate(DATA.read_text().splitlines()):
        _master, customer, day, _cds, dollars = line.split()
        orders.append(
            {
                "order_id": f"CDNOW-{number}",
                "customer_id": f"C{customer}",
                "created_at": f"{int(day[:4]) + SHIFT_YEARS}-{day[4:6]}-{day[6:]}T12:00:00+00:00",
                "currency": "USD",
                "lines": [{"sku": "CD", "quantity": 1, "unit_price": dollars}],
            }
        )
    return orders


def fit_cdnow(app: Any, api: Api) -> dict[str, Any]:
    orders = cdnow_orders()
    for i in range(0, len(orders), 1000):
        response = api.post("/api/v1/orders", {"orders": orders[i : i + 1000]})
        assert response.status_code == 201, response.json
    args = ["clv", "fit", "--as-of", END.isoformat(), "--holdout-days", str(HOLDOUT_DAYS)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    response = api.get("/api/v1/models/clv")
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def test_cdnow_calibration_fit_reproduces_published_parameters(app: Any, api: Api) -> None:
    model = fit_cdnow(app, api)
    holdout = model["holdout"]
    assert holdout["calibration_end"] == CALIBRATION_END.isoformat()
    purchases, spend = holdout["purchases"], holdout["spend"]
    assert purchases["customers"] == 2357
    assert spend["customers"] == 946
    for name, published in PUBLISHED.items():
        assert purchases[name] == pytest.approx(published, rel=0.01), name
    for name, published in PUBLISHED_SPEND.items():
        assert spend[name] == pytest.approx(published, rel=0.01), name
    # The paper's maximised log-likelihood (Table 1: -9,582.4).
    assert purchases["log_likelihood"] == pytest.approx(-9582.4, abs=0.5)


def test_cdnow_forecast_tracks_weeks_40_to_78(app: Any, api: Api) -> None:
    """Figure 2 of the BG/NBD paper: cumulative repeat purchases of the cohort, expected from
    each customer's first purchase day, against the actual ones, through week 78; the paper's
    curve stays within a few per cent of the actual one. The holdout period alone (weeks
    40-78, forecast from each customer's calibration history) is under-forecast by more: 12%
    here (1,653 expected against 1,882), the model's known shortfall on this sample, so it is
    held to 15%: a derivation error (a day boundary, same-day orders counted twice, T from the
    wrong day) moves it by far more."""
    holdout = fit_cdnow(app, api)["holdout"]
    cumulative = holdout["cumulative_actual_repeat_orders"]
    assert holdout["cumulative_expected_repeat_orders"] == pytest.approx(cumulative, rel=0.05)
    actual = holdout["actual_repeat_orders"]
    assert actual == 1882  # repeat purchase days in the data, weeks 40-78
    assert holdout["expected_repeat_orders"] == pytest.approx(actual, rel=0.15)
