"""Factory, configuration, health, OpenAPI, logging, migrations, seed and demo."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from jsonschema import Draft202012Validator

from ecommerce_analytics import create_app
from ecommerce_analytics.config import config_from_env, database_url_from_env
from ecommerce_analytics.db import get_db
from ecommerce_analytics.models import Base
from ecommerce_analytics.schemas import OrderBatchIn

from .factories import order


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "migrations": "ok"}


def test_readyz_fails_on_unmigrated_database(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    response = app.test_client().get("/readyz")
    assert response.json is not None
    app.extensions["ecommerce_analytics.db"].dispose()
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].startswith("pending")


def test_migrations_match_the_models(app):
    with app.app_context(), get_db().engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_database_url_from_db_variables():
    env = {
        "DB_ENGINE": "postgres",
        "DB_HOST": "db.internal",
        "DB_NAME": "analytics",
        "DB_USERNAME": "app",
        "DB_PASSWORD": "p@ss/word",
    }
    assert database_url_from_env(env) == (
        "postgresql+psycopg://app:p%40ss%2Fword@db.internal:5432/analytics"
    )
    mysql = database_url_from_env({**env, "DB_ENGINE": "mysql", "DB_PORT": "3307"})
    assert mysql == "mysql+pymysql://app:p%40ss%2Fword@db.internal:3307/analytics?charset=utf8mb4"
    assert database_url_from_env({**env, "DATABASE_URL": "sqlite://"}) == "sqlite://"
    assert database_url_from_env({}) is None
    with pytest.raises(ValueError, match="DB_ENGINE"):
        database_url_from_env({**env, "DB_ENGINE": "oracle"})
    assert config_from_env({})["STORE_CURRENCY"] == "USD"


def test_response_cache_shared_flag():
    assert config_from_env({})["RESPONSE_CACHE_SHARED"] is True
    assert config_from_env({"RESPONSE_CACHE_SHARED": "off"})["RESPONSE_CACHE_SHARED"] is False
    assert config_from_env({"RESPONSE_CACHE_SHARED": " Yes "})["RESPONSE_CACHE_SHARED"] is True
    with pytest.raises(ValueError, match="RESPONSE_CACHE_SHARED must be one of .*'maybe'"):
        config_from_env({"RESPONSE_CACHE_SHARED": "maybe"})


def test_migrate_on_start_migrates_only_when_on_and_rejects_other_words(tmp_path, monkeypatch):
    from sqlalchemy import create_engine, inspect

    from ecommerce_analytics import gunicorn_conf

    url = f"sqlite:///{tmp_path / 'started.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    def tables() -> set[str]:
        engine = create_engine(url)
        try:
            return set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

    for off in ("", "0", "off"):
        monkeypatch.setenv("MIGRATE_ON_START", off)
        gunicorn_conf.on_starting(None)
        assert "orders" not in tables()
    monkeypatch.setenv("MIGRATE_ON_START", "enabled")
    with pytest.raises(ValueError, match="MIGRATE_ON_START must be one of .*'enabled'"):
        gunicorn_conf.on_starting(None)
    assert "orders" not in tables()
    monkeypatch.setenv("MIGRATE_ON_START", "On")
    gunicorn_conf.on_starting(None)
    assert {"orders", "alembic_version"} <= tables()


def test_bad_store_settings_fail_fast(tmp_path):
    with pytest.raises(ValueError, match="STORE_TIMEZONE"):
        create_app({"DATABASE_URL": "sqlite://", "STORE_TIMEZONE": "Mars/Base"})


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for rule in client.application.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json":
            path = rule.rule.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in paths[path], (path, method)
    post = paths["/api/v1/orders"]["post"]
    assert post["security"] == [{"bearerAuth": ["write"]}]
    assert "422" in post["responses"]
    sales_params = {p["name"] for p in paths["/api/v1/sales"]["get"]["parameters"]}
    assert sales_params == {"start", "end", "granularity"}
    # The request schema in the document is the one that validates requests.
    schemas = doc["components"]["schemas"]
    batch = {"$defs": schemas, **schemas["OrderBatchIn"]}
    text = json.dumps(batch).replace("#/components/schemas/", "#/$defs/")
    validator = Draft202012Validator(json.loads(text))
    good = {"orders": [order("D1")]}
    assert validator.is_valid(good)
    OrderBatchIn.model_validate(good)
    bad = {"orders": [order("D1", lines=[("S", 0, "1.00", None)])]}
    assert not validator.is_valid(bad)


def test_json_logs_with_request_id_and_emf(client, capsys):
    client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    record = next(line for line in lines if line.get("Route") == "/healthz")
    assert record["request_id"] == "abc-123"
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EcommerceAnalytics"
    assert record["Latency"] >= 0 and record["Requests"] == 1 and record["status"] == 200
    response = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["X-Request-ID"] != "bad id with spaces"


def test_seed_is_deterministic_and_idempotent(app, backend):
    if backend != "sqlite":
        pytest.skip("seed goes through the same ingest path tested on every backend")
    from ecommerce_analytics.config import StoreSettings
    from ecommerce_analytics.seed import plan

    store = StoreSettings.from_config({})
    assert plan(50, store) == plan(50, store)
    assert plan(50, store) != plan(50, store, seed=1)
    orders = plan(300, store).orders
    customers = [o["customer_id"] for o in orders]
    assert len(set(customers)) < len(customers)  # repeat customers
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--orders", "300"])
    assert first.exit_code == 0, first.output
    assert "Seeded 300 new orders" in first.output
    again = runner.invoke(args=["seed", "--orders", "300"])
    assert "Seeded 0 new orders and 0 refunds" in again.output


def test_seed_reports_progress_batch_by_batch(app, backend):
    if backend != "sqlite":
        pytest.skip("seed goes through the same ingest path tested on every backend")
    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.seed import BATCH, seed

    reported: list[int] = []
    with app.app_context():
        created, _refunds = seed(get_db(), current_store(), 2 * BATCH + 7, progress=reported.append)
    assert created == 2 * BATCH + 7
    assert reported == [BATCH, BATCH, 7]
    result = app.test_cli_runner().invoke(args=["seed", "--orders", "20"])
    assert result.exit_code == 0, result.output
    assert "Seeding orders" in result.stderr


def test_seed_shards_written_in_parallel_add_up_to_the_whole_plan(app, backend):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.models import Customer, DailySales, Order, Refund
    from ecommerce_analytics.seed import BATCH, plan, seed

    n = 2 * BATCH + 7
    with app.app_context():
        database, store = get_db(), current_store()
        reported: dict[int, list[int]] = {0: [], 1: []}

        def shard(k: int) -> tuple[int, int]:
            return seed(database, store, n, progress=reported[k].append, shard=(k, 2))

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(shard, (0, 1)))
        expected = plan(n, store)
        with database.engine.connect() as conn:
            stored = set(conn.execute(select(Order.order_id)).scalars())
            customers = conn.execute(select(func.count()).select_from(Customer)).scalar()
            refunds = conn.execute(select(func.count()).select_from(Refund)).scalar()
            day_orders = conn.execute(select(func.sum(DailySales.orders))).scalar()
    assert reported == {0: [BATCH, 7], 1: [BATCH]}
    assert sum(created for created, _ in results) == n
    assert stored == {o["order_id"] for o in expected.orders}
    assert customers == len({o["customer_id"] for o in expected.orders})
    assert refunds == sum(refunded for _, refunded in results) == len(expected.refunds)
    assert day_orders == n


def test_seed_rejects_a_shard_outside_its_count(app, backend):
    if backend != "sqlite":
        pytest.skip("argument check, the same on every backend")
    from ecommerce_analytics.config import current_store
    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.seed import seed

    with app.app_context(), pytest.raises(ValueError, match=r"shard must be.*\(2, 2\)"):
        seed(get_db(), current_store(), 10, shard=(2, 2))


def test_demo_command_prepares_data_and_prints_examples(app, backend, tmp_path, monkeypatch):
    if backend != "sqlite":
        pytest.skip("the demo always runs on embedded SQLite")
    served: dict[str, object] = {}

    def fake_serve(host, port, demo_app, **kwargs):
        served.update(host=host, port=port)
        demo_app.extensions["ecommerce_analytics.db"].dispose()

    monkeypatch.setattr("ecommerce_analytics.cli.run_simple", fake_serve)
    data_dir = tmp_path / "demo"
    result = app.test_cli_runner().invoke(
        args=["demo", "--port", "8099", "--orders", "200", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert served == {"host": "127.0.0.1", "port": 8099}
    assert (data_dir / "analytics.sqlite3").exists()
    assert (data_dir / ".gitignore").read_text() == "*\n"
    assert "API key (read+write): eak_" in result.output
    assert "Dashboard:     http://127.0.0.1:8099/dashboard/" in result.output
    assert "API reference: http://127.0.0.1:8099/docs" in result.output
    assert result.output.count("curl -s") >= 4
    # The demo fits the lifetime value models once, so its predictions have figures.
    demo = create_app({"DATABASE_URL": f"sqlite:///{data_dir / 'analytics.sqlite3'}"})
    key = result.output.split("API key (read+write): ")[1].split()[0]
    answer = demo.test_client().get(
        "/api/v1/customers/clv?limit=3", headers={"Authorization": f"Bearer {key}"}
    )
    body = answer.get_json()
    assert answer.status_code == 200 and body is not None, body
    assert len(body["data"]) == 3
    again = app.test_cli_runner().invoke(
        args=["demo", "--port", "8099", "--data-dir", str(data_dir)]
    )
    assert "Fitting the lifetime value models" in result.output
    assert again.exit_code == 0, again.output
    assert "Fitting" not in again.output  # a second start keeps the stored fit
    demo.extensions["ecommerce_analytics.db"].dispose()


def test_a_demo_too_small_to_fit_still_serves(app, backend, tmp_path, monkeypatch):
    if backend != "sqlite":
        pytest.skip("the demo always runs on embedded SQLite")
    monkeypatch.setattr(
        "ecommerce_analytics.cli.run_simple",
        lambda host, port, demo_app, **kwargs: demo_app.extensions[
            "ecommerce_analytics.db"
        ].dispose(),
    )
    result = app.test_cli_runner().invoke(
        args=["demo", "--orders", "1", "--data-dir", str(tmp_path / "demo")]
    )
    assert result.exit_code == 0, result.output
    assert "No lifetime value predictions in this demo: " in result.output


def test_a_demo_whose_fit_fails_still_serves(app, backend, tmp_path, monkeypatch):
    if backend != "sqlite":
        pytest.skip("the demo always runs on embedded SQLite")
    served: list[int] = []

    def fake_serve(host, port, demo_app, **kwargs):
        served.append(port)
        demo_app.extensions["ecommerce_analytics.db"].dispose()

    def broken_fit(session, options):
        raise RuntimeError("the optimiser diverged")

    monkeypatch.setattr("ecommerce_analytics.cli.run_simple", fake_serve)
    monkeypatch.setattr("ecommerce_analytics.clv.fitting.fit_and_store", broken_fit)
    result = app.test_cli_runner().invoke(
        args=["demo", "--orders", "50", "--data-dir", str(tmp_path / "demo")]
    )
    assert result.exit_code == 0, result.output
    assert served == [8080]
    assert "the fit failed (RuntimeError('the optimiser diverged'))" in result.output


def test_generated_refunds_never_precede_their_order():
    """At millions of orders some land in the last minute of the plan's last day, after the
    refunds' cut-off: those are refunded at once, not before they were placed."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from ecommerce_analytics.seed import refund_moment

    tz = ZoneInfo("UTC")
    last = datetime(2025, 6, 30, 23, 59, tzinfo=tz)
    late_order = last + timedelta(seconds=30)
    assert refund_moment(late_order, 5, last) == late_order
    early_order = datetime(2025, 6, 1, 12, tzinfo=tz)
    assert refund_moment(early_order, 5, last) == early_order + timedelta(days=5)
    near_end = datetime(2025, 6, 28, 12, tzinfo=tz)
    assert refund_moment(near_end, 5, last) == last
