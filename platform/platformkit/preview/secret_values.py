"""Stand-ins for ``secure:`` config values, which cannot be decrypted offline.

A program uses its secrets: it passes a password to RDS, decodes a PEM private key, builds a
connection string. The literal ``[secret]`` breaks such programs, so a string secret gets a
value shaped by its key name instead: a PEM block for private keys and certificates, a password
meeting the usual complexity rules, a token. The value is derived from the key, so runs are
reproducible, and never printed: the key is marked secret, and reports redact by that mark.
"""

from __future__ import annotations

import base64

from platformkit.preview.identity import alnum, digest

_PEM_BODY_LINES = 6


def placeholder(key: str) -> str:
    """A plausible value for the string secret ``key`` (``project:name``)."""
    name = key.partition(":")[2].lower() or key.lower()
    seed = digest("secret", key)
    if ("key" in name and any(w in name for w in ("private", "ssh", "pem", "tls"))) or (
        "pem" in name
    ):
        return _pem("RSA PRIVATE KEY", seed)
    if "cert" in name:
        return _pem("CERTIFICATE", seed)
    if "password" in name or "passwd" in name:
        return f"Preview-{alnum(seed, 12)}-9!"
    return f"preview-{alnum(seed, 24)}"


def _pem(label: str, seed: str) -> str:
    body = base64.b64encode(bytes.fromhex(digest(seed) * 6)).decode()
    lines = [body[i : i + 64] for i in range(0, 64 * _PEM_BODY_LINES, 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])
