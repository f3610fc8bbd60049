"""Settings read from the environment (12-factor), overridable by ``create_app(test_config)``.

Environment variables (all optional):

- ``DATABASE_URL``: a SQLAlchemy URL. Wins over the ``DB_*`` variables.
- ``DB_ENGINE`` (``mysql`` or ``postgres``), ``DB_HOST``, ``DB_PORT``, ``DB_NAME``,
  ``DB_USERNAME``, ``DB_PASSWORD``: injected by the platform's WebService component from the
  RDS-managed secret. Used when ``DATABASE_URL`` is unset and ``DB_HOST`` is set.
- ``DB_SSL_CA``: CA bundle that verifies the database's TLS certificate (the image ships the
  RDS bundle and sets it). With it, MySQL connections use TLS (``ssl_ca``) and PostgreSQL ones
  ``sslmode=verify-full``; RDS parameter groups from platformkit refuse plain connections.
- ``DB_SECRET_ARN``: the RDS-managed secret; when set, each new connection reads the current
  user and password from it (see ``db_credentials.py``), so rotation never strands a task.
- ``DB_CONNECT_TIMEOUT``: seconds to wait for a new database connection, and for a free one
  from the pool. Defaults to ``5`` (PostgreSQL counts whole seconds, at least 2).
- ``DB_STATEMENT_TIMEOUT``: seconds a statement may run before the server cancels it; one
  second later the client gives up on a server that stopped answering (``db/watchdog.py``).
  ``0`` disables both. Defaults to ``15``: uncached analytics reads on 10M orders take up to ~13 s.
  Migrations run without it.
- Neither: an embedded SQLite file in the Flask instance folder.
- ``STORE_CURRENCY``: ISO 4217 code of the store currency. Defaults to ``USD``.
- ``STORE_TIMEZONE``: IANA zone that defines day boundaries. Defaults to ``UTC``.
- ``RATE_LIMIT_PER_MINUTE``: requests per API key per minute, per worker process; ``0``
  disables. Defaults to ``600``.
- ``RESPONSE_CACHE_ENTRIES``: analytics answers each worker process keeps (see ``cache/``);
  ``0`` disables (every request computes). Defaults to ``512``.
- ``RESPONSE_CACHE_SHARED``: also keep those answers in the database (``response_cache``), so
  one computation serves every worker and task (a lease makes one of them compute each answer
  at a time), and a restarted worker starts warm. ``true``/``false`` (also ``1``/``0``,
  ``yes``/``no``). Defaults to ``true``.
- ``ANALYTICS_MAX_STALENESS``: seconds an answer of a *bounded* endpoint (sales, customers,
  returning-rate, ltv-distribution, churn-risk: too costly to recompute on every write) may
  lag the latest writes; a stale answer is served with its age while it is recomputed in the
  background (see ``cache/serving.py``). A number, optionally followed by
  ``,operation=seconds`` overrides for any bounded or ranked operation (``5,rfm=30``). ``0``
  makes them live (read-your-writes). Defaults to ``5``. Live endpoints (orders, products,
  cohorts, bought-together) always reflect every committed write.
- ``ANALYTICS_RANKING_MAX_STALENESS``: the same for the *ranked* endpoint (rfm), bounded on its
  own because it is the costliest computation (0.15-0.25 s at 10M orders from the RFM cells;
  it scored every customer, seconds each, until stop 17, and had a 60 s default then): a shop
  far larger may raise it, with ``ANALYTICS_KEEP_WARM``. Defaults to ``5``.
- ``ANALYTICS_KEEP_WARM``: seconds after its last read that a *ranked* answer is still
  refreshed ahead of its bound, without readers (``cache/warming.py``): a dashboard that
  comes back within it finds its rankings warm, at the cost of recomputing each ranking
  about every half bound while the window lasts (seconds of database time each at millions
  of customers). ``0`` disables (answers are then refreshed only when read). Defaults to
  ``0``; ``300`` keeps a dashboard's rankings warm for five minutes after its last visit.
- ``DASHBOARD_POLL_SECONDS``: how often the dashboard (``/dashboard/``) asks for new figures.
  Defaults to ``15``.
- ``DASHBOARD_SESSION_SECONDS``: lifetime of a dashboard sign-in (its cookie); revoking the key
  ends it sooner. Defaults to ``28800`` (8 hours).
- ``LOG_LEVEL``: defaults to ``INFO``.
- ``MAX_CONTENT_LENGTH``: request body limit in bytes. Defaults to 5 MiB.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy.engine import URL

DEFAULT_CURRENCY = "USD"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_RATE_LIMIT_PER_MINUTE = 600
DEFAULT_MAX_CONTENT_LENGTH = 5 * 1024 * 1024
DEFAULT_RESPONSE_CACHE_ENTRIES = 512
DEFAULT_DB_CONNECT_TIMEOUT_S = 5.0
# Above the ~13 s an uncached analytics read on 10M orders takes today.
DEFAULT_DB_STATEMENT_TIMEOUT_S = 15.0
DEFAULT_MAX_STALENESS_S = 5.0
DEFAULT_RANKING_MAX_STALENESS_S = 5.0
# Off: on the 2-core benchmark machine (database on the same cores) keeping the rankings warm
# at 10M orders under a 200 orders/s writer cost more than it saved (docs/benchmarks.md,
# "Fifth live round"). Worth it where the database has cores to spare for it.
DEFAULT_KEEP_WARM_S = 0.0
DEFAULT_DASHBOARD_POLL_S = 15.0
# A working day: long enough not to sign people out mid-task, short enough that a cookie left
# on a shared machine does not outlive it.
DEFAULT_DASHBOARD_SESSION_S = 8 * 3600.0
SQLITE_FILENAME = "ecommerce_analytics.sqlite3"
STORE_EXTENSION_KEY = "ecommerce_analytics.store"

# ISO 4217 minor units that differ from the usual two decimal places.
_CURRENCY_EXPONENTS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_DB_DRIVERS = {"mysql": "mysql+pymysql", "postgres": "postgresql+psycopg"}
_DB_DEFAULT_PORTS = {"mysql": 3306, "postgres": 5432}


def currency_exponent(code: str) -> int:
    """Decimal places of ``code`` (ISO 4217 minor units). Defaults to ``2``."""
    return _CURRENCY_EXPONENTS.get(code, 2)


def database_url_from_env(env: Mapping[str, str]) -> str | None:
    """Build the database URL from ``DATABASE_URL`` or the ``DB_*`` variables, if present."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    host = env.get("DB_HOST")
    if not host:
        return None
    engine = env.get("DB_ENGINE", "mysql").lower()
    if engine == "postgresql":
        engine = "postgres"
    if engine not in _DB_DRIVERS:
        raise ValueError(f"DB_ENGINE must be 'mysql' or 'postgres', got {engine!r}")
    url = URL.create(
        _DB_DRIVERS[engine],
        username=env.get("DB_USERNAME") or None,
        password=env.get("DB_PASSWORD") or None,
        host=host,
        port=int(env.get("DB_PORT") or _DB_DEFAULT_PORTS[engine]),
        database=env.get("DB_NAME") or "analytics",
        query=_query(engine, env.get("DB_SSL_CA")),
    )
    return url.render_as_string(hide_password=False)


