"""Tests of ``platformkit.cluster.Cluster`` under the mock runtime."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

import platformkit.cluster
from platformkit.cluster import (
    DEFAULT_TLS_POLICY,
    Cluster,
    ClusterArgs,
)
from platformkit.network_ref import NetworkRef
from platformkit.preview.recording import Recording, ResourceRecord
from tests.platformkit.conftest import NETWORK, Run, accepts_tags, missing_standard_tags
from tests.platformkit.docstrings import fields_without_default, undocumented_fields

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"

COMPONENT = "platformkit:index:Cluster"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

# Every type the component may create, and the SDK class behind it (to know which take tags).
RESOURCE_CLASSES: dict[str, type[pulumi.CustomResource]] = {
    ECS_CLUSTER: aws.ecs.Cluster,
    CAPACITY: aws.ecs.ClusterCapacityProviders,
    LOAD_BALANCER: aws.lb.LoadBalancer,
    LISTENER: aws.lb.Listener,
    SECURITY_GROUP: aws.ec2.SecurityGroup,
    INGRESS: aws.vpc.SecurityGroupIngressRule,
    EGRESS: aws.vpc.SecurityGroupEgressRule,
    BUCKET: aws.s3.Bucket,
    ENCRYPTION: aws.s3.BucketServerSideEncryptionConfiguration,
    PUBLIC_ACCESS: aws.s3.BucketPublicAccessBlock,
    OWNERSHIP: aws.s3.BucketOwnershipControls,
    LIFECYCLE: aws.s3.BucketLifecycleConfiguration,
    BUCKET_POLICY: aws.s3.BucketPolicy,
    VERSIONING: aws.s3.BucketVersioning,
    BUCKET_LOGGING: aws.s3.BucketLogging,
    WAF_LOGGING: aws.wafv2.WebAclLoggingConfiguration,
    LOG_GROUP: aws.cloudwatch.LogGroup,
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": aws.cloudwatch.LogResourcePolicy,
    WEB_ACL: aws.wafv2.WebAcl,
    WEB_ACL_ASSOCIATION: aws.wafv2.WebAclAssociation,
}


@dataclass
class Built:
    """What a run produced: the recording, the component and its resolved outputs."""

    recording: Recording
    cluster: Cluster
    outputs: dict[str, Any]


def _args(**overrides: Any) -> ClusterArgs:
    args: dict[str, Any] = {"network": NETWORK, **overrides}
    return args  # type: ignore[return-value]


def _log_part(built: Built, suffix: str) -> ResourceRecord:
    """A resource of the access log bucket ``web-alb-logs`` by its name suffix."""
    return built.recording.named(f"web-alb-logs{suffix}")


def build(run: Run, name: str = "web", mode: str = "up", **overrides: Any) -> Built:
    """Build a ``Cluster`` from ``NETWORK`` plus ``overrides``; resolve its main outputs."""
    holder: dict[str, Cluster] = {}
    outputs: dict[str, Any] = {}

    def program() -> None:
        cluster = Cluster(name, _args(**overrides))
        holder["cluster"] = cluster
        for attribute in ("url", "dns_name", "listener_arn", "load_balancer_arn", "cluster_name"):
            output: pulumi.Output[Any] = getattr(cluster, attribute)
            output.apply(_store(outputs, attribute))

    recording = run(program, mode=mode)
    return Built(recording, holder["cluster"], outputs)


def _store(sink: dict[str, Any], key: str) -> Callable[[Any], None]:
    def store(value: Any) -> None:
        sink[key] = value

    return store


def expect_invalid(run: Run, field: str, value: object, **overrides: Any) -> None:
    """Building with ``overrides`` raises a ``ValueError`` naming ``field`` and ``value``."""
    with pytest.raises(ValueError) as error:
        build(run, **overrides)
    message = str(error.value)
    assert f"{field}=" in message, message
    assert repr(value) in message, message


def listeners_by_port(recording: Recording) -> dict[int, ResourceRecord]:
    return {int(r.inputs["port"]): r for r in recording.of_type(LISTENER)}


# --- documentation contract -----------------------------------------------------------------


def test_every_args_field_has_a_docstring_stating_its_default() -> None:
    assert undocumented_fields(platformkit.cluster, "ClusterArgs") == []
    assert undocumented_fields(platformkit.cluster, "CapacityProviderStrategy") == []
    # ``network`` is required, so it has no default to state.
    assert fields_without_default(platformkit.cluster, "ClusterArgs") == ["network"]


def test_docstring_helper_reports_missing_docstrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_component_args.py").write_text(
        "from typing import NotRequired, TypedDict\n"
        "class FakeArgs(TypedDict):\n"
        "    documented: int\n"
        '    """Defaults to `1`."""\n'
        "    bare: NotRequired[int]\n"
        "    no_default: str\n"
        '    """Says nothing about a default."""\n'
        "    last: str\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("fake_component_args")
    assert undocumented_fields(module, "FakeArgs") == ["bare", "last"]
    assert fields_without_default(module, "FakeArgs") == ["no_default"]
    with pytest.raises(LookupError):
        undocumented_fields(module, "MissingArgs")


# --- ECS cluster ----------------------------------------------------------------------------


def test_defaults_give_container_insights_and_one_on_demand_task_first(run: Run) -> None:
    built = build(run)
    cluster = built.recording.one(ECS_CLUSTER)
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    capacity = built.recording.one(CAPACITY)
    assert capacity.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert capacity.inputs["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert capacity.inputs["clusterName"] == built.outputs["cluster_name"]
    assert built.cluster.capacity_provider_strategy == [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 1}
    ]


@pytest.mark.parametrize("mode", ["enhanced", "disabled"])
def test_container_insights_mode_is_configurable(run: Run, mode: str) -> None:
    built = build(run, container_insights=mode)
    assert built.recording.one(ECS_CLUSTER).inputs["settings"] == [
        {"name": "containerInsights", "value": mode}
    ]


def test_capacity_provider_strategy_is_passed_through(run: Run) -> None:
    strategy = [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 2},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3},
    ]
    built = build(run, capacity_provider_strategy=strategy)
    assert built.recording.one(CAPACITY).inputs["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 2},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    assert built.cluster.capacity_provider_strategy == [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 2},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]


@pytest.mark.parametrize(
    ("strategy", "field", "value"),
    [
        (
            [{"capacity_provider": "EC2", "weight": 1}],
            "capacity_provider_strategy[0].capacity_provider",
            "EC2",
        ),
        (
            [{"capacity_provider": "FARGATE", "weight": -1}],
            "capacity_provider_strategy[0].weight",
            -1,
        ),
        (
            [{"capacity_provider": "FARGATE", "weight": 1001}],
            "capacity_provider_strategy[0].weight",
            1001,
        ),
        (
            [{"capacity_provider": "FARGATE", "weight": 1, "base": -2}],
            "capacity_provider_strategy[0].base",
            -2,
        ),
        (
            [
                {"capacity_provider": "FARGATE", "weight": 0},
                {"capacity_provider": "FARGATE_SPOT", "weight": 0},
            ],
            "capacity_provider_strategy",
            [
                {"capacity_provider": "FARGATE", "weight": 0},
                {"capacity_provider": "FARGATE_SPOT", "weight": 0},
            ],
        ),
        (
            [
                {"capacity_provider": "FARGATE", "weight": 1},
                {"capacity_provider": "FARGATE", "weight": 2},
            ],
            "capacity_provider_strategy[1].capacity_provider",
            "FARGATE",
        ),
        (
            [
                {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 1},
            ],
            "capacity_provider_strategy",
            [
                {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 1},
            ],
        ),
        ([], "capacity_provider_strategy", []),
    ],
    ids=[
        "unknown-provider",
        "negative-weight",
        "weight-too-big",
        "negative-base",
        "all-weights-zero",
        "duplicate-provider",
        "two-bases",
        "empty",
    ],
)
def test_invalid_capacity_strategy_is_rejected(
    run: Run, strategy: list[dict[str, Any]], field: str, value: object
) -> None:
    expect_invalid(run, field, value, capacity_provider_strategy=strategy)


# --- listeners ------------------------------------------------------------------------------


def test_with_a_certificate_https_uses_tls13_and_http_only_redirects(run: Run) -> None:
    built = build(run, certificate_arn=CERTIFICATE)
    listeners = listeners_by_port(built.recording)
    assert sorted(listeners) == [80, 443]

    https = listeners[443].inputs
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"] == DEFAULT_TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["certificateArn"] == CERTIFICATE
    assert https["defaultActions"] == [
        {
            "type": "fixed-response",
            "fixedResponse": {
                "contentType": "text/plain",
                "messageBody": "Not Found",
                "statusCode": "404",
            },
        }
    ]

    http = listeners[80].inputs
    assert http["protocol"] == "HTTP"
    assert http["defaultActions"] == [
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
        }
    ]

    assert built.cluster.https is True
    assert built.outputs["listener_arn"] == listeners[443].outputs["arn"]
    assert built.outputs["url"] == f"https://{built.outputs['dns_name']}"
    for listener in listeners.values():
        assert listener.inputs["loadBalancerArn"] == built.outputs["load_balancer_arn"]


def test_tls_13_only_policy_can_be_chosen(run: Run) -> None:
    built = build(
        run, certificate_arn=CERTIFICATE, tls_policy="ELBSecurityPolicy-TLS13-1-3-2021-06"
    )
    assert listeners_by_port(built.recording)[443].inputs["sslPolicy"] == (
        "ELBSecurityPolicy-TLS13-1-3-2021-06"
    )


def test_certificate_may_be_an_output(run: Run) -> None:
    built = build(run, certificate_arn=pulumi.Output.from_input(CERTIFICATE))
    assert listeners_by_port(built.recording)[443].inputs["certificateArn"] == CERTIFICATE


def test_without_a_certificate_one_http_listener_answers_404(run: Run) -> None:
    built = build(run)
    listeners = listeners_by_port(built.recording)
    assert list(listeners) == [80]
    http = listeners[80].inputs
    assert http["protocol"] == "HTTP"
    assert "sslPolicy" not in http and "certificateArn" not in http
    assert http["defaultActions"][0]["type"] == "fixed-response"
    assert http["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    assert built.cluster.https is False
    assert built.outputs["listener_arn"] == listeners[80].outputs["arn"]
    assert built.outputs["url"] == f"http://{built.outputs['dns_name']}"
    assert built.outputs["url"].endswith(".elb.amazonaws.com")


# --- security group -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("certificate", "ports"), [(None, [80]), (CERTIFICATE, [80, 443])], ids=["http", "https"]
)
def test_alb_ingress_only_on_listener_ports_from_configured_cidrs(
    run: Run, certificate: str | None, ports: list[int]
) -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    overrides: dict[str, Any] = {"ingress_cidrs": cidrs}
    if certificate:
        overrides["certificate_arn"] = certificate
    built = build(run, **overrides)
    group = built.recording.one(SECURITY_GROUP)
    assert "ingress" not in group.inputs and "egress" not in group.inputs  # standalone rules only
    assert group.inputs["vpcId"] == NETWORK.vpc_id
    assert group.inputs["description"]

    rules = built.recording.of_type(INGRESS)
    seen = sorted((r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules)
    assert seen == sorted((p, p, c) for p in ports for c in cidrs)
    for rule in rules:
        assert rule.inputs["ipProtocol"] == "tcp"
        assert rule.inputs["securityGroupId"] == group.outputs["id"]
        assert rule.inputs["description"]
        assert "cidrIpv6" not in rule.inputs

    lb = built.recording.one(LOAD_BALANCER)
    assert lb.inputs["securityGroups"] == [group.outputs["id"]]
    assert built.cluster.alb_security_group_id is not None


def test_default_ingress_is_ipv4_world_on_http_only(run: Run) -> None:
    rules = build(run).recording.of_type(INGRESS)
    assert [(r.inputs["fromPort"], r.inputs["cidrIpv4"]) for r in rules] == [(80, "0.0.0.0/0")]


@pytest.mark.parametrize(
    ("port_range", "expected"), [(None, (1024, 65535)), ((8080, 8080), (8080, 8080))]
)
def test_alb_egress_reaches_only_the_vpc_on_target_ports(
    run: Run, port_range: tuple[int, int] | None, expected: tuple[int, int]
) -> None:
    overrides: dict[str, Any] = {} if port_range is None else {"target_port_range": port_range}
    built = build(run, **overrides)
    egress = built.recording.one(EGRESS).inputs
    assert egress["cidrIpv4"] == NETWORK.vpc_cidr_block
    assert egress["ipProtocol"] == "tcp"
    assert (egress["fromPort"], egress["toPort"]) == expected
    assert egress["description"]


# --- load balancer --------------------------------------------------------------------------


def test_load_balancer_is_hardened_and_internet_facing(run: Run) -> None:
    built = build(run)
    lb = built.recording.one(LOAD_BALANCER)
    inputs = lb.inputs
    assert inputs["loadBalancerType"] == "application"
    assert inputs["internal"] is False
    assert inputs["subnets"] == ["subnet-pub-a", "subnet-pub-b"]
    assert inputs["dropInvalidHeaderFields"] is True
    assert inputs["desyncMitigationMode"] == "defensive"
    assert inputs["enableDeletionProtection"] is True
    assert inputs["idleTimeout"] == 60
    assert "name" not in inputs  # short names are autonamed by Pulumi

    bucket = _log_part(built, "")
    assert inputs["accessLogs"] == {
        "enabled": True,
        "bucket": bucket.outputs["bucket"],
        "prefix": "alb",
    }
    # AWS writes a test object when logging is enabled: the policy must exist first.
    policy = built.recording.named("web-alb-logs-policy")
    assert policy.urn in lb.dependencies
    assert _log_part(built, "-encryption").urn in lb.dependencies

    assert built.outputs["dns_name"] == lb.outputs["dnsName"]
    assert built.cluster.load_balancer_arn_suffix is not None


def test_idle_timeout_is_configurable(run: Run) -> None:
    built = build(run, idle_timeout=300)
    assert built.recording.one(LOAD_BALANCER).inputs["idleTimeout"] == 300


def test_without_deletion_protection_the_log_bucket_can_be_destroyed(run: Run) -> None:
    built = build(run, deletion_protection=False)
    assert built.recording.one(LOAD_BALANCER).inputs["enableDeletionProtection"] is False
    assert _log_part(built, "").inputs["forceDestroy"] is True


def test_protected_log_bucket_is_not_force_destroyed(run: Run) -> None:
    assert _log_part(build(run), "").inputs["forceDestroy"] is False


def test_long_names_get_valid_physical_names(run: Run) -> None:
    name = "Analytics_Service_With_A_Very_Long_Name"
    built = build(run, name=name)
    lb_name = built.recording.one(LOAD_BALANCER).inputs["name"]
    assert len(lb_name) <= 32
    assert lb_name.replace("-", "").isalnum() and not lb_name.startswith("-")
    bucket_name = built.recording.of_type(BUCKET)[0].inputs["bucket"]
    assert len(bucket_name) <= 63 and bucket_name == bucket_name.lower()
    assert "_" not in bucket_name
    # Stable between runs: a changing name would replace the load balancer.
    assert build(run, name=name).recording.one(LOAD_BALANCER).inputs["name"] == lb_name


# --- access log bucket ----------------------------------------------------------------------


def test_access_log_bucket_is_encrypted_private_and_expiring(run: Run) -> None:
    built = build(run, access_log_retention_days=30)
    bucket = _log_part(built, "")
    bucket_id = bucket.outputs["id"]

    encryption = _log_part(built, "-encryption").inputs
    assert encryption["bucket"] == bucket_id
    assert encryption["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]

    public_access = _log_part(built, "-public-access").inputs
    assert public_access["bucket"] == bucket_id
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert public_access[flag] is True

    ownership = _log_part(built, "-ownership").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}

    lifecycle = _log_part(built, "-lifecycle").inputs
    assert lifecycle["bucket"] == bucket_id
    rule, markers = lifecycle["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == {"days": 30}
    assert rule["filter"] == {"prefix": "alb/"}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert markers["expiration"] == {"expiredObjectDeleteMarker": True}

    versioning = _log_part(built, "-versioning").inputs
    assert versioning["bucket"] == bucket_id
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}


def test_default_access_log_retention_is_90_days(run: Run) -> None:
    rule = _log_part(build(run), "-lifecycle").inputs["rules"][0]
    assert rule["expiration"] == {"days": 90}


def test_regions_opened_after_2022_get_only_the_log_delivery_service_grant(run: Run) -> None:
    recording = run(lambda: Cluster("web", _args()), config={"aws:region": "ap-southeast-4"})
    policy = json.loads(recording.named("web-alb-logs-policy").inputs["policy"])
    sids = [s["Sid"] for s in policy["Statement"]]
    # The provider knows no ELB account there; asking for one would fail the deployment.
    assert sids == ["ElbLogDeliveryWritesAccessLogs", "DenyInsecureTransport"]


def test_bucket_policy_lets_elb_deliver_logs_under_the_prefix_only(run: Run) -> None:
    built = build(run)
    bucket_arn = _log_part(built, "").outputs["arn"]
    policy_record = built.recording.named("web-alb-logs-policy")
    assert policy_record.inputs["bucket"] == _log_part(built, "").outputs["id"]
    assert _log_part(built, "-public-access").urn in policy_record.dependencies
    policy = json.loads(policy_record.inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    logs = f"{bucket_arn}/alb/AWSLogs/123456789012/*"

    account = statements["ElbAccountWritesAccessLogs"]
    # The fake cloud's us-east-1 ELB log-delivery account, as aws.elb.get_service_account says.
    assert account["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    service = statements["ElbLogDeliveryWritesAccessLogs"]
    assert service["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    for grant in (account, service):
        assert grant["Effect"] == "Allow"
        assert grant["Action"] == "s3:PutObject"
        assert grant["Resource"] == logs

    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket_arn, f"{bucket_arn}/*"}
    assert all(s["Effect"] == "Deny" for s in policy["Statement"] if s.get("Principal") == "*")


def test_access_log_bucket_access_is_logged_to_a_separate_bucket(run: Run) -> None:
    built = build(run)
    logs = _log_part(built, "")
    access = built.recording.named("web-alb-logs-access")
    logging = _log_part(built, "-access-logging").inputs
    assert logging["bucket"] == logs.outputs["id"]
    assert logging["targetBucket"] == access.outputs["id"] != logs.outputs["id"]
    assert logging["targetPrefix"] == "s3-access-logs/"
    # The target bucket is as private as the one it watches, and lets S3 logging write for
    # this source bucket only.
    target_encryption = built.recording.named("web-alb-logs-access-encryption").inputs
    assert target_encryption["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }
    policy = json.loads(built.recording.named("web-alb-logs-access-policy").inputs["policy"])
    grant = next(s for s in policy["Statement"] if s["Sid"] == "S3ServerAccessLogsWrite")
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Condition"]["ArnLike"] == {"aws:SourceArn": [logs.outputs["arn"]]}
    assert grant["Resource"] == f"{access.outputs['arn']}/s3-access-logs/*"
    # The target does not log into itself.
    assert len(built.recording.of_type("aws:s3/bucketLogging:BucketLogging")) == 1


def test_access_logs_can_be_turned_off(run: Run) -> None:
    built = build(run, access_logs=False)
    for token in (
        BUCKET,
        ENCRYPTION,
        PUBLIC_ACCESS,
        OWNERSHIP,
        LIFECYCLE,
        BUCKET_POLICY,
        VERSIONING,
        BUCKET_LOGGING,
    ):
        assert built.recording.of_type(token) == []
    assert "accessLogs" not in built.recording.one(LOAD_BALANCER).inputs
    assert built.cluster.access_log_bucket_name is None


# --- WAF ------------------------------------------------------------------------------------


def test_waf_is_on_by_default_with_managed_rule_groups(run: Run) -> None:
    built = build(run)
    acl = built.recording.one(WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    groups = [r["statement"]["managedRuleGroupStatement"] for r in acl.inputs["rules"]]
    assert {g["name"] for g in groups} == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        # With the known-bad-inputs group, what Checkov's CKV2_AWS_76 asks of a web ACL.
        "AWSManagedRulesAnonymousIpList",
    }
    assert all(g["vendorName"] == "AWS" for g in groups)
    assert all(r["overrideAction"] == {"none": {}} for r in acl.inputs["rules"])
    # Large API bodies (order batches) are counted, not blocked, by the common rule set.
    (common,) = [g for g in groups if g["name"] == "AWSManagedRulesCommonRuleSet"]
    assert common["ruleActionOverrides"] == [
        {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}
    ]
    # Clients on cloud hosts are counted, not blocked; anonymizers are blocked.
    (anonymous,) = [g for g in groups if g["name"] == "AWSManagedRulesAnonymousIpList"]
    assert anonymous["ruleActionOverrides"] == [
        {"name": "HostingProviderIPList", "actionToUse": {"count": {}}}
    ]
    priorities = [r["priority"] for r in acl.inputs["rules"]]
    assert len(set(priorities)) == len(priorities)
    for rule in acl.inputs["rules"]:
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True

    association = built.recording.one(WEB_ACL_ASSOCIATION)
    assert association.inputs["resourceArn"] == built.outputs["load_balancer_arn"]
    assert association.inputs["webAclArn"] == acl.outputs["arn"]
    # The stack policy "public ALB behind WAFv2" follows this property dependency.
    lb_urn = built.recording.one(LOAD_BALANCER).urn
    assert association.property_dependencies["resourceArn"] == [lb_urn]
    assert built.cluster.web_acl_arn is not None


def test_waf_rate_limit_adds_a_blocking_rate_rule(run: Run) -> None:
    acl = build(run, waf_rate_limit=2000).recording.one(WEB_ACL)
    [rate] = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"] == {"limit": 2000, "aggregateKeyType": "IP"}
    assert rate["action"] == {"block": {}}
    assert rate["priority"] < min(
        r["priority"] for r in acl.inputs["rules"] if "managedRuleGroupStatement" in r["statement"]
    )


def test_waf_can_be_turned_off(run: Run) -> None:
    built = build(run, waf=False)
    assert built.recording.of_type(WEB_ACL) == []
    assert built.recording.of_type(WEB_ACL_ASSOCIATION) == []
    assert built.recording.of_type(WAF_LOGGING) == []
    assert built.cluster.web_acl_arn is None


def test_waf_logs_every_request_to_an_encrypted_expiring_log_group(run: Run) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    built = build(run, log_kms_key_arn=key, waf_log_retention_days=731)
    group = built.recording.named("web-waf-logs")
    # WAF delivers only to groups named aws-waf-logs-*.
    assert group.inputs["namePrefix"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == 731
    assert group.inputs["kmsKeyId"] == key
    logging = built.recording.one(WAF_LOGGING).inputs
    assert logging["resourceArn"] == built.recording.one(WEB_ACL).outputs["arn"]
    assert logging["logDestinationConfigs"] == [group.outputs["arn"]]
    # API keys travel in the Authorization header; they must not land in the logs.
    assert logging["redactedFields"] == [{"singleHeader": {"name": "authorization"}}]
    # Delivery is granted on this group only, not by WAF rewriting the account-wide policy.
    delivery = built.recording.named("web-waf-logs-delivery")
    assert delivery.urn in built.recording.one(WAF_LOGGING).dependencies
    document = json.loads(delivery.inputs["policyDocument"])
    [grant] = document["Statement"]
    assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert grant["Resource"] == f"{group.outputs['arn']}:*"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_waf_logging_defaults_to_a_year_and_can_be_turned_off(run: Run) -> None:
    assert build(run).recording.named("web-waf-logs").inputs["retentionInDays"] == 365
    assert build(run, waf_logging=False).recording.of_type(WAF_LOGGING) == []


def test_waf_logging_without_waf_is_rejected(run: Run) -> None:
    with pytest.raises(ValueError, match="waf_logging=True is invalid; expected False when waf"):
        build(run, waf=False, waf_logging=True)


def test_waf_log_retention_must_be_a_cloudwatch_value(run: Run) -> None:
    with pytest.raises(ValueError, match="waf_log_retention_days=100 is invalid"):
        build(run, waf_log_retention_days=100)


# --- tags and hierarchy ---------------------------------------------------------------------


@pytest.mark.parametrize("certificate", [None, CERTIFICATE], ids=["http", "https"])
def test_every_taggable_resource_carries_the_standard_and_caller_tags(
    run: Run, certificate: str | None
) -> None:
    overrides: dict[str, Any] = {
        "environment": "prod",
        "owner": "analytics-team",
        "tags": {"cost-center": "cc-42"},
        "waf_rate_limit": 500,
    }
    if certificate:
        overrides["certificate_arn"] = certificate
    recording = build(run, **overrides).recording
    children = [r for r in recording if r.type != COMPONENT]
    assert {r.type for r in children} == set(RESOURCE_CLASSES)
    assert missing_standard_tags(children) == []
    for record in children:
        if not accepts_tags(record.type):
            continue
        tags = record.inputs["tags"]
        assert tags["environment"] == "prod"
        assert tags["owner"] == "analytics-team"
        assert tags["project"] == "test"
        assert tags["managed-by"] == "pulumi-platformkit"
        assert tags["cost-center"] == "cc-42"


def test_every_child_is_parented_to_the_component(run: Run) -> None:
    recording = build(run, certificate_arn=CERTIFICATE, waf_rate_limit=100).recording
    component = recording.one(COMPONENT)
    assert component.name == "web"
    children = [r for r in recording if r.type != COMPONENT]
    assert children
    for record in children:
        assert record.parent == component.urn, record.name
        assert record.urn.endswith(f"::{COMPONENT}${record.type}::{record.name}")
        assert record.name.startswith("web-")


def test_accepts_anything_with_a_network_ref(run: Run) -> None:
    class FakeNetwork:
        @property
        def ref(self) -> NetworkRef:
            return NETWORK

    built = build(run, network=FakeNetwork())
    assert built.cluster.network is NETWORK
    assert built.recording.one(LOAD_BALANCER).inputs["subnets"] == ["subnet-pub-a", "subnet-pub-b"]


def test_preview_mode_leaves_computed_outputs_unknown_without_failing(run: Run) -> None:
    built = build(run, mode="preview", certificate_arn=CERTIFICATE, waf_rate_limit=100)
    assert len(built.recording.of_type(LISTENER)) == 2
    assert built.recording.one(WEB_ACL_ASSOCIATION)


# --- validation -----------------------------------------------------------------------------


def test_fewer_than_two_public_subnets_is_rejected(run: Run) -> None:
    network = NetworkRef(vpc_id="vpc-1", vpc_cidr_block="10.0.0.0/16", public_subnet_ids=["s-a"])
    expect_invalid(run, "network.public_subnet_ids", ["s-a"], network=network)


def test_an_output_subnet_list_is_passed_through_unchecked(run: Run) -> None:
    """A list known only later (a ref from another language) cannot be counted: AWS checks it."""

    def program() -> None:
        network = NetworkRef(
            vpc_id="vpc-1",
            vpc_cidr_block="10.0.0.0/16",
            public_subnet_ids=pulumi.Output.from_input(["s-a"]),
        )
        Cluster("web", {"network": network, "waf": False, "access_logs": False})

    assert run(program).one(LOAD_BALANCER).inputs["subnets"] == ["s-a"]


def test_ref_carries_what_a_service_needs(run: Run) -> None:
    built = build(run)
    ref = built.cluster.ref
    assert ref.network is NETWORK
    assert ref.https is False
    assert ref.capacity_provider_strategy == [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert ref.cluster_arn is built.cluster.cluster_arn
    assert ref.listener_arn is built.cluster.listener_arn


@pytest.mark.parametrize(
    ("cidrs", "value"),
    [
        (["10.0.0.0/33"], "10.0.0.0/33"),
        (["not-a-cidr"], "not-a-cidr"),
        (["10.0.0.1/16"], "10.0.0.1/16"),
        (["::/0"], "::/0"),
        (["0.0.0.0/0", "0.0.0.0/0"], "0.0.0.0/0"),
        ([], []),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ],
    ids=["prefix-too-long", "garbage", "host-bits", "ipv6", "duplicate", "empty", "bare-string"],
)
def test_invalid_ingress_cidrs_are_rejected(run: Run, cidrs: Any, value: object) -> None:
    expect_invalid(run, "ingress_cidrs", value, ingress_cidrs=cidrs)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:server-certificate/web",
        "arn:aws:acm:us-east-1:1234:certificate/abc",
        "certificate",
    ],
)
def test_non_acm_certificate_arn_is_rejected(run: Run, arn: str) -> None:
    expect_invalid(run, "certificate_arn", arn, certificate_arn=arn)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_log_retention_days", 0),
        ("access_log_retention_days", 3651),
        ("idle_timeout", 0),
        ("idle_timeout", 4001),
        ("waf_rate_limit", 9),
        ("tls_policy", "ELBSecurityPolicy-2016-08"),
        ("container_insights", "on"),
    ],
)
def test_out_of_range_or_unknown_values_are_rejected(run: Run, field: str, value: object) -> None:
    expect_invalid(run, field, value, **{field: value})


@pytest.mark.parametrize(
    ("port_range", "field"),
    [
        ((0, 100), "target_port_range[0]"),
        ((80, 70000), "target_port_range[1]"),
        ((9000, 8000), "target_port_range"),
        ((80,), "target_port_range"),
    ],
)
def test_invalid_target_port_range_is_rejected(
    run: Run, port_range: tuple[int, ...], field: str
) -> None:
    value = port_range if field == "target_port_range" else port_range[int(field[-2])]
    expect_invalid(run, field, value, target_port_range=port_range)


def test_rate_limit_without_waf_is_rejected(run: Run) -> None:
    expect_invalid(run, "waf_rate_limit", 100, waf=False, waf_rate_limit=100)


def test_unknown_argument_is_rejected(run: Run) -> None:
    expect_invalid(run, "args", ["waf_rate_limt"], waf_rate_limt=100)


def test_error_names_the_component_instance(run: Run) -> None:
    with pytest.raises(ValueError, match=r"^Cluster 'edge': idle_timeout=0 is invalid"):
        build(run, name="edge", idle_timeout=0)
