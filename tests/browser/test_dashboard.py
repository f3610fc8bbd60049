"""The dashboard and ``/docs`` in a real Chromium, against the service served by werkzeug in a
thread on seeded SQLite: what a person signing in sees, checked against the API's JSON."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade  # type: ignore[import-untyped]
from werkzeug.serving import make_server

from ecommerce_analytics import create_app
from ecommerce_analytics.api.routing import OPERATIONS
from ecommerce_analytics.auth import create_key
from ecommerce_analytics.config import current_store
from ecommerce_analytics.db import get_db
from ecommerce_analytics.seed import seed

from .conftest import PHONE

SEEDED_ORDERS = 1500
WAIT_S = 15
CLV_EMPTY = (
    "No predictions yet: they appear after the nightly model fit (or run 'flask clv fit'). "
    "Reload the page once it has run."
)


@dataclass
class Server:
    url: str
    key: str
    app: Flask

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params)
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}?{query}", headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


def _app(folder: Path, orders: int) -> tuple[Flask, str]:
    """An app on a migrated SQLite file with ``orders`` demo orders (``seed``) and a key; every
    answer live and the dashboard polling every second, so a test sees a new order within
    seconds."""
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'analytics.sqlite3'}",
            "ANALYTICS_MAX_STALENESS": 0,
            "ANALYTICS_RANKING_MAX_STALENESS": 0,
            "RATE_LIMIT_PER_MINUTE": 0,
            "DASHBOARD_POLL_SECONDS": 1,
        }
    )
    with app.app_context():
        upgrade()
        if orders:
            seed(get_db(), current_store(), orders)
        with get_db().sessionmaker.begin() as session:
            key = create_key(session, ["read", "write"], "browser")[1]
    return app, key


@contextmanager
def _serving(app: Flask, key: str) -> Iterator[Server]:
    """``app`` behind a real HTTP server (werkzeug, threaded) on a free port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", key, app)
    finally:
        httpd.shutdown()
        thread.join()
        app.extensions["ecommerce_analytics.db"].dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo's data behind a real server, shared by this module's tests."""
    with _serving(*_app(tmp_path_factory.mktemp("dashboard"), SEEDED_ORDERS)) as running:
        yield running


def wait(browser: Any, condition: Any, message: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_S).until(lambda _driver: condition(), message)


def text(browser: Any, element_id: str) -> str:
    return str(browser.execute_script(f"return document.getElementById('{element_id}').innerText"))


def number(shown: str) -> str:
    """``$12,345.60`` -> ``12345.60``: what the API sends, for comparison."""
    return re.sub(r"[^0-9.\-]", "", shown)


def loaded(browser: Any) -> bool:
    """Every panel has answered (content or an empty or error state) and none is busy."""
    return bool(
        browser.execute_script(
            "return document.querySelectorAll('.panel[aria-busy=\"true\"]').length === 0"
            " && document.querySelectorAll('.panel').length > 0"
            " && !document.getElementById('freshness').innerText.startsWith('Loading')"
        )
    )


def sign_in(browser: Any, server: Server) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/dashboard/login")
    browser.find_element(By.ID, "key").send_keys(server.key)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda: browser.current_url.endswith("/dashboard/"), "not signed in")
    wait(browser, lambda: loaded(browser), "the dashboard did not finish loading")


def full_page_screenshot(browser: Any, path: Path) -> None:
    """The whole page, not just the window: the window grows to the page's height meanwhile."""
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], max(height, size["height"]))
    try:
        browser.save_screenshot(str(path))
    finally:
        browser.set_window_size(size["width"], size["height"])


def severe(browser: Any) -> list[Any]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def visited_urls(browser: Any) -> list[str]:
    return list(
        browser.execute_script(
            "return performance.getEntries().map(e => e.name).concat([location.href])"
        )
    )


def set_range(browser: Any, start: str, end: str) -> None:
    # Typing into a date input depends on the browser's locale; setting it as a person's
    # picker does (value, then a change event) does not.
    browser.execute_script(
        "for (const [id, v] of [['start', arguments[0]], ['end', arguments[1]]]) {"
        "  const input = document.getElementById(id); input.value = v;"
        "  input.dispatchEvent(new Event('change')); }",
        start,
        end,
    )


MONEY = re.compile(r"-?\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}")  # as the KPIs show it: $12,345.60


