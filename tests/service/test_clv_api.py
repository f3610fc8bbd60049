"""Predicted lifetime value as a merchant reads it: nothing is fitted on a request, the fit's
predictions page like the other customer lists, and bad input is refused by name."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api
from .test_clv_cdnow import cdnow_orders

ENDPOINTS = ("/api/v1/models/clv", "/api/v1/customers/clv", "/api/v1/customers/clv/forecast")


def post_cdnow(api: Api, n: int = 1000) -> None:
    response = api.post("/api/v1/orders", {"orders": cdnow_orders()[:n]})
    assert response.status_code == 201, response.json


def fit(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["clv", "fit", *args])


def all_pages(api: Api, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        body = api.get("/api/v1/customers/clv", offset=offset, limit=37, **params).json
        rows.extend(body["data"])
        offset = body["pagination"]["next_offset"]
    return rows


@pytest.mark.parametrize("url", ENDPOINTS)
def test_before_any_fit_the_endpoints_say_to_run_the_fit(api: Api, url: str) -> None:
    post_cdnow(api, 50)
    response = api.get(url)
    assert response.status_code == 409
    assert response.json["type"].endswith("/clv-model-missing")
    assert "flask clv fit" in response.json["detail"]


def test_the_dashboard_page_says_whether_a_model_is_fitted(app: Any, api: Api) -> None:
    # The page asks the prediction endpoints only when told "yes": their 409 before the first
    # fit would be a console error in every browser (tests/browser checks the panel).
    post_cdnow(api, 50)
    assert 'data-clv-fitted="no"' in app.test_client().get("/dashboard/").text
    assert fit(app).exit_code == 0
    assert 'data-clv-fitted="yes"' in app.test_client().get("/dashboard/").text


def test_the_dashboard_page_reads_the_database_only_until_a_model_is_fitted(
    app: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page is public and not rate-limited: once a fit exists (fits are only added), its
    # loads must not take a database connection each.
    import ecommerce_analytics.dashboard.views as views
    from ecommerce_analytics.queries.clv import has_model as real

    probes: list[bool] = []

    def counted(session: Any) -> bool:
        probes.append(real(session))
        return probes[-1]

    monkeypatch.setattr(views, "has_model", counted)
    post_cdnow(api, 50)
    client = app.test_client()
    assert 'data-clv-fitted="no"' in client.get("/dashboard/").text
    assert 'data-clv-fitted="no"' in client.get("/dashboard/").text
    assert probes == [False, False]
    assert fit(app).exit_code == 0
    for _ in range(3):
        assert 'data-clv-fitted="yes"' in client.get("/dashboard/").text
    assert probes == [False, False, True]


def test_the_dashboard_page_renders_when_its_database_does_not_answer(
    make_app: Any, tmp_path: Path
) -> None:
    # "unknown": the page asks the API, whose answer (503, 409 or the model) it shows.
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'absent' / 'analytics.sqlite3'}")
    page = app.test_client().get("/dashboard/")
    assert page.status_code == 200
    assert 'data-clv-fitted="unknown"' in page.text


def test_predictions_page_through_every_customer_in_each_sort_order(app: Any, api: Api) -> None:
    post_cdnow(api)
    assert fit(app).exit_code == 0
    model = api.get("/api/v1/models/clv").json
    for key in ("predicted_value", "expected_orders", "p_alive", "expected_spend"):
        rows = all_pages(api, sort=key)
        assert len(rows) == model["purchases"]["customers"]
        assert len({r["customer_id"] for r in rows}) == len(rows)
        values = [Decimal(str(r[key])) for r in rows]
        assert values == sorted(values, reverse=True), key
    for row in rows:
        assert 0 <= row["p_alive"] <= 1
        # Undiscounted (the default): value is orders times spend per order (both rounded).
        expected = float(row["expected_spend"]) * row["expected_orders"]
        rounding = 0.005 * (row["expected_orders"] + 1) + float(row["expected_spend"]) * 1e-4
        assert float(row["predicted_value"]) == pytest.approx(expected, abs=rounding)
    # Someone who kept buying is worth more than a one-time buyer of long ago.
    frequent = max(rows, key=lambda r: r["repeat_order_days"])
    one_time = [r for r in rows if r["repeat_order_days"] == 0]
    best_one_time = max(Decimal(r["predicted_value"]) for r in one_time)
    assert Decimal(frequent["predicted_value"]) > best_one_time


def test_a_monthly_discount_lowers_every_value(app: Any, api: Api) -> None:
    post_cdnow(api)
    assert fit(app).exit_code == 0
    plain = {r["customer_id"]: Decimal(r["predicted_value"]) for r in all_pages(api)}
    assert fit(app, "--monthly-discount-rate", "0.05").exit_code == 0
    body = api.get("/api/v1/customers/clv").json
    assert body["monthly_discount_rate"] == 0.05
    discounted = {r["customer_id"]: Decimal(r["predicted_value"]) for r in all_pages(api)}
    assert discounted.keys() == plain.keys()
    assert all(discounted[c] <= plain[c] for c in plain)
    assert sum(discounted.values()) < sum(plain.values())


def test_the_forecast_adds_up_to_the_customers_expected_orders(app: Any, api: Api) -> None:
    post_cdnow(api)
    assert fit(app, "--horizon-months", "6").exit_code == 0
    total = sum(r["expected_orders"] for r in all_pages(api))
    model = api.get("/api/v1/models/clv").json
    for granularity in ("week", "month"):
        body = api.get("/api/v1/customers/clv/forecast", granularity=granularity).json
        assert body["as_of"] == model["as_of"]
        periods = body["data"]
        assert periods[0]["period"] > model["as_of"]
        assert sum(p["expected_orders"] for p in periods) == pytest.approx(total, rel=1e-3)
    # The data ends on 30 June: July to December, the last up to the horizon (183 days on).
    months = api.get("/api/v1/customers/clv/forecast").json["data"]
    assert [m["period"][5:7] for m in months] == ["07", "08", "09", "10", "11", "12"]


def test_a_new_fit_is_served_at_once(app: Any, api: Api) -> None:
    """A fit changes the answers as a write does: a kept answer of the old fit is not served."""
    post_cdnow(api)
    assert fit(app).exit_code == 0
    first = api.get("/api/v1/models/clv").json
    assert fit(app, "--horizon-months", "3").exit_code == 0
    second = api.get("/api/v1/models/clv").json
    assert second["model_id"] != first["model_id"]
    assert second["horizon_months"] == 3
    assert api.get("/api/v1/customers/clv").json["horizon_months"] == 3


@pytest.mark.parametrize(
    ("url", "params", "pointer"),
    [
        ("/api/v1/customers/clv", {"sort": "net_sales"}, "/sort"),
        ("/api/v1/customers/clv", {"limit": 0}, "/limit"),
        ("/api/v1/customers/clv", {"offset": -1}, "/offset"),
        ("/api/v1/customers/clv/forecast", {"granularity": "day"}, "/granularity"),
        ("/api/v1/customers/clv/forecast", {"periods": 3}, "/periods"),
    ],
)
def test_bad_query_parameters_are_refused_by_name(
    api: Api, url: str, params: dict[str, Any], pointer: str
) -> None:
    response = api.get(url, **params)
    assert response.status_code == 400
    assert pointer in [e["pointer"] for e in response.json["errors"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon-months", "0"], "--horizon-months"),
        (["--monthly-discount-rate", "1"], "--monthly-discount-rate"),
        (["--unit-days", "0"], "--unit-days"),
        (["--holdout-days", "-1"], "--holdout-days"),
        (["--as-of", "2025-13-01"], "--as-of"),
    ],
)
def test_the_fit_command_refuses_bad_options_by_name(
    app: Any, backend: str, args: list[str], message: str
) -> None:
    if backend != "sqlite":
        pytest.skip("argument check, the same on every backend")
    result = fit(app, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_the_fit_command_explains_when_there_is_nothing_to_fit(app: Any, api: Api) -> None:
    result = fit(app)
    assert result.exit_code == 1
    assert "no orders yet" in result.output
    # One customer who never came back: nothing to learn repeat buying from.
    post_cdnow(api, 1)
    result = fit(app)
    assert result.exit_code == 1
    assert "repeat" in result.output
    assert api.get("/api/v1/models/clv").status_code == 409
