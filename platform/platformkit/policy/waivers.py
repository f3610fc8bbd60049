"""Waivers: time-boxed, owned exceptions to a rule for named resources.

A waiver file (``policies/waivers.yaml``, or the path in ``$PLATFORMKIT_WAIVERS``) is a YAML
list (or a mapping with a ``waivers`` list) of entries::

    - rule: alb-https-only            # a rule name from the catalog
      resource: "*-web-http"          # a URN (glob allowed) or a resource-name glob
      reason: dev has no certificate; ticket PLAT-42
      owner: platform-team@example.com
      expires: 2026-06-30             # last day the waiver applies (inclusive)

A matching, unexpired waiver removes the violation from its rule's diagnostics and records it;
the advisory stack policy ``waived-violations`` then reports every record as one line::

    platformkit-waiver: {"expires": "...", "message": "...", "owner": "...", ...}

``parse_waiver_message`` reads such a line back, so a report writer can turn it into e.g. a
SARIF suppression. An expired waiver no longer waives: the violation is reported under its rule
(with a note) and the stale waiver is reported by ``waived-violations`` with status ``expired``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

import yaml
from pulumi_policy import ReportViolation, StackValidationArgs

from .core import urn_name

WAIVERS_ENV = "PLATFORMKIT_WAIVERS"
"""Environment variable that overrides the waiver file path."""

MESSAGE_PREFIX = "platformkit-waiver:"
"""Stable prefix of every line ``waived-violations`` reports; JSON follows it."""

REQUIRED_KEYS = ("rule", "resource", "reason", "owner", "expires")

Status = Literal["waived", "expired"]


class WaiverError(ValueError):
    """The waiver file is invalid; ``errors`` names each offending entry and key."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"invalid waiver file {source}:\n  " + "\n  ".join(errors))


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    owner: str
    expires: dt.date
    """Last day (inclusive) on which the waiver applies."""

    def matches(self, rule: str, urn: str) -> bool:
        """Whether the waiver names this rule and this resource (URN glob or name glob)."""
        if rule != self.rule:
            return False
        if self.resource.startswith("urn:"):
            return fnmatchcase(urn, self.resource)
        return fnmatchcase(urn_name(urn), self.resource)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class WaiverRecord:
    """One waived violation or one expired waiver, as reported by ``waived-violations``."""

    status: Status
    rule: str
    urn: str
    owner: str
    reason: str
    expires: str
    message: str

    def to_message(self) -> str:
        return f"{MESSAGE_PREFIX} {json.dumps(asdict(self), sort_keys=True)}"


