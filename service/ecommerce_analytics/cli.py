"""CLI: ``keys create|list|revoke``, ``seed``, ``demo``, ``clv fit``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from .auth import SCOPES, create_key
from .config import current_store
from .db import Database, get_db
from .models import ApiKey, Order
from .periods import add_months

DEMO_DIR = ".demo"


def register_commands(app: Flask) -> None:
    app.cli.add_command(keys)
    app.cli.add_command(seed_command)
    app.cli.add_command(demo)
    app.cli.add_command(clv)


@click.group(cls=AppGroup, help="Manage API keys.")
def keys() -> None:
    pass


@keys.command("create", help="Create a key; prints it alone on the last line (shown once).")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    required=True,
    help="Repeat for several scopes: --scope read --scope write.",
)
@click.option("--name", default="cli", show_default=True, help="A label for the key.")
def keys_create(scopes: tuple[str, ...], name: str) -> None:
    with get_db().sessionmaker.begin() as session:
        row, key = create_key(session, list(scopes), name)
        click.echo(f"Created key {row.prefix} ({row.scopes}) named {name!r}. Store it now:")
    click.echo(key)


@keys.command("list", help="List keys (never the secrets).")
def keys_list() -> None:
    with get_db().sessionmaker() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id)).all()
    click.echo(f"{'PREFIX':<14} {'SCOPES':<12} {'STATUS':<8} {'CREATED':<20} NAME")
    for row in rows:
        status = "revoked" if row.revoked_at else "active"
        created = row.created_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{row.prefix:<14} {row.scopes:<12} {status:<8} {created:<20} {row.name}")


@keys.command("revoke", help="Revoke the key with this PREFIX (its second segment).")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    with get_db().sessionmaker.begin() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if row is None:
            raise click.ClickException(f"no key with prefix {prefix!r}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
    click.echo(f"Revoked {prefix}.")


@click.command("seed", help="Generate deterministic demo orders through the ingest path.")
@with_appcontext
@click.option(
    "--orders", "count", type=click.IntRange(1, 1_000_000), default=2000, show_default=True
)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2025-06-30",
    show_default=True,
    help="Last day of the year of data.",
)
def seed_command(count: int, seed_value: int, end: datetime) -> None:
    from .seed import seed

    with click.progressbar(length=count, label="Seeding orders", file=sys.stderr) as bar:
        created, refunds = seed(
            get_db(), current_store(), count, seed_value, end.date(), progress=bar.update
        )
    click.echo(f"Seeded {created} new orders and {refunds} refunds.")


@click.command(
    "demo",
    help="Migrate and seed a local SQLite database, fit the lifetime value models, print a "
    "key, serve.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--orders", "count", default=2000, show_default=True, type=int)
@click.option("--data-dir", default=DEMO_DIR, show_default=True, type=click.Path())
def demo(host: str, port: int, count: int, data_dir: str) -> None:
    # The CLI's own app may point at any database; the demo always uses its local file.
    from flask_migrate import upgrade  # type: ignore[import-untyped]

    from .app import create_app
    from .seed import DEFAULT_END, seed

    folder = Path(data_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".gitignore").write_text("*\n")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'analytics.sqlite3'}"})
    with app.app_context():
        upgrade()
        database = get_db()
        with database.sessionmaker() as session:
            existing = session.scalar(select(func.count()).select_from(Order)) or 0
        if not existing:
            with click.progressbar(
                length=count, label=f"Seeding {count} demo orders", file=sys.stderr
            ) as bar:
                seed(database, current_store(), count, progress=bar.update)
        _fit_demo_model(database)
        with database.sessionmaker.begin() as session:
            _row, key = create_key(session, ["read", "write"], "demo")
    base = f"http://{host}:{port}"
    start = add_months(DEFAULT_END.replace(day=1), -11).isoformat()
    end = DEFAULT_END.isoformat()
    auth = f'-H "Authorization: Bearer {key}"'
    click.echo(
        f"""
Demo API on {base}  (data in {folder})
API key (read+write): {key}

