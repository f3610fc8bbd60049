"""The SARIF 2.1.0 report of the policy gate: one run per policy pack.

Each run's ``tool.driver`` lists the pack's policies as rules (id = policy name, short
description, remediation as help, severity/tags/Checkov/cdk-nag IDs as properties, URL as
``helpUri``). Each violation is a result: ``level`` ``error`` (mandatory, remediate) or
``warning`` (advisory), the message, the source line of the resource's registration relative
to the repository root (``%SRCROOT%``) and the URN as a logical location. A waived violation is
a result with an external suppression whose justification names reason, owner and expiry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from platformkit.preview.result import PreviewResult
from platformkit.preview.verdicts import PackReport, Violation

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
"""The numeric severity GitHub code scanning reads from ``security-severity``."""


def render_sarif(result: PreviewResult) -> str:
    """The SARIF log as indented JSON with a final newline."""
    return json.dumps(to_sarif(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_sarif(result: PreviewResult) -> dict[str, Any]:
    report = result.policy
    root = repository_root(result.project.directory)
    runs = [_run(pack, result, root) for pack in report.packs] if report else []
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}


def repository_root(directory: Path) -> Path:
    """The nearest ancestor holding ``.git`` (the project directory when there is none)."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def _run(pack: PackReport, result: PreviewResult, root: Path) -> dict[str, Any]:
    rules = [_rule(pack, policy.name) for policy in pack.info.policies]
    index = {policy.name: i for i, policy in enumerate(pack.info.policies)}
    driver: dict[str, Any] = {"name": pack.name, "rules": rules}
    if pack.version:
        driver["version"] = pack.version
    if pack.info.description:
        driver["fullDescription"] = {"text": pack.info.description}
    return {
        "tool": {"driver": driver},
        "originalUriBaseIds": {SRCROOT: {"uri": root.absolute().as_uri() + "/"}},
        "automationDetails": {"id": f"platformkit-preview/{result.project.name}/{result.stack}/"},
        "results": [_result(v, index, result, root) for v in pack.violations],
        "properties": {"project": result.project.name, "stack": result.stack},
    }


def _rule(pack: PackReport, name: str) -> dict[str, Any]:
    policy = pack.policy(name)
    assert policy is not None
    level = pack.levels.get(name, policy.enforcement_level)
    properties: dict[str, Any] = {
        "severity": policy.severity,
        "enforcementLevel": level,
        "policyType": policy.kind,
        "tags": sorted(policy.tags),
        "checkov": sorted(t.split(":", 1)[1] for t in policy.tags if t.startswith("checkov:")),
        "cdkNag": sorted(t.split(":", 1)[1] for t in policy.tags if t.startswith("cdk-nag:")),
    }
    if policy.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[policy.severity]
    rule: dict[str, Any] = {
        "id": policy.name,
        "shortDescription": {"text": policy.description or policy.name},
        "defaultConfiguration": {
            "enabled": level != "disabled",
            "level": LEVELS.get(level, "none"),
        },
        "properties": properties,
    }
    if policy.display_name:
        rule["name"] = policy.display_name
    if policy.remediation:
        rule["help"] = {"text": policy.remediation}
    if policy.url:
        rule["helpUri"] = policy.url
    return rule


def _result(
    violation: Violation, index: dict[str, int], result: PreviewResult, root: Path
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "fullyQualifiedName": violation.urn or result.stack_urn,
                "name": violation.name or result.stack_name,
                "kind": "resource",
            }
        ]
    }
    physical = _physical(violation, root)
    if physical is not None:
        location["physicalLocation"] = physical
    entry: dict[str, Any] = {
        "ruleId": violation.rule,
        "level": LEVELS.get(violation.level, "note"),
        "message": {"text": violation.message or violation.description},
        "locations": [location],
        "properties": {
            "enforcementLevel": violation.level,
            "severity": violation.severity,
            "resourceType": violation.type,
        },
    }
    if violation.rule in index:
        entry["ruleIndex"] = index[violation.rule]
    if violation.waiver is not None:
        waiver = violation.waiver
        entry["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": (
                    f"{waiver.reason} (owner: {waiver.owner}; expires: {waiver.expires})"
                ),
            }
        ]
    return entry


def _physical(violation: Violation, root: Path) -> dict[str, Any] | None:
    source = violation.source
    if source is None or source.line < 1:
        return None
    parsed = urlparse(source.uri)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(source.uri)
    try:
        relative = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return None
    region: dict[str, Any] = {"startLine": source.line}
    if source.column >= 1:
        region["startColumn"] = source.column
    return {"artifactLocation": {"uri": relative, "uriBaseId": SRCROOT}, "region": region}