def chart_table(browser: Any, holder: str) -> dict[str, Any]:
    """The table a chart's figures are also given in (inside ``#holder``), as a screen reader
    reads it: its caption, column headers and rows (each row's header cell first), and whether
    anything of it can be seen."""
    from selenium.webdriver.common.by import By

    found: dict[str, Any] = browser.execute_script(
        "const t = document.querySelector(`#${arguments[0]} table`);"
        "const box = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return {caption: t.caption.innerText,"
        " headers: [...t.tHead.rows[0].cells].map(c => [c.innerText, c.scope]),"
        " rows: [...t.tBodies[0].rows].map(tr => [...tr.cells].map(c => c.innerText)),"
        " rowScopes: [...t.tBodies[0].rows]"
        "   .map(tr => tr.cells[0].tagName + ':' + tr.cells[0].scope),"
        " box: [box.width, box.height], clip: getComputedStyle(t.parentElement).clipPath}",
        holder,
    )
    # What the browser's accessibility tree says of it (a display: none table: role "none",
    # no name).
    element = browser.find_element(By.CSS_SELECTOR, f"#{holder} table")
    found["name"] = element.accessible_name
    found["role"] = element.aria_role
    return found


def assert_chart_table(found: dict[str, Any], caption: str, headers: list[str]) -> None:
    assert found["caption"] == caption
    assert found["name"] == caption  # what a screen reader announces for the table
    assert found["role"] == "table"
    assert found["headers"] == [[h, "col"] for h in headers]
    assert set(found["rowScopes"]) <= {"TH:row"}
    # Present yet drawn nowhere: a one-pixel box clipped to nothing (Selenium's is_displayed()
    # counts that pixel as shown, so the box and its clip are checked instead).
    assert found["box"] == [1, 1] and found["clip"] == "inset(50%)"
    assert found["rows"]


