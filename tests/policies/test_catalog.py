"""Rule metadata, the SDK policies built from it, and the pack entry point."""

from __future__ import annotations

import ast
import re

import pytest
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from platformkit.policy import ALL_POLICIES, RULES, WaiverSet, build_policies, rule_metadata

from .helpers import REPO_ROOT

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


def test_main_only_assembles_the_pack_from_build_policies():
    source = (REPO_ROOT / "policies" / "__main__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert {"PolicyPack", "build_policies"} <= calls
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "platformkit.policy" in imports


def test_policy_project_file_points_at_python_and_the_venv():
    import yaml

    project = yaml.safe_load(
        (REPO_ROOT / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    )
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "../.venv"
