"""Database credentials that follow rotation of the RDS-managed master secret.

RDS rotates the secret it manages (every 7 days by default). ECS injects ``DB_USERNAME`` and
``DB_PASSWORD`` only when a task starts, so a long-running task would keep a stale password
and fail on its next new connection. When ``DB_SECRET_ARN`` is set, every new connection takes
its user and password from ``SecretCredentials``: cached for ``ttl`` seconds, and fetched
again at once when the database refuses them (the password just rotated).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

DEFAULT_TTL_SECONDS = 300.0
"""How long fetched credentials are reused before asking Secrets Manager again."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


Fetch = Callable[[], Credentials]


def secrets_manager_fetch(secret_arn: str, region: str | None = None) -> Fetch:
    """A ``Fetch`` reading ``{"username", "password"}`` from a Secrets Manager secret."""

    def fetch() -> Credentials:
        import boto3  # imported lazily: only deployments that rotate need it

        client = boto3.client("secretsmanager", region_name=region or _region_of(secret_arn))
        value = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
        return Credentials(username=value["username"], password=value["password"])

    return fetch


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


class SecretCredentials:
    """Thread-safe cache of credentials with forced refresh; ``clock`` is injectable."""

    def __init__(
        self,
        fetch: Fetch,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Credentials | None = None
        self._fetched_at = 0.0

    def get(self) -> Credentials:
        with self._lock:
            if self._value is None or self._clock() - self._fetched_at >= self._ttl:
                self._store(self._fetch())
            assert self._value is not None
            return self._value

    def refresh(self) -> Credentials:
        with self._lock:
            self._store(self._fetch())
            assert self._value is not None
            return self._value

    def _store(self, value: Credentials) -> None:
        self._value = value
        self._fetched_at = self._clock()


def use_rotating_credentials(engine: Engine, credentials: SecretCredentials) -> None:
    """Make every new connection of ``engine`` log in with the current ``credentials``."""
    dbapi = engine.dialect.loaded_dbapi

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        current = credentials.get()
        cparams.update(user=current.username, password=current.password)
        try:
            return dbapi.connect(*cargs, **cparams)
        except dbapi.OperationalError:
            # Most likely the password rotated since it was cached: fetch it and try once more.
            fresh = credentials.refresh()
            if fresh == current:
                raise
            cparams.update(user=fresh.username, password=fresh.password)
            return dbapi.connect(*cargs, **cparams)
