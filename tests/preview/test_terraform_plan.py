"""``--format terraform-plan``: the preview graph as a Terraform plan a Terraform scanner reads.

Everything here runs without Checkov: the names, shapes and references Checkov relies on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main
from platformkit.preview.result import PreviewResult, run_preview
from platformkit.preview.terraform import names, vendor
from platformkit.preview.terraform.plan import render_terraform_plan, to_plan
from tests.preview.conftest import EXAMPLE, PROGRAMS, REPO


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    return run_preview(REPO, "prod", "up")


@pytest.fixture(scope="module")
def prod_plan(prod: PreviewResult) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render_terraform_plan(prod))
    return parsed


def planned(plan: dict[str, Any], address: str) -> dict[str, Any]:
    for entry in plan["planned_values"]["root_module"]["resources"]:
        if entry["address"] == address:
            values: dict[str, Any] = entry["values"]
            return values
    raise LookupError(address)


def expressions(plan: dict[str, Any], address: str) -> dict[str, Any]:
    for entry in plan["configuration"]["root_module"]["resources"]:
        if entry["address"] == address:
            found: dict[str, Any] = entry["expressions"]
            return found
    raise LookupError(address)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("aws:ecs/service:Service", "aws_ecs_service"),
        ("aws:ec2/vpc:Vpc", "aws_vpc"),
        ("aws:ec2/flowLog:FlowLog", "aws_flow_log"),
        ("aws:ec2/managedPrefixList:ManagedPrefixList", "aws_ec2_managed_prefix_list"),
        ("aws:rds/instance:Instance", "aws_db_instance"),
        ("aws:rds/cluster:Cluster", "aws_rds_cluster"),
        ("aws:lb/loadBalancer:LoadBalancer", "aws_lb"),
        ("aws:s3/bucket:Bucket", "aws_s3_bucket"),
        ("aws:s3/bucketV2:BucketV2", "aws_s3_bucket"),
        ("aws:apigateway/restApi:RestApi", "aws_api_gateway_rest_api"),
        ("aws:cloudtrail/trail:Trail", "aws_cloudtrail"),
        (
            "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
            "aws_wafv2_web_acl_logging_configuration",
        ),
        (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws_vpc_security_group_ingress_rule",
        ),
    ],
)
def test_resource_types_are_terraforms(token: str, expected: str) -> None:
    assert names.resource_type(token) == expected


@pytest.mark.parametrize(
    ("pulumi_name", "repeatable", "expected"),
    [
        ("performanceInsightsKmsKeyId", False, "performance_insights_kms_key_id"),
        ("ipv6CidrBlock", False, "ipv6_cidr_block"),
        ("rules", True, "rule"),
        ("defaultActions", True, "default_action"),
        ("inlinePolicies", True, "inline_policy"),
        ("ingress", True, "ingress"),
        ("subnets", False, "subnets"),
        ("loggingConfig", False, "logging_config"),
    ],
)
def test_attribute_names_follow_the_provider(
    pulumi_name: str, repeatable: bool, expected: str
) -> None:
    assert names.attribute_name("aws:x/y:Y", pulumi_name, repeatable_block=repeatable) == expected


def test_blocks_are_lists_with_singular_names_and_maps_stay_maps(
    prod_plan: dict[str, Any],
) -> None:
    service = planned(prod_plan, "aws_ecs_service.analytics-service")
    # A block that appears once (flattened to an object by Pulumi) is a one-element list.
    assert service["network_configuration"][0]["assign_public_ip"] is False
    assert service["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    # A repeatable block takes its singular Terraform name.
    assert service["load_balancer"][0]["container_port"] == 8080
    assert "load_balancers" not in service
    # Tags are a map: keys are data and keep their spelling.
    assert service["tags"]["managed-by"] == "pulumi-platformkit"
    acl = planned(prod_plan, "aws_wafv2_web_acl.analytics-waf")
    statements = [rule["statement"][0]["managed_rule_group_statement"][0] for rule in acl["rule"]]
    assert {s["name"] for s in statements} >= {"AWSManagedRulesCommonRuleSet"}


def test_references_become_terraform_expressions(prod_plan: dict[str, Any]) -> None:
    # The value taken from another resource is unknown at plan time: in the expressions only.
    subnet = planned(prod_plan, "aws_subnet.analytics-private-0")
    assert "vpc_id" not in subnet
    assert expressions(prod_plan, "aws_subnet.analytics-private-0")["vpc_id"] == {
        "references": ["aws_vpc.analytics.id", "aws_vpc.analytics"]
    }
    # An ARN is matched to the attribute it came from.
    association = expressions(prod_plan, "aws_wafv2_web_acl_association.analytics-waf-association")
    assert association["resource_arn"]["references"][0] == "aws_lb.analytics-alb.arn"
    # Inside a nested block, the reference sits at the block's position.
    service = expressions(prod_plan, "aws_ecs_service.analytics-service")
    groups = service["network_configuration"][0]["security_groups"]["references"]
    assert groups[0].startswith("aws_security_group.") and groups[0].endswith(".id")
    # The subnet's own id wins over a resource that only echoes it.
    endpoint = expressions(prod_plan, "aws_vpc_endpoint.analytics-logs")
    assert all(ref.startswith("aws_subnet.") for ref in endpoint["subnet_ids"]["references"])


def test_same_named_resources_get_distinct_addresses(
    prod: PreviewResult, prod_plan: dict[str, Any]
) -> None:
    groups = [r for r in prod.resources if r.type == "aws:ec2/securityGroup:SecurityGroup"]
    addresses = [
        a for a in prod_plan["platformkit"]["addresses"] if a.startswith("aws_security_group.")
    ]
    assert len(addresses) == len(groups) == len(set(addresses))
    all_addresses = [e["address"] for e in prod_plan["planned_values"]["root_module"]["resources"]]
    assert len(all_addresses) == len(set(all_addresses))
    # The database's and the service's group share the name "analytics-sg".
    assert {
        "aws_security_group.database-analytics-analytics-sg",
        "aws_security_group.webservice-analytics-analytics-sg",
    } <= set(addresses)


def test_components_and_other_providers_are_listed_not_exported(
    prod_plan: dict[str, Any],
) -> None:
    types = {e["type"] for e in prod_plan["planned_values"]["root_module"]["resources"]}
    assert all(t.startswith("aws_") for t in types)
    skipped = {e["type"] for e in prod_plan["platformkit"]["skipped"]}
    assert {"random:index/randomId:RandomId", "awsx:ecr:Image"} <= skipped
    assert prod_plan["platformkit"]["sources"]["aws_lb.analytics-alb"]["uri"].endswith(".py")


def test_secrets_are_never_written() -> None:
    result = run_preview(PROGRAMS / "corpus" / "secrets", "dev", "up")
    plan = to_plan(result)
    (db,) = [e for e in plan["planned_values"]["root_module"]["resources"] if e["name"] == "db"]
    assert "password" not in db["values"] and db["sensitive_values"] == {"password": True}
    text = json.dumps(plan)
    for name, key in (("db", "password"), ("key", "value")):
        secret = result.recording.named(name).inputs[key]
        assert isinstance(secret, str) and len(secret) >= 8 and secret not in text


def test_a_program_written_elsewhere_exports(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    code = main(
        [
            "preview",
            str(EXAMPLE),
            "--stack",
            "dev",
            "--format",
            "terraform-plan",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    plan = json.loads(out.read_text("utf-8"))
    types = {e["type"] for e in plan["planned_values"]["root_module"]["resources"]}
    assert {"aws_s3_bucket", "aws_cloudfront_distribution"} <= types
    assert plan["terraform_version"] and plan["format_version"] == "1.2"


def test_an_unknown_format_names_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(EXAMPLE), "--stack", "dev", "--format", "tfplan"]) == 2
    err = capsys.readouterr().err
    assert "'tfplan'" in err and "terraform-plan" in err


WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"


def test_vendor_keeps_only_the_exceptions_to_the_rule() -> None:
    metadata = {
        "renames": {
            "resources": {
                "aws:ecs/service:Service": "aws_ecs_service",
                "aws:rds/instance:Instance": "aws_db_instance",
                "aws:ec2/vpc:Vpc": "aws_vpc",
                WAF_LOGGING: "aws_wafv2_web_acl_logging_configuration",
            },
            "renamedProperties": {
                "aws:ecs/service:Service": {"loadBalancers": "load_balancer"},
                WAF_LOGGING: {
                    "redactedFields": "redacted_fields",
                    "logDestinationConfigs": "log_destination_configs",
                },
            },
        }
    }
    current = json.loads(vendor.TARGET.read_text("utf-8"))
    table = vendor.build(metadata, current, "abc123")
    assert table["resources"] == {"aws:rds/instance:Instance": "aws_db_instance"}
    assert table["fields"][WAF_LOGGING] == {"redactedFields": "redacted_fields"}
    assert "loadBalancers" not in table["fields"].get("aws:ecs/service:Service", {})
    assert table["source"]["commit"] == "abc123"
    # The vendored table is back in use afterwards.
    assert names.resource_type("aws:rds/instance:Instance") == "aws_db_instance"
