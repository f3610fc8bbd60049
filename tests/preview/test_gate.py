"""The offline policy gate, end to end: real pack subprocesses, the real analyzer protocol.

Each gate run starts ``policies/`` as the Pulumi CLI would (about 1-2 s), so runs are shared
through module-scoped fixtures and each deliberately insecure program carries several
violations, each checked by its own test.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from platformkit.cli import main
from platformkit.preview.analyzer import AnalyzerInfo, PolicyInfo
from platformkit.preview.policy_gate import ConfigFile, reconcile_config
from platformkit.preview.report_json import load_schema
from tests.preview.conftest import PROGRAMS, REPO

PACK = str(REPO / "policies")
DEV_CONFIG = str(REPO / "policies" / "config" / "dev.json")
PROD_CONFIG = str(REPO / "policies" / "config" / "prod.json")
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
DATA = PROGRAMS / "gate_insecure_data"
APP = PROGRAMS / "gate_insecure_app"

DATA_RULES = {
    "rds-not-public": "db-public",
    "rds-storage-encrypted": "db-public",
    "ec2-no-public-database-or-app-ports": "db-open",
    "cloudwatch-log-retention": "logs-forever",
    "ecr-immutable-tags": "images",
    "required-tags": "untagged",
    "s3-bucket-not-public": "public-site",
    "alb-target-group-health-check": "tg-no-check",
}
DATA_CLEAN = ("db-secret-password", "tg-default-check", "tg-no-path")
"""Resources of the insecure data program that only false positives would flag."""
APP_RULES = {
    "ecs-no-privileged-containers": "task",
    "ecs-no-secrets-in-environment": "task",
    "alb-drop-invalid-headers": "alb",
    "iam-no-wildcard-actions": "admin-ish",
}


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.out)
        return parsed


def gate(capfd: Any, program: Path | str, stack: str, *extra: str, config: str = DEV_CONFIG) -> Run:
    code = main(
        ["preview", str(program), "--stack", stack, "--policy-pack", PACK]
        + ["--policy-pack-config", config, *extra]
    )
    captured = capfd.readouterr()
    return Run(code, captured.out, captured.err)


def run_to_file(tmp: Path, program: Path, stack: str, fmt: str, *extra: str) -> Run:
    output = tmp / f"report.{fmt}"
    code = main(
        ["preview", str(program), "--stack", stack, "--policy-pack", PACK]
        + ["--policy-pack-config", DEV_CONFIG, "--format", fmt, "--output", str(output), *extra]
    )
    return Run(code, output.read_text(encoding="utf-8") if output.exists() else "", "")


@pytest.fixture(scope="module")
def data_sarif(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    run = run_to_file(tmp_path_factory.mktemp("data"), DATA, "test", "sarif")
    sarif: dict[str, Any] = json.loads(run.out)
    return run.code, sarif


@pytest.fixture(scope="module")
def app_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    run = run_to_file(tmp_path_factory.mktemp("app"), APP, "test", "json")
    return run.code, run.json()


def write_waivers(path: Path, rules: dict[str, str], expires: str) -> Path:
    entries = [
        {
            "rule": rule,
            "resource": name,
            "reason": f"accepted risk for {rule}; TICKET-1",
            "owner": "qa@example.com",
            "expires": expires,
        }
        for rule, name in rules.items()
    ]
    path.write_text(json.dumps({"waivers": entries}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def app_waived(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("waived")
    waivers = write_waivers(tmp / "waivers.json", APP_RULES, "2999-12-31")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLATFORMKIT_WAIVERS", str(waivers))
        run = run_to_file(tmp, APP, "test", "sarif")
    sarif: dict[str, Any] = json.loads(run.out)
    return run.code, sarif


@pytest.fixture(scope="module")
def app_expired_junit(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, ET.Element]:
    tmp = tmp_path_factory.mktemp("expired")
    waivers = write_waivers(
        tmp / "waivers.json", {"iam-no-wildcard-actions": "admin-ish"}, "2001-01-01"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLATFORMKIT_WAIVERS", str(waivers))
        run = run_to_file(tmp, APP, "test", "junit")
    return run.code, ET.fromstring(run.out)


def sarif_results(sarif: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for run in sarif["runs"] for r in run["results"]]


# -- insecure programs fail with the expected rule ------------------------------------------


@pytest.mark.parametrize(("rule", "name"), sorted(DATA_RULES.items()))
def test_insecure_data_program_fails_with_rule(
    data_sarif: tuple[int, dict[str, Any]], rule: str, name: str
) -> None:
    code, sarif = data_sarif
    assert code == 1
    hits = [
        r
        for r in sarif_results(sarif)
        if r["ruleId"] == rule and r["locations"][0]["logicalLocations"][0]["name"] == name
    ]
    assert hits, f"{rule} not reported on {name}"
    assert all(r["level"] == "error" and "suppressions" not in r for r in hits)


def test_secret_passwords_and_aws_default_health_checks_are_not_findings(
    data_sarif: tuple[int, dict[str, Any]],
) -> None:
    _, sarif = data_sarif
    names = [r["locations"][0]["logicalLocations"][0]["name"] for r in sarif_results(sarif)]
    false_positives = {
        (r["ruleId"], name)
        for r, name in zip(sarif_results(sarif), names, strict=True)
        if name in DATA_CLEAN
        and r["ruleId"] in ("rds-no-literal-master-password", "alb-target-group-health-check")
    }
    assert false_positives == set()


def test_ssh_open_to_the_world_is_reported_once(data_sarif: tuple[int, dict[str, Any]]) -> None:
    _, sarif = data_sarif
    hits = [
        r["ruleId"]
        for r in sarif_results(sarif)
        if r["locations"][0]["logicalLocations"][0]["name"] == "ssh-open"
        and r["ruleId"].startswith("ec2-")
        and r["ruleId"] != "ec2-security-group-descriptions"
    ]
    assert hits == ["ec2-no-public-database-or-app-ports"]


@pytest.mark.parametrize(("rule", "name"), sorted(APP_RULES.items()))
def test_insecure_app_program_fails_with_rule(
    app_json: tuple[int, dict[str, Any]], rule: str, name: str
) -> None:
    code, doc = app_json
    assert code == 1
    hits = [v for v in doc["policies"]["violations"] if v["rule"] == rule and v["name"] == name]
    assert hits and all(v["level"] == "mandatory" and not v["waived"] for v in hits)
    assert all(v["remediation"] for v in hits)


@pytest.mark.parametrize(
    ("rule", "name", "text"),
    [
        ("alb-waf-attached", "public-alb", "has no rules"),
        ("waf-managed-rule-groups", "empty-acl", "AWSManagedRulesCommonRuleSet"),
        ("waf-logging-enabled", "empty-acl", "no WebAclLoggingConfiguration"),
    ],
)
def test_an_empty_web_acl_does_not_count_as_protection(
    app_json: tuple[int, dict[str, Any]], rule: str, name: str, text: str
) -> None:
    _, doc = app_json
    hits = [v for v in doc["policies"]["violations"] if v["rule"] == rule and v["name"] == name]
    assert hits and text in hits[0]["message"]


def test_json_report_with_policies_matches_schema(app_json: tuple[int, dict[str, Any]]) -> None:
    _, doc = app_json
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    assert doc["policies"]["packs"][0]["name"] == "platformkit-aws"
    assert doc["policies"]["packs"][0]["version"] == "0.1.0"
    assert doc["policies"]["summary"]["passed"] is False
    assert doc["policies"]["summary"]["mandatory"] >= len(APP_RULES)


def test_sarif_validates_against_the_official_schema(
    data_sarif: tuple[int, dict[str, Any]], app_waived: tuple[int, dict[str, Any]]
) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    for _, sarif in (data_sarif, app_waived):
        jsonschema.Draft4Validator(schema).validate(sarif)


def test_sarif_rules_carry_metadata_and_results_point_at_the_source(
    data_sarif: tuple[int, dict[str, Any]],
) -> None:
    _, sarif = data_sarif
    run = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rds = rules["rds-not-public"]
    assert rds["shortDescription"]["text"].startswith("Forbid publicly accessible")
    assert rds["help"]["text"]
    assert rds["helpUri"].startswith("https://")
    assert rds["properties"]["severity"] == "critical"
    assert "CKV_AWS_17" in rds["properties"]["checkov"]
    result = next(r for r in run["results"] if r["ruleId"] == "rds-not-public")
    location = result["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("::db-public")
    physical = location["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    assert uri == "tests/preview/programs/gate_insecure_data/__main__.py"
    line = physical["region"]["startLine"]
    source_line = (REPO / uri).read_text(encoding="utf-8").splitlines()[line - 1]
    assert "aws.rds.Instance(" in source_line
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "rds-not-public"


# -- waivers -----------------------------------------------------------------------------


def test_waived_violations_become_suppressions_and_pass(
    app_waived: tuple[int, dict[str, Any]],
) -> None:
    code, sarif = app_waived
    assert code == 0
    for rule in APP_RULES:
        results = [r for r in sarif_results(sarif) if r["ruleId"] == rule]
        assert results, rule
        for result in results:
            (suppression,) = result["suppressions"]
            assert suppression["kind"] == "external"
            justification = suppression["justification"]
            assert "TICKET-1" in justification
            assert "qa@example.com" in justification
            assert "2999-12-31" in justification


def test_expired_waiver_does_not_waive(app_expired_junit: tuple[int, ET.Element]) -> None:
    code, root = app_expired_junit
    assert code == 1
    cases = root.iter("testcase")
    iam = [c for c in cases if c.get("classname") == "platformkit-aws.iam-no-wildcard-actions"]
    assert len(iam) == 1
    failure = iam[0].find("failure")
    assert failure is not None and failure.text is not None
    assert "expired on 2001-01-01" in failure.text


def test_junit_counts_failures(
    app_expired_junit: tuple[int, ET.Element], app_json: tuple[int, dict[str, Any]]
) -> None:
    _, root = app_expired_junit
    _, doc = app_json
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    mandatory = {
        (v["rule"], v["urn"]) for v in doc["policies"]["violations"] if v["level"] == "mandatory"
    }
    assert len(failed) == len(mandatory)
    assert suite.get("failures") == str(len(failed)) == root.get("failures")
    assert suite.get("tests") == str(len(cases))
    advisory = [c for c in cases if c.find("system-out") is not None]
    assert all(c.find("failure") is None for c in advisory)
    passing = [c for c in cases if len(c) == 0]
    assert any(c.get("name") == "kms-key-rotation" for c in passing)


# -- the shipped stacks pass -------------------------------------------------------------


def test_dev_stack_passes_the_gate(capfd: pytest.CaptureFixture[str]) -> None:
    run = gate(capfd, REPO, "dev", config=DEV_CONFIG)
    assert run.code == 0, run.out + run.err
    assert "Policies passed: 0 mandatory" in run.out


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_prod_stack_passes_the_gate(capfd: pytest.CaptureFixture[str], mode: str) -> None:
    # In preview mode the stack's own KMS key ARN is unknown: a log group using it is
    # encrypted all the same.
    run = gate(capfd, REPO, "prod", "--format", "json", "--mode", mode, config=PROD_CONFIG)
    assert run.code == 0, run.err
    summary = run.json()["policies"]["summary"]
    assert summary["mandatory"] == 0 and summary["passed"] is True


def test_bad_required_rule_groups_are_a_config_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.json"
    config.write_text(
        json.dumps({"waf-managed-rule-groups": {"requiredRuleGroups": "CommonRuleSet"}}),
        encoding="utf-8",
    )
    run = gate(capfd, PROGRAMS / "basic", "dev", config=str(config))
    assert run.code == 2
    assert "waf-managed-rule-groups.requiredRuleGroups" in run.err


# -- failures of the gate itself: exit 2 -------------------------------------------------


def test_bad_policy_config_names_rule_and_key(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.json"
    config.write_text(
        json.dumps({"cloudwatch-log-retention": {"minimumDays": "ten", "retentionDayz": 3}}),
        encoding="utf-8",
    )
    run = gate(capfd, PROGRAMS / "basic", "dev", config=str(config))
    assert run.code == 2
    assert "cloudwatch-log-retention.minimumDays" in run.err
    assert "cloudwatch-log-retention.retentionDayz: unknown config key" in run.err
    assert run.out == ""


def test_bad_enforcement_level_fails_before_anything_starts(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"rds-not-public": "mandatry"}), encoding="utf-8")
    run = gate(capfd, PROGRAMS / "basic", "dev", config=str(config))
    assert run.code == 2
    assert "rds-not-public: 'mandatry' is not one of" in run.err


def test_more_configs_than_packs_is_an_error(capfd: pytest.CaptureFixture[str]) -> None:
    run = gate(capfd, PROGRAMS / "basic", "dev", "--policy-pack-config", DEV_CONFIG)
    assert run.code == 2
    assert "each config applies to the --policy-pack in the same position" in run.err


def test_missing_pack_directory(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "preview",
            str(PROGRAMS / "basic"),
            "--stack",
            "dev",
            "--policy-pack",
            str(tmp_path / "nope"),
        ]
    )
    err = capfd.readouterr().err
    assert code == 2
    assert "policy pack directory" in err and "does not exist" in err


def test_crashing_pack(capfd: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "preview",
            str(PROGRAMS / "basic"),
            "--stack",
            "dev",
            "--policy-pack",
            str(PROGRAMS / "gate_crashing_pack"),
        ]
    )
    err = capfd.readouterr().err
    assert code == 2
    assert "exited before serving the analyzer protocol" in err
    assert "this pack is broken on purpose" in err


# -- config reconciliation (no process) ----------------------------------------------------


def _info() -> AnalyzerInfo:
    policies = [
        PolicyInfo(
            "a",
            "Check a.",
            "advisory",
            "low",
            "resource",
            config_properties={"days": {"type": "integer", "default": 7}},
        ),
        PolicyInfo("b", "Check b.", "mandatory", "high", "stack"),
    ]
    return AnalyzerInfo("pack", "1.0.0", "", True, policies, {})


def test_reconcile_applies_defaults_all_and_overrides() -> None:
    config = ConfigFile(Path("c.json"), {"all": ("mandatory", {}), "a": ("advisory", {"days": 9})})
    result, problems = reconcile_config(_info(), config)
    assert problems == []
    assert result["a"].enforcement_level == "advisory" and result["a"].properties == {"days": 9}
    assert result["b"].enforcement_level == "mandatory" and result["b"].properties == {}


def test_reconcile_without_config_keeps_defaults() -> None:
    result, problems = reconcile_config(_info(), None)
    assert problems == []
    assert result["a"].enforcement_level == "advisory" and result["a"].properties == {"days": 7}


def test_reconcile_reports_unknown_policy() -> None:
    _, problems = reconcile_config(_info(), ConfigFile(Path("c.json"), {"zz": ("advisory", {})}))
    assert problems == ["zz: unknown policy (not in pack pack)"]