def assert_sales_match(browser: Any, server: Server, start: str, end: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    granularity = browser.execute_script("return document.getElementById('granularity').value")
    sales: dict[str, Any] = server.api("/sales", start=start, end=end, granularity=granularity)
    totals = sales["totals"]
    assert text(browser, "sales-range") == f"{start} to {end}"
    assert number(text(browser, "kpi-orders")) == str(totals["orders"])
    assert number(text(browser, "kpi-net_sales")) == totals["net_sales"]
    assert number(text(browser, "kpi-average_order_value")) == totals["average_order_value"]
    for field in ("gross_sales", "discounts", "returns", "net_sales"):
        assert number(text(browser, f"bd-{field}")) == totals[field], field
    # One point per period in the chart, as many as the API's rows.
    points = browser.execute_script(
        "return document.querySelectorAll('#sales-chart .u-over').length"
    )
    assert points == 1
    # The chart's figures without sight: its label summarises it, the hidden table holds each
    # period's net sales as shown (currency), and the previous period's as the dashed line.
    label = f"Net sales per {granularity}, {start} to {end}, against the previous period"
    chart = browser.find_element(By.ID, "sales-chart")
    assert chart.accessible_name == f"{label}; table follows"
    found = chart_table(browser, "sales-table")
    header = {"day": "Day", "week": "Week starting", "month": "Month starting"}[granularity]
    assert_chart_table(found, label, [header, "Net sales", "Previous period"])
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
    previous = server.api(
        "/sales",
        start=str(date.fromisoformat(start) - timedelta(days=days)),
        end=str(date.fromisoformat(start) - timedelta(days=1)),
        granularity=granularity,
    )["rows"]
    assert [(row[0], number(row[1]), number(row[2])) for row in found["rows"]] == [
        (r["period"], r["net_sales"], previous[i]["net_sales"] if i < len(previous) else "")
        for i, r in enumerate(sales["rows"])
    ]
    assert all(MONEY.fullmatch(row[1]) for row in found["rows"])
    assert all(MONEY.fullmatch(row[2]) or row[2] == "—" for row in found["rows"])
    return sales


def table_rows(browser: Any, panel: str) -> list[list[str]]:
    return list(
        browser.execute_script(
            f"return [...document.querySelectorAll('#panel-{panel} tbody tr')]"
            # The visible tables only: not a chart's figures, given to screen readers
            ".filter(tr => !tr.closest('.visually-hidden'))"
            ".map(tr => [...tr.children].map(c => c.innerText))"
        )
    )


def test_each_panel_shows_the_apis_figures_and_follows_the_range(browser, server, artifacts):
    from selenium.webdriver.common.by import By

    sign_in(browser, server)
    start = browser.execute_script("return document.getElementById('start').value")
    end = browser.execute_script("return document.getElementById('end').value")
    churn = server.api("/insights/churn-risk", limit=10)
    assert end == churn["as_of"]  # the range ends on the latest order day
    assert_sales_match(browser, server, start, end)

    top = server.api("/products/performance", start=start, end=end, limit=5)
    assert [row[0] for row in table_rows(browser, "top")] == [r["sku"] for r in top["data"]]
    assert number(table_rows(browser, "top")[0][1]) == top["data"][0]["net_sales"]
    bottom = server.api("/products/performance", start=start, end=end, limit=5, order="bottom")
    assert [row[0] for row in table_rows(browser, "bottom")] == [r["sku"] for r in bottom["data"]]
    cohorts = table_rows(browser, "cohorts")
    months = end[:7]
    first = f"{int(months[:4]) - 1}-{int(months[5:]) + 1:02d}" if months[5:] != "12" else months
    report = server.api("/customers/cohorts", start=first, end=months, months=11)
    assert [(row[0], number(row[1])) for row in cohorts] == [
        (c["cohort"], str(c["customers"])) for c in report["cohorts"]
    ]
    assert {row[2] for row in cohorts} == {"100%"}  # every cohort orders in its first month
    rfm = server.api("/customers/rfm", limit=1)
    shown = {row[0]: number(row[1]) for row in table_rows(browser, "rfm")}
    assert shown == {s["segment"].replace("_", " "): str(s["customers"]) for s in rfm["segments"]}
    ltv = server.api("/customers/ltv-distribution", buckets=8)
    histogram = [int(number(row[1])) for row in table_rows(browser, "ltv")]
    assert histogram == [b["customers"] for b in ltv["histogram"]]
    assert [row[0] for row in table_rows(browser, "churn")] == [
        c["customer_id"] for c in churn["data"]
    ]
    pairs = server.api("/insights/bought-together", limit=10)
    assert [row[0] for row in table_rows(browser, "pairs")] == [
        f"{p['sku_a']} + {p['sku_b']}" for p in pairs["data"]
    ]
    assert "Updated" in text(browser, "freshness")
    # Each panel's table is named by the panel's heading, as a screen reader announces it.
    names = {
        panel: [
            t.accessible_name
            for t in browser.find_elements(By.CSS_SELECTOR, f"#panel-{panel} table")
        ]
        for panel in ("breakdown", "top", "bottom", "cohorts", "rfm", "ltv", "churn", "pairs")
    }
    assert names == {
        "breakdown": ["Net sales breakdown"],
        "top": ["Top products by net sales"],
        "bottom": ["Bottom products by net sales"],
        "cohorts": [
            "Cohort retention share of each month's new customers ordering N months after "
            "their first order"
        ],
        "rfm": [f"RFM segments {text(browser, 'rfm-as-of')}"],
        "ltv": ["Customer lifetime value"],
        "churn": ["Churn risk high-value customers overdue"],
        "pairs": ["Bought together by lift"],
    }
    full_page_screenshot(browser, Path(artifacts) / "dashboard-desktop.png")
    latest_rows = chart_table(browser, "sales-table")["rows"]

    # A narrower range: the figures become that range's.
    set_range(browser, "2025-01-01", "2025-01-31")
    wait(
        browser,
        lambda: text(browser, "sales-range") == "2025-01-01 to 2025-01-31" and loaded(browser),
        "the range change did not reach the sales panel",
    )
    january = assert_sales_match(browser, server, "2025-01-01", "2025-01-31")
    assert chart_table(browser, "sales-table")["rows"] != latest_rows  # replaced, not kept
    assert january["totals"]["orders"] < int(
        server.api("/sales", start=start, end=end)["totals"]["orders"]
    )

    # The session lives in an HttpOnly cookie: no script, no storage, no URL sees the key.
    assert "eak_session" not in browser.execute_script("return document.cookie")
    storage = browser.execute_script(
        "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert storage == "[[],[]]"
    assert not [url for url in visited_urls(browser) if server.key in url]
    assert severe(browser) == []


def state_of(browser: Any, panel: str) -> str:
    return str(
        browser.execute_script(
            f"const s = document.querySelector('#panel-{panel} [data-state]');"
            "return s.hidden ? '' : s.innerText"
        )
    )


def test_empty_and_refused_ranges_say_so(browser, server, artifacts):
    from selenium.webdriver.support.ui import Select

    sign_in(browser, server)
    set_range(browser, "2030-01-01", "2030-01-31")  # no orders yet
    wait(
        browser,
        lambda: state_of(browser, "sales") == "No orders between 2030-01-01 and 2030-01-31.",
        "no empty state for a range without orders",
    )
    assert state_of(browser, "top") == "No product sold in this range."
    # Over 1000 days at day granularity: the API's own explanation is shown.
    Select(browser.find_element("id", "granularity")).select_by_value("day")
    set_range(browser, "2020-01-01", "2025-06-30")
    wait(browser, lambda: state_of(browser, "sales").startswith("Could not load:"), "no error")
    problem = urllib.request.Request(
        f"{server.url}/api/v1/sales?start=2020-01-01&end=2025-06-30&granularity=day",
        headers={"Authorization": f"Bearer {server.key}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(problem, timeout=10)
    detail = json.load(refused.value)["detail"]
    assert state_of(browser, "sales") == f"Could not load: {detail}"
    assert "Could not refresh" in text(browser, "freshness")
    browser.save_screenshot(str(Path(artifacts) / "dashboard-error.png"))
    # A start after the end is caught before asking.
    set_range(browser, "2025-02-01", "2025-01-01")
    wait(
        browser,
        lambda: text(browser, "range-error") == "The start date must not be after the end date.",
        "an inverted range went unexplained",
    )
    assert loaded(browser)  # nothing left "updating"
    # The API's 400 is the only error the console saw.
    assert all(" 400 " in entry["message"] for entry in severe(browser))


def test_a_new_order_appears_without_a_reload(browser, server, artifacts):
    sign_in(browser, server)
    browser.execute_script("window.notReloaded = true")
    end = browser.execute_script("return document.getElementById('end').value")
    before = int(number(text(browser, "kpi-orders")))
    server.post(
        "/orders",
        {
            "orders": [
                {
                    "order_id": "LIVE-1",
                    "customer_id": "C-LIVE",
                    "created_at": f"{end}T12:00:00+00:00",
                    "currency": "USD",
                    "lines": [{"sku": "LIVE-SKU", "quantity": 1, "unit_price": "123.45"}],
                }
            ]
        },
    )
    wait(
        browser,
        lambda: number(text(browser, "kpi-orders")) == str(before + 1),
        "the new order did not show up",
    )
    assert browser.execute_script("return window.notReloaded") is True
    start = browser.execute_script("return document.getElementById('start').value")
    wait(browser, lambda: loaded(browser), "the refresh did not finish")
    assert_sales_match(browser, server, start, end)
    assert severe(browser) == []


def test_on_a_phone_nothing_overflows_sideways(browser, server, artifacts):
    browser.set_window_size(*PHONE)
    sign_in(browser, server)
    width, scroll_width = browser.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert scroll_width <= width
    full_page_screenshot(browser, Path(artifacts) / "dashboard-phone.png")
    assert severe(browser) == []


def test_a_bad_key_is_refused_on_the_sign_in_page(browser, server, artifacts):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/dashboard/")  # no session: the page sends the person to sign in
    wait(browser, lambda: "/dashboard/login" in browser.current_url, "not sent to sign in")
    browser.find_element(By.ID, "key").send_keys("eak_000000000000_not-a-real-key")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    error = wait(browser, lambda: browser.find_elements(By.ID, "login-error"), "no error shown")
    assert error[0].text == "That API key is unknown or has been revoked."
    assert "not-a-real-key" not in browser.current_url
    browser.save_screenshot(str(Path(artifacts) / "login-error.png"))
    # The 401 the page got, and the sign-in's own 401, are the only errors.
    assert all(" 401 " in entry["message"] for entry in severe(browser))


def test_a_fresh_install_explains_each_empty_panel(browser, tmp_path):
    with _serving(*_app(tmp_path, orders=0)) as empty:
        sign_in(browser, empty)
        states = {
            name: state_of(browser, name)
            for name in ("sales", "top", "cohorts", "rfm", "ltv", "clv", "churn", "pairs")
        }
        # Read while the server is up: the page polls every second, and a poll after the
        # server stops is the test's doing, not the dashboard's.
        errors = severe(browser)
    assert states["sales"].startswith("No orders between ")
    assert states == {
        "sales": states["sales"],
        "top": "No product sold in this range.",
        "cohorts": "No customer ordered for the first time in these months.",
        "rfm": "No customers yet.",
        "ltv": "No customers yet.",
        "clv": CLV_EMPTY,
        "churn": "No high-value customer is overdue.",
        "pairs": "No two products were bought together in 2 or more orders yet.",
    }
    assert errors == []


def test_docs_render_every_operation(browser, server, artifacts):
    browser.get(f"{server.url}/docs")
    wait(
        browser,
        lambda: all(op.summary in browser.page_source for op in OPERATIONS),
        "not every operation is on /docs",
    )
    browser.save_screenshot(str(Path(artifacts) / "docs.png"))
    assert severe(browser) == []


def fit_clv(server: Server, *args: str) -> None:
    """``flask clv fit`` itself, through the CLI, on the server's database."""
    result = server.app.test_cli_runner().invoke(args=["clv", "fit", *args])
    assert result.exit_code == 0, result.output


def assert_clv_match(browser: Any, server: Server) -> None:
    """The panel shows the API's latest model, its top 10 customers by predicted value and its
    monthly forecast (drawn, and in a table for screen readers)."""
    from selenium.webdriver.common.by import By

    model = server.api("/models/clv")
    top = server.api("/customers/clv", limit=10)["data"]
    assert len(top) == 10
    fitted = datetime.fromisoformat(model["fitted_at"]).astimezone(UTC)
    assert text(browser, "clv-model") == (
        f"Model fitted {fitted:%Y-%m-%d %H:%M} UTC on {model['purchases']['customers']:,} "
        f"customers' orders up to {model['as_of']}"
        + (
            f", discounted {model['monthly_discount_rate'] * 100:.1f}% a month."
            if model["monthly_discount_rate"]
            else "."
        )
    )
    assert text(browser, "clv-horizon") == f"next {model['horizon_months']} months"
    rows = table_rows(browser, "clv")
    assert [row[0] for row in rows] == [c["customer_id"] for c in top]
    assert [number(row[1]) for row in rows] == [c["predicted_value"] for c in top]
    # Shown to 1 decimal and as a whole percentage.
    for row, customer in zip(rows, top, strict=True):
        assert float(row[2]) == pytest.approx(customer["expected_orders"], abs=0.05 + 1e-9)
        assert float(row[3].rstrip("%")) == pytest.approx(customer["p_alive"] * 100, abs=0.5 + 1e-9)
    charts = browser.execute_script("return document.querySelectorAll('#clv-chart .u-over').length")
    assert charts == 1
    assert browser.find_element(By.CSS_SELECTOR, "#clv-top table").accessible_name == (
        f"Predicted lifetime value next {model['horizon_months']} months"
    )
    # The forecast chart's figures without sight: a summary label and a hidden table of the
    # model's monthly forecast, to 1 decimal as the chart's own values are.
    forecast = model["forecast"]["month"]
    label = (
        "Expected repeat orders of today's customers per month, "
        f"{forecast[0]['period']} to {forecast[-1]['period']}"
    )
    assert browser.find_element(By.ID, "clv-chart").accessible_name == f"{label}; table follows"
    found = chart_table(browser, "clv-table")
    assert_chart_table(
        found,
        f"{label} (first and last months partial)",
        ["Month starting", "Expected repeat orders"],
    )
    assert [row[0] for row in found["rows"]] == [p["period"] for p in forecast]
    for row, period in zip(found["rows"], forecast, strict=True):
        assert re.fullmatch(r"[0-9]+\.[0-9]", row[1]), row
        assert float(row[1]) == pytest.approx(period["expected_orders"], abs=0.05 + 1e-9)


def test_predicted_lifetime_value_appears_once_a_model_is_fitted(browser, server, artifacts):
    # Last in the module: it fits a model on the shared server, which no other test here reads.
    sign_in(browser, server)
    assert state_of(browser, "clv") == CLV_EMPTY
    fit_clv(server)
    # The page learnt "nothing fitted" when it was served: the first fit shows after a reload.
    browser.refresh()
    wait(browser, lambda: loaded(browser) and state_of(browser, "clv") == "", "no predictions")
    assert_clv_match(browser, server)
    full_page_screenshot(browser, Path(artifacts) / "dashboard-clv.png")

    # A later fit replaces the figures without a reload, through the page's own polling.
    browser.execute_script("window.notReloaded = true")
    fit_clv(server, "--horizon-months", "6", "--monthly-discount-rate", "0.01")
    wait(
        browser,
        lambda: text(browser, "clv-horizon") == "next 6 months" and loaded(browser),
        "the new fit did not show up",
    )
    assert browser.execute_script("return window.notReloaded") is True
    assert_clv_match(browser, server)
    # The filled panel fits a phone too (its table scrolls inside the panel).
    browser.set_window_size(*PHONE)
    width, scroll_width = browser.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert scroll_width <= width
    assert severe(browser) == []
