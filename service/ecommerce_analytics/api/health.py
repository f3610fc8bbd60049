"""``/healthz``: the process answers. ``/readyz``: the database answers and is migrated."""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, current_app
from sqlalchemy import text

from ..db import Database, get_db, time_limit
from ..migrations_state import pending_migrations
from ..schemas import Health
from .routing import endpoint

bp = Blueprint("health", __name__)

READY_TIMEOUT_S = 2.0
"""``/readyz`` answers within this many seconds, whatever the database timeouts are."""
_PROBE_KEY = "ecommerce_analytics.readiness_probe"

log = logging.getLogger("ecommerce_analytics.health")


@endpoint(bp, "/healthz", summary="Liveness", scope=None, response=Health)
def healthz() -> Health:
    """Always 200 while the process serves requests; touches nothing else."""
    return Health(status="ok")


@endpoint(
    bp,
    "/readyz",
    summary="Readiness",
    scope=None,
    response=Health,
    responses={
        200: "Ready: the database answers and is at the latest migration",
        503: "Not ready: `checks` says which check failed",
    },
)
def readyz() -> Health | tuple[Health, int]:
    """200 when the database answers within 2 s and its schema is at the latest migration,
    else 503."""
    database = get_db()
    result: dict[str, str] = {}
    # One check at a time per worker process: while one waits on a hung database, later probes
    # answer 503 at once instead of each opening a connection that would wait too.
    running: threading.Lock = current_app.extensions.setdefault(_PROBE_KEY, threading.Lock())
    if running.acquire(blocking=False):

        def probe() -> None:
            try:
                result.update(_check(database))
            except Exception as exc:  # any failure means "not ready", never a 500
                log.warning("readiness check failed: %s", type(exc).__name__)
                result["database"] = "unreachable"
            finally:
                running.release()

        # In a thread, so the answer leaves on time whatever the driver waits for (a connect,
        # a pooled connection, a read); a late check finishes on its own.
        thread = threading.Thread(target=probe, name="readyz", daemon=True)
        thread.start()
        thread.join(READY_TIMEOUT_S)
    checks = dict(result) or {"database": "timeout"}
    ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
    return (
        (Health(status="ok", checks=checks), 200)
        if ready
        else (
            Health(status="unavailable", checks=checks),
            503,
        )
    )


def _check(database: Database) -> dict[str, str]:
    # On a connection of its own whose every wait is bounded by READY_TIMEOUT_S (the connect;
    # then a PostgreSQL connection still waiting is cut, MySQL's gives up at each read's
    # timeout): a check stuck on a hung database ends a few seconds after its answer left, and
    # lets the next one run.
    engine = database.probe_engine(READY_TIMEOUT_S)
    with time_limit(READY_TIMEOUT_S), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        pending = pending_migrations(connection)
    return {
        "database": "ok",
        "migrations": "ok" if not pending else "pending: " + ", ".join(pending),
    }
