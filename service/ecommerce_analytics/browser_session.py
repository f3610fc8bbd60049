"""The dashboard's session cookie: a browser's stand-in for a key, for reads only.

The value is ``<prefix>.<expires>.<mac>``: the key's prefix (its second segment, not secret),
the Unix second it expires, and HMAC-SHA256 over both keyed by the key's stored hash. Nothing
is kept server-side: each request looks the prefix up with the key itself (``auth.py``, the
same single statement), so a revoked or deleted key's cookie fails on its next request, and
the MAC proves whoever set it presented the key (only the service and the database hold the
hash; the key cannot be recovered from it). Someone who can read the database could forge a
cookie, but it only reads what they can already read there. docs/api.md gives the reasoning.
"""

from __future__ import annotations

import hashlib
import hmac

COOKIE_NAME = "eak_session"
# The API's read endpoints are the only ones that honour it; the pages under /dashboard/ and
# /docs need no credentials, so the browser sends it nowhere else.
COOKIE_PATH = "/api/v1/"
# Distinguishes this MAC from any other use of the hash as a key.
_CONTEXT = b"ecommerce-analytics dashboard session v1|"


def _mac(key_hash: str, prefix: str, expires: int) -> str:
    message = _CONTEXT + f"{prefix}|{expires}".encode()
    return hmac.new(key_hash.encode(), message, hashlib.sha256).hexdigest()


def sign(key_hash: str, prefix: str, expires: int) -> str:
    """The cookie value for the key stored as ``key_hash``, valid until ``expires`` (Unix s)."""
    return f"{prefix}.{expires}.{_mac(key_hash, prefix, expires)}"


def parse(value: str) -> tuple[str, int, str] | None:
    """``(prefix, expires, mac)`` of a cookie value, or ``None`` when it is not one."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    return parts[0], int(parts[1]), parts[2]


def is_valid(key_hash: str, prefix: str, expires: int, mac: str, now: float) -> bool:
    """Whether ``mac`` is the one :func:`sign` gave for these values and ``expires`` is after
    ``now``. Compared in constant time."""
    matches = hmac.compare_digest(_mac(key_hash, prefix, expires), mac)
    return matches and expires > now