def _query(engine: str, ssl_ca: str | None) -> dict[str, str]:
    if engine == "mysql":
        return {"charset": "utf8mb4", **({"ssl_ca": ssl_ca} if ssl_ca else {})}
    return {"sslmode": "verify-full", "sslrootcert": ssl_ca} if ssl_ca else {}


def config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask config keys read from ``env`` (defaults to ``os.environ``)."""
    env = os.environ if env is None else env
    config: dict[str, Any] = {
        "STORE_CURRENCY": env.get("STORE_CURRENCY", DEFAULT_CURRENCY),
        "STORE_TIMEZONE": env.get("STORE_TIMEZONE", DEFAULT_TIMEZONE),
        "RATE_LIMIT_PER_MINUTE": int(
            env.get("RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT_PER_MINUTE)
        ),
        "RESPONSE_CACHE_ENTRIES": int(
            env.get("RESPONSE_CACHE_ENTRIES", DEFAULT_RESPONSE_CACHE_ENTRIES)
        ),
        "RESPONSE_CACHE_SHARED": env_flag(env, "RESPONSE_CACHE_SHARED", default=True),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)),
        "DB_CONNECT_TIMEOUT": env_seconds(
            env, "DB_CONNECT_TIMEOUT", default=DEFAULT_DB_CONNECT_TIMEOUT_S, allow_zero=False
        ),
        "DB_STATEMENT_TIMEOUT": env_seconds(
            env, "DB_STATEMENT_TIMEOUT", default=DEFAULT_DB_STATEMENT_TIMEOUT_S, allow_zero=True
        ),
        "ANALYTICS_MAX_STALENESS": env.get("ANALYTICS_MAX_STALENESS", "").strip()
        or DEFAULT_MAX_STALENESS_S,
        "ANALYTICS_RANKING_MAX_STALENESS": env.get("ANALYTICS_RANKING_MAX_STALENESS", "").strip()
        or DEFAULT_RANKING_MAX_STALENESS_S,
        "ANALYTICS_KEEP_WARM": env_seconds(
            env, "ANALYTICS_KEEP_WARM", default=DEFAULT_KEEP_WARM_S, allow_zero=True
        ),
        "DASHBOARD_POLL_SECONDS": env_seconds(
            env, "DASHBOARD_POLL_SECONDS", default=DEFAULT_DASHBOARD_POLL_S, allow_zero=False
        ),
        "DASHBOARD_SESSION_SECONDS": env_seconds(
            env,
            "DASHBOARD_SESSION_SECONDS",
            default=DEFAULT_DASHBOARD_SESSION_S,
            allow_zero=False,
        ),
    }
    url = database_url_from_env(env)
    if url:
        config["DATABASE_URL"] = url
    if env.get("DB_SECRET_ARN"):
        config["DB_SECRET_ARN"] = env["DB_SECRET_ARN"]
    return config


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def env_flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """The on/off variable ``name``: ``default`` when unset or empty; ``ValueError`` naming
    the variable for anything but 1/true/yes/on or 0/false/no/off (any case)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"{name} must be one of {', '.join(_TRUE + _FALSE)}; got {raw!r}")
    return value in _TRUE