def parse_waiver_message(text: str) -> WaiverRecord | None:
    """Read back a record from a diagnostic message (the SDK prefixes it with a description)."""
    for line in text.splitlines():
        if line.startswith(MESSAGE_PREFIX):
            data = json.loads(line[len(MESSAGE_PREFIX) :])
            status: Status = "expired" if data.get("status") == "expired" else "waived"
            return WaiverRecord(
                status=status,
                rule=str(data["rule"]),
                urn=str(data["urn"]),
                owner=str(data["owner"]),
                reason=str(data["reason"]),
                expires=str(data["expires"]),
                message=str(data["message"]),
            )
    return None


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_waivers(data: Any, known_rules: Collection[str], source: str = "waivers") -> list[Waiver]:
    """Validate and parse waiver data (already loaded from YAML); raise ``WaiverError``.

    Every problem is collected, each naming the entry (index and rule) and the key at fault.
    """
    if isinstance(data, Mapping) and set(data) <= {"waivers"}:
        data = data.get("waivers")
    if data is None:
        return []
    if not isinstance(data, list):
        raise WaiverError(source, ["expected a list of waivers (or a mapping with 'waivers')"])
    errors: list[str] = []
    waivers: list[Waiver] = []
    for index, entry in enumerate(data):
        where = f"waivers[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: expected a mapping with keys {', '.join(REQUIRED_KEYS)}")
            continue
        if isinstance(entry.get("rule"), str):
            where += f" (rule {entry['rule']!r})"
        entry_errors = [f"{where}: missing '{key}'" for key in REQUIRED_KEYS if key not in entry]
        entry_errors += [
            f"{where}: unknown key '{key}'" for key in entry if key not in REQUIRED_KEYS
        ]
        for key in ("rule", "resource", "reason", "owner"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                entry_errors.append(f"{where}: '{key}' must be a non-empty string")
        rule = entry.get("rule")
        if isinstance(rule, str) and rule.strip() and rule not in known_rules:
            entry_errors.append(f"{where}: unknown rule {rule!r}")
        expires = _parse_date(entry.get("expires"))
        if "expires" in entry and expires is None:
            entry_errors.append(
                f"{where}: 'expires' must be a date YYYY-MM-DD, got {entry['expires']!r}"
            )
        if entry_errors or expires is None:
            errors.extend(entry_errors)
            continue
        waivers.append(
            Waiver(
                rule=str(entry["rule"]),
                resource=str(entry["resource"]),
                reason=str(entry["reason"]).strip(),
                owner=str(entry["owner"]).strip(),
                expires=expires,
            )
        )
    if errors:
        raise WaiverError(source, errors)
    return waivers


class WaiverSet:
    """Parsed waivers plus the clock that decides expiry (injectable for tests)."""

    def __init__(
        self, waivers: Iterable[Waiver] = (), today: Callable[[], dt.date] = dt.date.today
    ) -> None:
        self.waivers = tuple(waivers)
        self.today = today

    @classmethod
    def empty(cls) -> WaiverSet:
        return cls()

    def match(self, rule: str, urn: str) -> tuple[Waiver | None, Waiver | None]:
        """``(active, expired)``: the first unexpired matching waiver, else an expired one."""
        today = self.today()
        expired: Waiver | None = None
        for waiver in self.waivers:
            if waiver.matches(rule, urn):
                if not waiver.expired(today):
                    return waiver, None
                expired = expired or waiver
        return None, expired

    def expired_waivers(self) -> list[Waiver]:
        today = self.today()
        return [w for w in self.waivers if w.expired(today)]


def resolve_waivers_path(default: Path | None) -> Path | None:
    """``$PLATFORMKIT_WAIVERS`` when set, else ``default``."""
    override = os.environ.get(WAIVERS_ENV)
    return Path(override) if override else default


def load_waivers(
    path: Path | None,
    known_rules: Collection[str],
    today: Callable[[], dt.date] = dt.date.today,
) -> WaiverSet:
    """Load ``path`` (after the env override); a missing default file means no waivers.

    A path named by ``$PLATFORMKIT_WAIVERS`` must exist: a typo there would otherwise
    silently drop every waiver.
    """
    resolved = resolve_waivers_path(path)
    if resolved is None:
        return WaiverSet(today=today)
    if not resolved.exists():
        if os.environ.get(WAIVERS_ENV):
            raise WaiverError(str(resolved), [f"file named by ${WAIVERS_ENV} does not exist"])
        return WaiverSet(today=today)
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise WaiverError(str(resolved), [f"not valid YAML: {error}"]) from error
    return WaiverSet(parse_waivers(data, known_rules, str(resolved)), today=today)


class WaiverLedger:
    """Records produced while rules run, for ``waived-violations`` to report.

    The analyzer serves requests from a thread pool, hence the lock. Records are keyed so the
    same finding seen at preview and again at update is reported once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, ...], WaiverRecord] = {}

    def record(self, record: WaiverRecord) -> None:
        key = (record.status, record.rule, record.urn, record.message)
        with self._lock:
            self._records.setdefault(key, record)

    def records(self) -> list[WaiverRecord]:
        with self._lock:
            return list(self._records.values())


def record_for(status: Status, waiver: Waiver, urn: str, message: str) -> WaiverRecord:
    return WaiverRecord(
        status=status,
        rule=waiver.rule,
        urn=urn,
        owner=waiver.owner,
        reason=waiver.reason,
        expires=waiver.expires.isoformat(),
        message=message,
    )


def apply_waivers(
    rule: str,
    urn: str,
    violations: Iterable[tuple[str, str | None]],
    waivers: WaiverSet,
    ledger: WaiverLedger,
) -> list[tuple[str, str | None]]:
    """Split a rule's violations: return those still to report, record the waived ones.

    ``urn`` is the resource being validated (resource policies); a stack policy passes ``""``
    and each violation carries its own URN.
    """
    kept: list[tuple[str, str | None]] = []
    for message, violation_urn in violations:
        target = violation_urn or urn
        active, expired = waivers.match(rule, target)
        if active is not None:
            ledger.record(record_for("waived", active, target, message))
            continue
        if expired is not None:
            ledger.record(record_for("expired", expired, target, message))
            message = (
                f"{message} (waiver owned by {expired.owner} expired on "
                f"{expired.expires.isoformat()}; renew it or fix the resource)"
            )
        kept.append((message, violation_urn))
    return kept


def make_waiver_report(
    waivers: WaiverSet, ledger: WaiverLedger
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """The ``waived-violations`` validator: one advisory line per record and expired waiver."""

    def validate_waived_violations(args: StackValidationArgs, report: ReportViolation) -> None:
        del args  # the ledger, filled while the rules ran, is the input
        reported_expired: set[Waiver] = set()
        for record in sorted(ledger.records(), key=lambda r: (r.status, r.rule, r.urn)):
            report(record.to_message(), record.urn or None)
            if record.status == "expired":
                reported_expired.update(
                    w for w in waivers.expired_waivers() if w.matches(record.rule, record.urn)
                )
        for waiver in waivers.expired_waivers():
            if waiver not in reported_expired:
                report(record_for("expired", waiver, "", "").to_message(), None)

    return validate_waived_violations
