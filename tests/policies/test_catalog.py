"""Rule metadata, the SDK policies built from it, and the pack entry point."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
import yaml
from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from platformkit.policy import (
    ALL_POLICIES,
    RULES,
    Rule,
    WaiverSet,
    build_policies,
    rule_metadata,
)
from platformkit.policy.pack import PACK_DIRECTORY, PRESETS

from .helpers import CONFIG_DIR, REPO_ROOT, Reporter, resource_args

VERBS = {"Require", "Forbid", "Keep", "Restrict", "Flag", "Recommend", "Report", "Cap"}


def test_at_least_35_rules():
    assert len([r for r in RULES if r.name != "waived-violations"]) >= 35


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_metadata_is_complete(rule):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
    assert rule.description.split()[0] in VERBS and rule.description.endswith(".")
    assert rule.remediation and rule.severity
    meta = rule_metadata(rule.name)
    assert meta["severity"] in {"low", "medium", "high", "critical"}
    assert meta["tags"][0] == rule.area


def test_rules_carry_anchor_ids_in_tags_and_framework():
    policy = next(p for p in ALL_POLICIES if p.name == "rds-storage-encrypted")
    assert {
        "checkov:CKV_AWS_16",
        "cdk-nag:AwsSolutions-RDS2",
        "awsguard:rds-storage-encrypted",
    } <= set(policy.tags or [])
    assert policy.framework is not None and "CKV_AWS_16" in (policy.framework.reference or "")
    assert policy.remediation_steps and policy.url


def test_names_are_unique_and_waived_violations_runs_last():
    names = [p.name for p in build_policies(WaiverSet.empty())]
    assert len(names) == len(set(names)) == len(RULES)
    assert names[-1] == "waived-violations"
    last = build_policies(WaiverSet.empty())[-1]
    assert isinstance(last, StackValidationPolicy)
    assert last.enforcement_level == EnforcementLevel.ADVISORY


def test_sdk_accepts_every_policy_and_schema():
    servicer = _PolicyAnalyzerServicer(
        "platformkit-aws", "0.1.0", build_policies(WaiverSet.empty()), EnforcementLevel.MANDATORY
    )
    info = servicer.GetAnalyzerInfo(None, None)
    assert [p.name for p in info.policies] == [r.name for r in RULES]
    assert all("failOnUnknown" in p.configSchema.properties for p in info.policies)


@pytest.mark.parametrize(
    "entry", [REPO_ROOT / "policies" / "__main__.py", PACK_DIRECTORY / "__main__.py"], ids=str
)
def test_each_pack_entry_point_only_serves_the_one_pack(entry):
    # The shipped pack and this repository's differ only in where waivers come from.
    tree = ast.parse(entry.read_text(encoding="utf-8"))
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "serve" in calls and "PolicyPack" not in calls
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "platformkit.policy.pack" in imports


def test_the_repository_pack_runs_in_the_repository_venv():
    project = yaml.safe_load(
        (REPO_ROOT / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    )
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "../.venv"


def test_the_shipped_pack_runs_in_the_environment_it_is_installed_in():
    # A virtualenv path relative to site-packages would name a venv that does not exist.
    project = yaml.safe_load((PACK_DIRECTORY / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert project["runtime"] == "python"


def test_the_shipped_configs_are_the_repository_stacks_configs():
    # dev and prod here use the profiles every consumer gets, unchanged (policies/config
    # links to them), so the rule table in docs/policies.md describes both.
    for preset in PRESETS:
        shipped = (PACK_DIRECTORY / "config" / f"{preset}.json").read_text(encoding="utf-8")
        assert (CONFIG_DIR / f"{preset}.json").read_text(encoding="utf-8") == shipped


@pytest.mark.parametrize("rule", [r for r in RULES if r.kind == "resource"], ids=lambda r: r.name)
def test_every_resource_rule_declares_the_types_it_judges(rule):
    # An empty tuple would make the rule judge every resource, the stack and providers included.
    assert rule.resource_types
    assert all(token.count(":") == 2 for token in rule.resource_types)


@pytest.mark.parametrize(
    ("declared", "judged"),
    [
        ((), ["aws:s3/bucket:Bucket", "pulumi:pulumi:Stack"]),
        (("aws:s3/bucket:Bucket",), ["aws:s3/bucket:Bucket"]),
    ],
)
def test_declared_types_decide_which_resources_a_rule_judges(declared, judged):
    def always(args, report):
        report(f"saw {args.resource_type}", None)

    rule = Rule(
        name="test-always-reports",
        description="Report every resource it sees.",
        area="test",
        severity=Severity.LOW,
        remediation="None.",
        validate=always,
        resource_types=declared,
    )
    for type_token in ("aws:s3/bucket:Bucket", "pulumi:pulumi:Stack"):
        direct, through_sdk = Reporter(), Reporter()
        rule.check(resource_args(type_token, {}), direct)
        policy: Any = rule.to_policy()
        policy.validate(resource_args(type_token, {}), through_sdk)
        expected = [f"saw {type_token}"] if type_token in judged else []
        assert direct.messages == through_sdk.messages == expected