def env_seconds(env: Mapping[str, str], name: str, *, default: float, allow_zero: bool) -> float:
    """The duration variable ``name`` in seconds (decimals allowed): ``default`` when unset or
    empty; ``ValueError`` naming the variable for anything but a finite number above zero (or
    zero itself, when ``allow_zero``)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} must be a number of seconds, {bound}; got {raw!r}")
    return value


@dataclass(frozen=True)
class StalenessBounds:
    """Seconds each bounded endpoint's answer may lag the latest writes: the override for its
    operation id, else ``ranking`` for the ``ranked`` operations, else ``default``."""

    default: float
    overrides: Mapping[str, float]
    ranking: float = 0.0
    ranked: frozenset[str] = frozenset()

    def for_operation(self, operation_id: str) -> float:
        if operation_id in self.overrides:
            return self.overrides[operation_id]
        return self.ranking if operation_id in self.ranked else self.default

    @classmethod
    def parse(
        cls,
        raw: object,
        known: Iterable[str],
        *,
        ranking: object = 0,
        ranked: Iterable[str] = (),
    ) -> StalenessBounds:
        """``raw`` is a number or ``"<seconds>[,<operation>=<seconds>...]"``; ``known`` the
        operation ids that take a bound; ``ranking`` a number, the bound of the ``ranked``
        ones. ``ValueError`` naming the setting (``ANALYTICS_MAX_STALENESS``,
        ``ANALYTICS_RANKING_MAX_STALENESS``) and the bad part otherwise."""
        name = "ANALYTICS_MAX_STALENESS"
        ranking_name = "ANALYTICS_RANKING_MAX_STALENESS"
        for setting, value in ((name, raw), (ranking_name, ranking)):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError(f"{setting} must be a number of seconds; got {value!r}")
        rank_bound, rank_ops = _seconds(ranking_name, str(ranking).strip()), frozenset(ranked)
        if not isinstance(raw, str):
            return cls(_seconds(name, str(raw)), {}, rank_bound, rank_ops)
        first, *rest = raw.split(",")
        overrides: dict[str, float] = {}
        choices = sorted(known)
        for part in rest:
            operation, sep, value = part.partition("=")
            operation = operation.strip()
            if not sep or operation not in choices:
                raise ValueError(
                    f"{name}: {part.strip()!r} is not <operation>=<seconds> with an operation "
                    f"among {', '.join(choices)}"
                )
            overrides[operation] = _seconds(f"{name} ({operation})", value)
        return cls(_seconds(name, first), overrides, rank_bound, rank_ops)


def _seconds(name: str, raw: str) -> float:
    value = env_seconds({name: raw}, name, default=math.nan, allow_zero=True)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number of seconds, 0 or more; got {raw!r}")
    return value


@dataclass(frozen=True)
class StoreSettings:
    """The store facts every calculation needs: currency and the zone of day boundaries."""

    currency: str
    timezone: ZoneInfo

    @property
    def exponent(self) -> int:
        """Decimal places of the store currency."""
        return currency_exponent(self.currency)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StoreSettings:
        currency = str(config.get("STORE_CURRENCY", DEFAULT_CURRENCY)).upper()
        if not _CURRENCY_RE.match(currency):
            raise ValueError(f"STORE_CURRENCY must be an ISO 4217 code, got {currency!r}")
        zone = str(config.get("STORE_TIMEZONE", DEFAULT_TIMEZONE))
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"STORE_TIMEZONE must be an IANA zone, got {zone!r}") from exc
        return cls(currency=currency, timezone=tz)


def current_store() -> StoreSettings:
    """The running app's store settings (parsed once by ``create_app``)."""
    store: StoreSettings = current_app.extensions[STORE_EXTENSION_KEY]
    return store
