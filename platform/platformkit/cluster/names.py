"""Physical names AWS requires of the cluster's resources (ALB, buckets, policies, metrics)."""

from __future__ import annotations

import hashlib
import re

import pulumi

ALB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
BUCKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_AUTONAME_SUFFIX = 8  # Pulumi appends "-" and 7 random characters to a logical name.
MAX_ALB_NAME = 32
MAX_BUCKET_NAME = 63
MAX_POLICY_NAME = 255  # CloudWatch Logs resource policy names


def physical_name(logical: str, max_len: int, allowed: re.Pattern[str]) -> str | None:
    """Return ``None`` when Pulumi's autoname of ``logical`` fits AWS's naming rules.

    Otherwise return a stable name that does: ALB names stop at 32 characters and S3 bucket
    names at 63, lowercase only. The hash of project, stack and logical name keeps two stacks
    (or two long names sharing a prefix) from colliding in one account.
    """
    if allowed.match(logical) and len(logical) + _AUTONAME_SUFFIX <= max_len:
        if not logical.lower().startswith("internal-"):
            return None
    return stable_name(logical, max_len)


def stable_name(logical: str, max_len: int) -> str:
    """``<logical, lowercased>-<7 hex digits of project/stack/logical>``, at most ``max_len``.

    For names AWS requires and Pulumi cannot autoname, unique per stack in one account.
    """
    digest = hashlib.sha256(
        f"{pulumi.get_project()}/{pulumi.get_stack()}/{logical}".encode()
    ).hexdigest()[:7]
    stem = re.sub(r"[^a-z0-9]+", "-", logical.lower()).strip("-")
    stem = stem.removeprefix("internal-")[: max_len - _AUTONAME_SUFFIX].rstrip("-")
    return f"{stem}-{digest}" if stem else f"pk-{digest}"


def metric_name(*parts: str) -> str:
    # WAF metric names allow letters, digits and a few punctuation marks only.
    return re.sub(r"[^A-Za-z0-9_\-]", "-", "-".join(parts))[:128]
