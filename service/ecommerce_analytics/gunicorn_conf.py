"""Gunicorn settings for a 2-vCPU Fargate task with a read-only root filesystem.

``gunicorn -c python:ecommerce_analytics.gunicorn_conf "ecommerce_analytics:create_app()"``.
Every value can be overridden with the usual ``GUNICORN_CMD_ARGS`` or the variables below.
"""

from __future__ import annotations

import os
from typing import Any

# 2 vCPU: 2 x CPUs workers, each with threads for requests waiting on the database.
bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# gunicorn's gthread worker, with its own error answers (414, 431, 400) in problem+json.
worker_class = "ecommerce_analytics.gunicorn_worker.ProblemThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Heartbeat files must live on a writable filesystem: /tmp is the only one.
worker_tmp_dir = "/tmp"
timeout = 30
graceful_timeout = 20
# Longer than the ALB idle timeout (60 s) so the load balancer closes idle connections first.
keepalive = 75
# Recycle workers now and then as a backstop against memory growth (the response cache is
# bounded); jitter avoids restarting all at once. Each restart costs a second of CPU for
# imports and an empty per-worker cache, refilled from the shared one (``response_cache``)
# rather than recomputed, so not every few seconds under load (see docs/benchmarks.md).
max_requests = 100_000
max_requests_jitter = 10_000
# The app logs one JSON line per request (with metrics); gunicorn's access log would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Each worker builds its own app, engine and pool after the fork.
preload_app = False
forwarded_allow_ips = "*"


def on_starting(server: Any) -> None:
    """Apply migrations once per task before workers start, when ``MIGRATE_ON_START`` is on
    (default off; the image sets ``1``). A value that is not an on/off word stops the start
    with an error naming the variable, rather than silently skipping the migrations."""
    from ecommerce_analytics.config import env_flag

    if not env_flag(os.environ, "MIGRATE_ON_START", default=False):
        return
    from flask_migrate import upgrade  # type: ignore[import-untyped]

    from ecommerce_analytics import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    app.extensions["ecommerce_analytics.db"].dispose()


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, as it exits (``max_requests`` recycling, a deploy's SIGTERM): close the
    app's database, which first ends the shared leases held by refreshes still running on its
    daemon threads (``Snapshots.close``). Without it each such lease holds every other worker
    off that answer until the lease expires (``DB_STATEMENT_TIMEOUT``, 15 s): the 15 s
    staleness probe of docs/benchmarks.md's seventh live round."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None)
    database = extensions.get("ecommerce_analytics.db") if extensions is not None else None
    if database is not None:
        database.dispose()
