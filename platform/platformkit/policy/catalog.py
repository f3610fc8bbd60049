"""The rule catalog: every rule in pack order, lookups, and assembly of the SDK policies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)
from pulumi_policy.policy import Policy

from . import cost, ecr, ecs, iam, kms, load_balancer, logs, network, rds, s3, tagging
from .core import Rule, run_guarded
from .secrets import install as install_secret_marking
from .waivers import (
    WaiverLedger,
    WaiverSet,
    apply_waivers,
    load_waivers,
    make_waiver_report,
)

WAIVED_VIOLATIONS = "waived-violations"

WAIVED_VIOLATIONS_RULE = Rule(
    name=WAIVED_VIOLATIONS,
    description="Report every waived violation and every expired waiver.",
    area="waivers",
    kind="stack",
    severity=Severity.LOW,
    remediation=(
        "Nothing blocks; fix the waived resources before each waiver's expiry, then delete the "
        "waiver. Renew an expired waiver only with a new reason and owner sign-off."
    ),
    validate=make_waiver_report(WaiverSet.empty(), WaiverLedger()),
    enforcement_level=EnforcementLevel.ADVISORY,
)
"""Advisory stack policy that makes waivers visible; always runs last."""

RULES: tuple[Rule, ...] = (
    *network.RULES,
    *load_balancer.RULES,
    *s3.RULES,
    *ecs.RULES,
    *rds.RULES,
    *ecr.RULES,
    *logs.RULES,
    *kms.RULES,
    *iam.RULES,
    *tagging.RULES,
    *cost.RULES,
    WAIVED_VIOLATIONS_RULE,
)
"""Every rule, in the order the pack runs them (``waived-violations`` last)."""

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
RULE_NAMES: frozenset[str] = frozenset(RULES_BY_NAME)
WAIVABLE_RULE_NAMES: frozenset[str] = RULE_NAMES - {WAIVED_VIOLATIONS}


def get_rule(name: str) -> Rule:
    """The rule called ``name``; ``KeyError`` naming it otherwise."""
    try:
        return RULES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown policy rule {name!r}") from None


def rule_metadata(name: str) -> dict[str, Any]:
    """JSON-friendly metadata of one rule, for report writers (see ``docs/policies.md``)."""
    rule = get_rule(name)
    return {
        "name": rule.name,
        "description": rule.description,
        "area": rule.area,
        "kind": rule.kind,
        "severity": rule.severity.value,
        "defaultEnforcementLevel": rule.enforcement_level.value,
        "remediation": rule.remediation,
        "resourceTypes": list(rule.resource_types),
        "checkov": list(rule.checkov),
        "cdkNag": list(rule.cdk_nag),
        "awsguard": list(rule.awsguard),
        "tags": rule.tags,
        "url": rule.url,
        "configSchema": rule.config_properties(),
    }


def _waiver_aware(
    rule: Rule, waivers: WaiverSet, ledger: WaiverLedger
) -> Callable[[Any, ReportViolation], None]:
    """Wrap a rule's ``check``: unknown handling (``failOnUnknown``), then waivers.

    Violations are collected and forwarded after filtering, even when an unknown value aborts
    the validator midway, so what was found before the unknown is never lost.
    """

    def validate(
        args: ResourceValidationArgs | StackValidationArgs, report: ReportViolation
    ) -> None:
        collected: list[tuple[str, str | None]] = []

        def collect(message: str, urn: str | None = None) -> None:
            collected.append((message, urn))

        urn = args.urn if isinstance(args, ResourceValidationArgs) else ""
        try:
            run_guarded(rule.check, args, collect)
        finally:
            for message, violation_urn in apply_waivers(rule.name, urn, collected, waivers, ledger):
                report(message, violation_urn)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def build_policies(
    waivers: WaiverSet | None = None,
    *,
    waivers_file: Path | None = None,
    ledger: WaiverLedger | None = None,
    today: Callable[[], dt.date] = dt.date.today,
) -> list[Policy]:
    """Every rule as an SDK policy, wrapped for unknowns and waivers, ``waived-violations`` last.

    ``waivers`` wins; otherwise ``waivers_file`` (or ``$PLATFORMKIT_WAIVERS``) is loaded and
    validated now, so a bad waiver file stops the pack at start-up with a clear error.
    """
    # Lets rules tell secret inputs from literals (rds-no-literal-master-password).
    install_secret_marking()
    if waivers is None:
        waivers = load_waivers(waivers_file, WAIVABLE_RULE_NAMES, today=today)
    ledger = ledger if ledger is not None else WaiverLedger()
    policies: list[Policy] = []
    for rule in RULES:
        if rule.name == WAIVED_VIOLATIONS:
            policies.append(rule.to_policy(make_waiver_report(waivers, ledger)))
        else:
            policies.append(rule.to_policy(_waiver_aware(rule, waivers, ledger)))
    return policies


ALL_POLICIES: list[Policy] = build_policies(WaiverSet.empty())
"""Every policy, with unknown handling and no waivers (no file is read at import)."""
