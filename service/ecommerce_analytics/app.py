"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_migrate import Migrate  # type: ignore[import-untyped]

from . import db, telemetry
from .api import register_blueprints
from .api.routing import register_staleness_bounds
from .auth import RATE_LIMITER_KEY, RateLimiter
from .cache import EXTENSION_KEY as CACHE_KEY
from .cache import ResponseCache, SharedResponses, Snapshots, code_fingerprint, current_version
from .cli import register_commands
from .config import (
    DEFAULT_DB_STATEMENT_TIMEOUT_S,
    SQLITE_FILENAME,
    STORE_EXTENSION_KEY,
    StoreSettings,
    config_from_env,
    env_seconds,
)
from .dashboard import bp as dashboard_bp
from .errors import register_error_handlers
from .migrations_state import MIGRATIONS_DIR


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app. Config comes from the environment (see ``config.py``), then
    ``test_config`` overrides it. Without any database setting, an SQLite file in the
    instance folder is used."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.update(config_from_env())
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("DATABASE_URL"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, SQLITE_FILENAME)
        app.config["DATABASE_URL"] = f"sqlite:///{path}"
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[STORE_EXTENSION_KEY] = StoreSettings.from_config(app.config)

    telemetry.init_app(app)
    database = db.init_app(app)
    Migrate(app, database, directory=str(MIGRATIONS_DIR))
    _register_rate_limiter(app)
    _register_response_cache(app, database)
    register_error_handlers(app)
    register_blueprints(app)
    app.register_blueprint(dashboard_bp)
    register_staleness_bounds(app)
    register_commands(app)
    return app


def _register_rate_limiter(app: Flask) -> None:
    per_minute = int(app.config.get("RATE_LIMIT_PER_MINUTE", 0))
    if per_minute > 0:
        app.extensions[RATE_LIMITER_KEY] = RateLimiter(per_minute)


def _register_response_cache(app: Flask, database: db.Database) -> None:
    entries = int(app.config.get("RESPONSE_CACHE_ENTRIES", 0))
    if entries <= 0:
        return
    # A request waits for another worker's computation as long as a statement may run, and a
    # computation's lease lasts as long.
    wait_s = float(app.config.get("DB_STATEMENT_TIMEOUT") or DEFAULT_DB_STATEMENT_TIMEOUT_S)
    shared = None
    if app.config.get("RESPONSE_CACHE_SHARED", False):
        store: StoreSettings = app.extensions[STORE_EXTENSION_KEY]
        scope = f"{code_fingerprint()}|{store.currency}|{store.exponent}|{store.timezone}"
        shared = SharedResponses(database, scope, lease_s=wait_s)
    snapshots = Snapshots(
        ResponseCache(entries),
        shared,
        wait_s=wait_s,
        read_version=lambda: current_version(database),
        keep_warm_s=env_seconds(
            {"ANALYTICS_KEEP_WARM": str(app.config.get("ANALYTICS_KEEP_WARM", 0))},
            "ANALYTICS_KEEP_WARM",
            default=0.0,
            allow_zero=True,
        ),
    )
    # Nothing kept warm, and no lease left held, once the app's connections are closed (a
    # worker exiting, a test tearing down).
    database.on_dispose.append(snapshots.close)
    app.extensions[CACHE_KEY] = snapshots
