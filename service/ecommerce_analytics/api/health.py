"""``/healthz``: the process answers. ``/readyz``: the database answers and is migrated."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from ..db import get_db
from ..migrations_state import pending_migrations
from ..schemas import Health
from .routing import endpoint

bp = Blueprint("health", __name__)


@endpoint(bp, "/healthz", summary="Liveness", scope=None, response=Health)
def healthz() -> Health:
    """Always 200 while the process serves requests; touches nothing else."""
    return Health(status="ok")


@endpoint(bp, "/readyz", summary="Readiness", scope=None, response=Health, errors=(503,))
def readyz() -> Health | tuple[Health, int]:
    """200 when the database answers and its schema is at the latest migration, else 503."""
    checks: dict[str, str] = {}
    try:
        with get_db().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            pending = pending_migrations(connection)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if not pending else "pending: " + ", ".join(pending)
    except Exception as exc:  # any failure means "not ready", never a 500
        current_app.logger.warning("readiness check failed: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
    return (
        (Health(status="ok", checks=checks), 200)
        if ready
        else (
            Health(status="unavailable", checks=checks),
            503,
        )
    )
