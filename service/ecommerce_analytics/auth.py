"""API keys: ``Authorization: Bearer <key>``, scopes ``read``/``write``, per-key rate limits.

A request without an ``Authorization`` header may instead carry the dashboard's session cookie
(``browser_session.py``): it authorises ``GET``s of ``read`` endpoints only, never a write.

A key looks like ``eak_<prefix>_<secret>``. Only its SHA-256 is stored (keys are 256-bit
random, so a fast hash is safe); the prefix finds the row and ``hmac.compare_digest`` compares
the hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from . import browser_session
from .cache import version_subquery
from .db import Database, fetch_one, get_db
from .errors import Problem
from .models import ApiKey

SCOPES = ("read", "write")
KEY_PREFIX = "eak"
RATE_LIMITER_KEY = "ecommerce_analytics.rate_limiter"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, scopes: list[str], name: str) -> tuple[ApiKey, str]:
    """Store a new key; returns the row and the plaintext key (shown once, never stored)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {SCOPES}, got {scopes}")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        prefix=prefix,
        key_hash=hash_key(key),
        scopes=" ".join(s for s in SCOPES if s in scopes),
        name=name,
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row, key


@dataclass(frozen=True)
class ActiveKey:
    """What a request needs to know about the key that authenticated it."""

    prefix: str
    scope_set: frozenset[str]
    # The committed data version, read in the same statement as the key (see ``cache/versions.py``):
    # one round trip authenticates a cached read and validates its cache entry.
    data_version: int = 0


_KEYS = ApiKey.__table__
# Runs on every authenticated request, at the driver level (``db.fetch_one``). Keys are looked
# up in the database on every request (no per-worker key cache), so a revocation takes effect
# on the next request.
_FIND_KEY = select(
    _KEYS.c.key_hash, _KEYS.c.scopes, _KEYS.c.revoked_at, version_subquery().label("version")
).where(_KEYS.c.prefix == bindparam("prefix"))


def find_key(database: Database, key: str) -> ActiveKey | None:
    """The active key matching ``key``, or ``None``."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        # Still hash something so timing does not reveal the format check.
        hmac.compare_digest(hash_key(key), "0" * 64)
        return None
    row = fetch_one(database, _FIND_KEY, {"prefix": parts[1]})
    expected = row[0] if row is not None else "0" * 64
    matches = hmac.compare_digest(hash_key(key), expected)
    if row is None or not matches or row[2] is not None:
        return None
    _hash, scopes, _revoked_at, version = row
    scope_set = frozenset(s for s in scopes.split(" ") if s)
    return ActiveKey(parts[1], scope_set, int(version or 0))


def find_session(database: Database, cookie: str, now: float) -> ActiveKey | None:
    """The active key behind a dashboard session cookie, limited to the ``read`` scope, or
    ``None`` when the cookie is malformed, forged, expired or its key revoked."""
    parsed = browser_session.parse(cookie)
    if parsed is None:
        return None
    prefix, expires, mac = parsed
    row = fetch_one(database, _FIND_KEY, {"prefix": prefix})
    expected = row[0] if row is not None else "0" * 64
    valid = browser_session.is_valid(expected, prefix, expires, mac, now)
    if row is None or not valid or row[2] is not None:
        return None
    scope_set = frozenset(s for s in row[1].split(" ") if s) & {"read"}
    return ActiveKey(prefix, scope_set, int(row[3] or 0))


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="ecommerce-analytics"'},
    )


def _authenticate(scope: str) -> ActiveKey:
    """The key of the request's bearer header or, without one, of its session cookie."""
    header = request.headers.get("Authorization", "")
    cookie = request.cookies.get(browser_session.COOKIE_NAME)
    if not header and cookie is not None:
        # Reads only: a cookie rides along on any request the browser makes to /api/v1/, so
        # nothing a cookie authorises may change data (no CSRF can write).
        if scope != "read" or request.method not in ("GET", "HEAD"):
            raise _unauthorized(
                "A dashboard session authorises reads only; send an API key with the "
                "'write' scope as 'Authorization: Bearer <key>'."
            )
        row = find_session(get_db(), cookie, time.time())
        if row is None:
            raise _unauthorized(
                "The dashboard session has expired, or its key was revoked; sign in again."
            )
        return row
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must use the Bearer scheme.")
    row = find_key(get_db(), token.strip())
    if row is None:
        raise _unauthorized("The API key is unknown or revoked.")
    return row


def authorize(scope: str) -> ActiveKey:
    """Authenticate the request's bearer key (or dashboard session), check ``scope`` and the
    key's rate limit."""
    # Taken before the read: the version read then was current at least until this moment.
    read_at = time.time()
    row = _authenticate(scope)
    g.api_key_prefix = row.prefix
    g.data_version = row.data_version
    g.data_version_read_at = read_at
    if scope not in row.scope_set:
        raise Problem(
            403,
            "insufficient-scope",
            "Insufficient scope",
            f"This endpoint needs the {scope!r} scope; the key has {sorted(row.scope_set)}.",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    limiter: RateLimiter | None = current_app.extensions.get(RATE_LIMITER_KEY)
    if limiter is not None:
        decision = limiter.take(row.prefix)
        g.rate_limit = decision
        if not decision.allowed:
            raise Problem(
                429,
                "rate-limited",
                "Too many requests",
                f"This key may make {limiter.per_minute} requests per minute.",
                headers={"Retry-After": str(decision.retry_after)},
            )
    return row


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    """Token bucket per key, in process memory: each gunicorn worker limits independently, so
    the effective limit of a task is ``per_minute`` x workers."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        retry = 0 if allowed else math.ceil((1.0 - tokens) / self._rate)
        return Decision(allowed, self.per_minute, int(tokens), retry)
