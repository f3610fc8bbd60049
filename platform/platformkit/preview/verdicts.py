"""The policy gate's verdicts: each violation, per pack, and for the whole preview.

``policy_gate.run_gate`` builds a ``GateReport``; it is the ``policy`` field of the
``PreviewResult``, where every reporter reads it. Kept apart from the gate so the result can
name its type without importing the machinery that starts packs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from platformkit.preview.errors import EXIT_OK, EXIT_VIOLATIONS

if TYPE_CHECKING:
    # Annotations only: a reporter importing this module does not load the policy rules or
    # the analyzer client.
    from platformkit.policy import WaiverRecord
    from platformkit.preview.analyzer import AnalyzerInfo, PolicyInfo
    from platformkit.preview.recording import SourcePosition

SEVERITY_ORDER = ("critical", "high", "medium", "low", "unspecified")
"""Severities from most to least severe: the order reports list violations in."""


@dataclass(frozen=True)
class Violation:
    """A diagnostic of a policy, on one resource (or the stack)."""

    pack: str
    rule: str
    level: str
    """``mandatory``, ``advisory`` or ``remediate`` (as the pack reported it)."""
    severity: str
    urn: str
    type: str
    name: str
    message: str
    """The pack's message without the policy description it starts with."""
    description: str
    source: SourcePosition | None = None
    waiver: WaiverRecord | None = None
    """Set when a waiver suppressed this violation (it then does not fail the gate)."""


@dataclass
class PackReport:
    """What one pack said about one preview."""

    directory: Path
    info: AnalyzerInfo
    levels: dict[str, str]
    """Effective enforcement level per policy (after the config)."""
    violations: list[Violation] = field(default_factory=list)
    """Reported and waived violations (``waiver`` set), in a stable order."""
    waivers: list[WaiverRecord] = field(default_factory=list)
    """Every waiver record the pack reported (waived and expired)."""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    def policy(self, name: str) -> PolicyInfo | None:
        for policy in self.info.policies:
            if policy.name == name:
                return policy
        return None


@dataclass
class GateReport:
    """Verdicts of every pack; the exit code follows from the mandatory violations."""

    packs: list[PackReport]

    @property
    def violations(self) -> list[Violation]:
        return [v for pack in self.packs for v in pack.violations]

    @property
    def active(self) -> list[Violation]:
        """Violations not suppressed by a waiver."""
        return [v for v in self.violations if v.waiver is None]

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.active if v.level in ("mandatory", "remediate")]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.active if v.level == "advisory"]

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.waiver is not None]

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATIONS if self.mandatory else EXIT_OK