Dashboard:     {base}/dashboard/  (sign in with the key above)
API reference: {base}/docs

Try:
  curl -s {auth} "{base}/api/v1/sales?start={start}&end={end}&granularity=month"
  curl -s {auth} "{base}/api/v1/products/performance?start=2025-04-01&end=2025-06-30&limit=5"
  curl -s {auth} "{base}/api/v1/customers/cohorts?start=2024-07&end=2024-12&months=6"
  curl -s {auth} "{base}/api/v1/insights/bought-together?limit=5"
  curl -s {auth} "{base}/api/v1/customers/clv?limit=5"
  curl -s {base}/api/v1/openapi.json
"""
    )
    # Flask refuses app.run() inside a `flask` command; serve with werkzeug directly.
    run_simple(host, port, app, threaded=True)


def _fit_demo_model(database: Database) -> None:
    """Fit the lifetime value models once (the deployed stack does it nightly), so the demo's
    predictions and its dashboard panel have figures; a demo too small to fit still serves."""
    from .clv.fitting import FitError, FitOptions, fit_and_store
    from .queries.clv import has_model

    with database.sessionmaker() as session:
        if has_model(session):
            return
    click.echo("Fitting the lifetime value models (flask clv fit)...", err=True)
    try:
        with database.sessionmaker.begin() as session:
            fit_and_store(session, FitOptions())
    except FitError as exc:
        click.echo(f"No lifetime value predictions in this demo: {exc}", err=True)
    except Exception as exc:  # noqa: BLE001 - the demo serves its other figures regardless
        click.echo(
            f"No lifetime value predictions in this demo: the fit failed ({exc!r}); "
            "`flask clv fit` shows the whole error",
            err=True,
        )


@click.group(cls=AppGroup, help="Predictive customer lifetime value.")
def clv() -> None:
    pass


@clv.command(
    "fit",
    help="Fit the purchase and spend models to the stored orders and store the fit and every "
    "customer's predictions (served by /api/v1/models/clv and /api/v1/customers/clv).",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last store day to fit.  [default: the latest order day]",
)
@click.option(
    "--holdout-days",
    type=click.IntRange(0, 3660),
    default=0,
    show_default=True,
    help="Also fit up to this many days before --as-of and compare its forecast with what "
    "the customers then did (0: no holdout check).",
)
@click.option(
    "--unit-days",
    type=click.FloatRange(1, 365),
    default=7.0,
    show_default=True,
    help="Days per time unit of the stored parameters (7: weeks, as the papers).",
)
@click.option(
    "--horizon-months",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="Months ahead the per-customer predictions and the forecast cover.",
)
@click.option(
    "--monthly-discount-rate",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    show_default=True,
    help="Discount per month applied to predicted value (0.01: 1% a month).",
)
def clv_fit(
    as_of: datetime | None,
    holdout_days: int,
    unit_days: float,
    horizon_months: int,
    monthly_discount_rate: float,
) -> None:
    from .clv.fitting import FitError, FitOptions, fit_and_store

    options = FitOptions(
        as_of=as_of.date() if as_of is not None else None,
        holdout_days=holdout_days,
        unit_days=unit_days,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
    )
    try:
        with get_db().sessionmaker.begin() as session:
            report = fit_and_store(session, options)
    except FitError as exc:
        raise click.ClickException(str(exc)) from None
    p = report.purchases
    s = report.spend
    click.echo(
        f"Fitted model {report.model_id} as of {report.as_of} on {p.customers} customers "
        f"in {report.fit_seconds:.1f} s: BG/NBD r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} "
        f"b={p.b:.4g}; Gamma-Gamma p={s.p:.4g} q={s.q:.4g} gamma={s.gamma:.4g} "
        f"({s.customers} repeat customers)."
    )
    if report.holdout is not None:
        h = report.holdout
        click.echo(
            f"Holdout after {h.calibration_end}: expected {h.expected_repeat_orders:.0f} repeat "
            f"orders, actual {h.actual_repeat_orders}."
        )
