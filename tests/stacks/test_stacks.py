"""The dev and prod stacks, run offline: the differences that matter, and config errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main as cli_main
from platformkit.preview.errors import PreviewError
from platformkit.preview.result import PreviewResult, run_preview

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev() -> PreviewResult:
    return run_preview(ROOT, "dev")


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    return run_preview(ROOT, "prod")


def of_type(result: PreviewResult, token: str) -> list[dict[str, Any]]:
    return [r.inputs for r in result.resources if r.type == token]


def one(result: PreviewResult, token: str) -> dict[str, Any]:
    (found,) = of_type(result, token)
    return found


def test_dev_has_one_nat_and_prod_one_per_az(dev: PreviewResult, prod: PreviewResult) -> None:
    assert len(of_type(dev, "aws:ec2/natGateway:NatGateway")) == 1
    assert len(of_type(prod, "aws:ec2/natGateway:NatGateway")) == 3
    assert len(of_type(dev, "aws:ec2/subnet:Subnet")) == 6
    assert len(of_type(prod, "aws:ec2/subnet:Subnet")) == 9


def test_prod_database_is_resilient_and_dev_is_cheap(
    dev: PreviewResult, prod: PreviewResult
) -> None:
    dev_db = one(dev, "aws:rds/instance:Instance")
    prod_db = one(prod, "aws:rds/instance:Instance")
    assert (dev_db["multiAz"], prod_db["multiAz"]) == (False, True)
    assert (dev_db["deletionProtection"], prod_db["deletionProtection"]) == (False, True)
    assert (dev_db["backupRetentionPeriod"], prod_db["backupRetentionPeriod"]) == (1, 30)
    assert prod_db["storageEncrypted"] is True and dev_db["storageEncrypted"] is True
    assert "password" not in prod_db and prod_db["manageMasterUserPassword"] is True


def test_task_counts_and_autoscaling_bounds(dev: PreviewResult, prod: PreviewResult) -> None:
    dev_service = one(dev, "aws:ecs/service:Service")
    prod_service = one(prod, "aws:ecs/service:Service")
    assert dev_service["desiredCount"] == 1
    assert prod_service["desiredCount"] >= 2
    prod_target = one(prod, "aws:appautoscaling/target:Target")
    assert (prod_target["minCapacity"], prod_target["maxCapacity"]) == (2, 20)


def test_prod_serves_https_only_and_dev_plain_http(dev: PreviewResult, prod: PreviewResult) -> None:
    prod_listeners = {r["port"]: r for r in of_type(prod, "aws:lb/listener:Listener")}
    assert prod_listeners[443]["protocol"] == "HTTPS"
    assert prod_listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    (redirect,) = prod_listeners[80]["defaultActions"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"]["protocol"] == "HTTPS"
    dev_listeners = of_type(dev, "aws:lb/listener:Listener")
    assert [listener["protocol"] for listener in dev_listeners] == ["HTTP"]


def test_prod_has_waf_and_deletion_protection(dev: PreviewResult, prod: PreviewResult) -> None:
    assert of_type(prod, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert not of_type(dev, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert one(prod, "aws:lb/loadBalancer:LoadBalancer")["enableDeletionProtection"] is True
    assert one(dev, "aws:lb/loadBalancer:LoadBalancer")["enableDeletionProtection"] is False


def test_dev_runs_on_fargate_spot(dev: PreviewResult, prod: PreviewResult) -> None:
    def providers(result: PreviewResult) -> list[str]:
        service = one(result, "aws:ecs/service:Service")
        return [s["capacityProvider"] for s in service["capacityProviderStrategies"]]

    assert providers(dev) == ["FARGATE_SPOT"]
    assert providers(prod) == ["FARGATE"]


def test_log_retention_follows_the_stack(dev: PreviewResult, prod: PreviewResult) -> None:
    def retentions(result: PreviewResult) -> set[int]:
        return {g["retentionInDays"] for g in of_type(result, "aws:cloudwatch/logGroup:LogGroup")}

    assert retentions(dev) == {7}
    assert retentions(prod) == {365}


def test_stack_outputs_are_exported(prod: PreviewResult) -> None:
    outputs = prod.outputs
    assert set(outputs) >= {
        "url",
        "databaseEndpoint",
        "repositoryUrl",
        "dashboardName",
        "alarmTopicArn",
    }
    assert str(outputs["url"]).startswith("https://")
    assert ".rds.amazonaws.com:3306" in str(outputs["databaseEndpoint"])


def test_the_service_container_gets_the_database_settings(prod: PreviewResult) -> None:
    task = one(prod, "aws:ecs/taskDefinition:TaskDefinition")
    (container,) = json.loads(task["containerDefinitions"])
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["DB_ENGINE"] == "mysql" and environment["DB_NAME"]
    assert environment["ANALYTICS_MAX_STALENESS"] == "5"
    assert environment["ANALYTICS_RANKING_MAX_STALENESS"] == "5"
    assert environment["ANALYTICS_KEEP_WARM"] == "0"
    secrets = {s["name"] for s in container["secrets"]}
    assert {"DB_USERNAME", "DB_PASSWORD"} <= secrets


def test_the_nightly_fit_runs_the_revision_the_service_deployed(prod: PreviewResult) -> None:
    (task,) = [r for r in prod.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    (service,) = [r for r in prod.resources if r.type == "aws:ecs/service:Service"]
    (schedule,) = [r for r in prod.resources if r.type == "aws:scheduler/schedule:Schedule"]
    target = schedule.inputs["target"]
    assert target["ecsParameters"]["taskDefinitionArn"] == task.outputs["arn"]
    (override,) = json.loads(target["input"])["containerOverrides"]
    assert override["command"] == ["flask", "clv", "fit"]
    # Not before the service is steady on it: a revision that rolled back is never scheduled.
    assert service.urn in schedule.property_dependencies["target"]


# --- invalid config ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Copy the project to ``tmp_path`` and return ``write(stack_yaml)`` → project dir."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(
        ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__")
    )

    def write(stack_yaml: str) -> Path:
        (tmp_path / "Pulumi.test.yaml").write_text(stack_yaml, encoding="utf-8")
        return tmp_path

    return write


@pytest.mark.parametrize(
    ("stack_yaml", "message"),
    [
        (
            "config:\n  ecommerce-analytics:azCuont: 2\n",
            "Pulumi.test.yaml: ecommerce-analytics:azCuont",
        ),
        (
            "config:\n  ecommerce-analytics:azCount: three\n",
            "ecommerce-analytics:azCount",
        ),
        (
            "config:\n  ecommerce-analytics:azCount: 9\n",
            "Pulumi.test.yaml: ecommerce-analytics:azCount must be from 2 to 6, got 9",
        ),
        (
            "config:\n  ecommerce-analytics:natStrategy: two\n",
            "ecommerce-analytics:natStrategy must be one of none, single, per_az, got 'two'",
        ),
        (
            "config:\n  ecommerce-analytics:logRetentionDays: 10\n",
            "ecommerce-analytics:logRetentionDays must be a CloudWatch retention",
        ),
        (
            "config:\n  ecommerce-analytics:desiredCount: 30\n",
            "ecommerce-analytics:desiredCount must lie between minCount (2) and maxCount (10)",
        ),
        (
            # The bounds cross: no desiredCount could fit, so they are what the user must fix.
            "config:\n  ecommerce-analytics:minCount: 5\n  ecommerce-analytics:maxCount: 2\n",
            "Pulumi.test.yaml: ecommerce-analytics:minCount must not exceed maxCount (2), got 5",
        ),
        (
            "config:\n  ecommerce-analytics:analyticsMaxStaleness: -1\n",
            "ecommerce-analytics:analyticsMaxStaleness must be",
        ),
        (
            "config:\n  ecommerce-analytics:analyticsRankingMaxStaleness: 7200\n",
            "ecommerce-analytics:analyticsRankingMaxStaleness must be from 0 to 3600, got 7200",
        ),
        (
            "config:\n  ecommerce-analytics:analyticsKeepWarm: soon\n",
            "ecommerce-analytics:analyticsKeepWarm",
        ),
        (
            # Checked against the Network's own table, before the Network is built.
            "config:\n  ecommerce-analytics:vpcEndpoints: [s3, dynamodb]\n",
            "Pulumi.test.yaml: ecommerce-analytics:vpcEndpoints has 'dynamodb', not one of "
            "ecr.api, ecr.dkr, logs, s3, secretsmanager",
        ),
        (
            "config:\n  ecommerce-analytics:ingressCidrs: [0.0.0.0/0, 'nope']\n",
            "ecommerce-analytics:ingressCidrs has 'nope', which is not an IPv4 network",
        ),
    ],
)
def test_invalid_config_fails_before_any_resource_naming_key_and_file(
    project: Callable[[str], Path], stack_yaml: str, message: str
) -> None:
    with pytest.raises(PreviewError) as error:
        run_preview(project(stack_yaml), "test")
    assert message in str(error.value)
    assert "Pulumi.test.yaml" in str(error.value)
    # One line, no traceback: the message is everything the user needs.
    assert len(error.value.message.splitlines()) == 1


def test_the_cli_prints_a_config_error_as_one_line(
    project: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project("config:\n  aws:region: us-east-1\n  ecommerce-analytics:azCount: 7\n")
    code = cli_main(["preview", str(directory), "--stack", "test"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: Pulumi.test.yaml: ecommerce-analytics:azCount must be from 2 to 6, got 7\n"
    )


def test_operations_output_satisfies_the_verify_contract(
    dev: PreviewResult, prod: PreviewResult
) -> None:
    from platformkit.ops.contract import parse_contract

    prod_contract = parse_contract(prod.outputs)
    dev_contract = parse_contract(dev.outputs)
    assert prod_contract.https is True and dev_contract.https is False
    assert (prod_contract.database.multi_az, dev_contract.database.multi_az) == (True, False)
    assert (prod_contract.min_task_azs, dev_contract.min_task_azs) == (2, 1)
    assert prod_contract.rto_minutes == 60


def test_only_dev_may_destroy_its_image_repository(dev: PreviewResult, prod: PreviewResult) -> None:
    assert one(dev, "aws:ecr/repository:Repository")["forceDelete"] is True
    assert one(prod, "aws:ecr/repository:Repository")["forceDelete"] is False


def test_prod_logs_waf_requests_and_encrypts_logs_with_its_own_rotating_key(
    dev: PreviewResult, prod: PreviewResult
) -> None:
    [key] = [
        r for r in prod.resources if r.type == "aws:kms/key:Key" and r.name == "analytics-logs-key"
    ]
    assert key.inputs["enableKeyRotation"] is True
    groups = [r for r in prod.resources if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    # Every group (flow logs, WAF, database, service) uses a customer-managed key.
    assert groups and all(g.inputs.get("kmsKeyId") for g in groups)
    instance = one(prod, "aws:rds/instance:Instance")
    assert instance["performanceInsightsKmsKeyId"] == key.outputs["arn"]
    assert of_type(prod, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert not of_type(dev, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert not [r for r in dev.resources if r.name == "analytics-logs-key"]


def test_alb_access_logs_are_kept_as_long_as_the_other_logs(
    dev: PreviewResult, prod: PreviewResult
) -> None:
    for result, days in ((dev, 7), (prod, 365)):
        [lifecycle] = [r for r in result.resources if r.name == "analytics-alb-logs-lifecycle"]
        assert lifecycle.inputs["rules"][0]["expiration"] == {"days": days}
        [versioning] = [r for r in result.resources if r.name == "analytics-alb-logs-versioning"]
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_the_database_admits_the_service_group_not_itself(prod: PreviewResult) -> None:
    groups = [r for r in prod.resources if r.type == "aws:ec2/securityGroup:SecurityGroup"]
    ids = [g.outputs["id"] for g in groups]
    assert len(set(ids)) == len(ids)  # unique even where two groups share a logical name
    database_group = next(
        g for g in groups if g.parent and "platformkit:index:Database" in g.parent
    )
    rules = [
        r.inputs
        for r in prod.resources
        if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
        and r.inputs.get("securityGroupId") == database_group.outputs["id"]
    ]
    assert rules
    for rule in rules:
        assert rule["referencedSecurityGroupId"] != database_group.outputs["id"]
