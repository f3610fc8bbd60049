"""The Checkov findings a stack accepts, each with its reason: ``policies/checkov/<stack>.yaml``.

The file is a list under ``accepted``; each entry names a Checkov ``check`` id, the
``resource`` address it accepts it on (as the export writes it, or ``"*"`` for every
resource) and a one-line ``reason`` a reviewer can judge::

    accepted:
      - check: CKV_AWS_260
        resource: aws_vpc_security_group_ingress_rule.analytics-alb-in-80-0_0_0_0-0
        reason: Port 80 only answers with a redirect to HTTPS.

An entry that matches no finding is stale (the problem was fixed, or the resource renamed) and
is reported, so the file lists only what remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")


class BaselineError(ValueError):
    """The baseline file is missing, unreadable or malformed; the message names the entry."""


@dataclass(frozen=True)
class Accepted:
    """One accepted finding."""

    check: str
    """``CKV_AWS_260``."""
    resource: str
    """A Terraform address from the export, or ``"*"`` for every resource."""
    reason: str
    """Why it is accepted, one line."""

    def matches(self, check: str, resource: str) -> bool:
        """Whether this entry accepts ``check`` failing on ``resource``."""
        return self.check == check and self.resource in ("*", resource)


def load_baseline(path: Path) -> list[Accepted]:
    """The entries of the baseline at ``path``; ``BaselineError`` names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise BaselineError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, dict) or set(raw) - {"accepted"}:
        raise BaselineError(f"{path}: expected a mapping with the single key 'accepted'")
    entries = raw.get("accepted") or []
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: 'accepted' must be a list")
    return [_entry(path, i, entry) for i, entry in enumerate(entries, start=1)]


def _entry(path: Path, index: int, entry: Any) -> Accepted:
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        raise BaselineError(f"{where}: expected a mapping with check, resource and reason")
    unknown = set(entry) - {"check", "resource", "reason"}
    if unknown:
        raise BaselineError(f"{where}: unknown keys {sorted(unknown)}")
    check, resource, reason = entry.get("check"), entry.get("resource"), entry.get("reason")
    if not isinstance(check, str) or not _CHECK_ID.match(check):
        raise BaselineError(f"{where}: 'check' must be a Checkov id like CKV_AWS_21, got {check!r}")
    if not isinstance(resource, str) or not resource:
        raise BaselineError(f"{where} ({check}): 'resource' must be an address or '*'")
    if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
        raise BaselineError(f"{where} ({check}): 'reason' must be one non-empty line")
    return Accepted(check, resource, reason.strip())
