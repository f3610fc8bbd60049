"""Every resource rule with a compliant and a violating input, shaped as the SDK passes them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from platformkit.policy import RULES

from .helpers import run_rule

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TG = "aws:lb/targetGroup:TargetGroup"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER = "aws:ecs/cluster:Cluster"
SERVICE = "aws:ecs/service:Service"
DB = "aws:rds/instance:Instance"
REPO = "aws:ecr/repository:Repository"
REPO_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
REQUIRED_GROUPS = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
]


def _managed(group: str, override: str = "none") -> dict[str, Any]:
    return {
        "name": group,
        "overrideAction": {override: {}},
        "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": group}},
    }


TAGS = {
    "environment": "prod",
    "project": "ecommerce-analytics",
    "owner": "platform",
    "managed-by": "x",
}


def container(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "web",
        "image": "123.dkr.ecr.eu-west-1.amazonaws.com/web:abc",
        "essential": True,
        "readonlyRootFilesystem": True,
        "environment": [{"name": "FLASK_ENV", "value": "production"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:..."}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "web"}},
        "portMappings": [{"containerPort": 8000}],
    }
    base.update(overrides)
    return base


def task(**overrides: Any) -> dict[str, Any]:
    return {
        "family": "web",
        "cpu": "512",
        "memory": "1024",
        "taskRoleArn": "arn:aws:iam::1:role/task",
        "executionRoleArn": "arn:aws:iam::1:role/exec",
        "containerDefinitions": json.dumps([container(**overrides)]),
    }


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


DB_OK: dict[str, Any] = {
    "engine": "mysql",
    "instanceClass": "db.t4g.small",
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "multiAz": True,
    "backupRetentionPeriod": 30,
    "deletionProtection": True,
    "skipFinalSnapshot": False,
    "finalSnapshotIdentifier": "db-final",
    "manageMasterUserPassword": True,
    "enabledCloudwatchLogsExports": ["error", "slowquery"],
    "iamDatabaseAuthenticationEnabled": True,
}
LB_OK: dict[str, Any] = {
    "loadBalancerType": "application",
    "internal": False,
    "dropInvalidHeaderFields": True,
    "enableDeletionProtection": True,
    "accessLogs": {"bucket": "logs", "enabled": True},
}
REDIRECT = [
    {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
]
FORWARD = [{"type": "forward", "targetGroupArn": "arn:tg"}]
TRUST_ECS = doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)

# (rule, type, compliant props, violating props, config)
CASES: list[tuple[str, str, dict[str, Any] | None, dict[str, Any], dict[str, Any]]] = [
    (
        "ec2-default-security-group-closed",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        {"vpcId": "vpc-1", "ingress": [], "egress": []},
        {
            "vpcId": "vpc-1",
            "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
        },
        {},
    ),
    (
        "ec2-subnet-no-public-ip-on-launch",
        "aws:ec2/subnet:Subnet",
        {"mapPublicIpOnLaunch": False},
        {"mapPublicIpOnLaunch": True},
        {},
    ),
    (
        "ec2-instance-no-public-ip",
        "aws:ec2/instance:Instance",
        {"associatePublicIpAddress": False},
        {"associatePublicIpAddress": True},
        {},
    ),
    ("ec2-no-default-vpc", "aws:ec2/defaultVpc:DefaultVpc", None, {}, {}),
    (
        "ec2-no-world-ingress",
        INGRESS,
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 8000, "toPort": 8000},
        {},
    ),
    (
        "ec2-no-world-ingress",
        SG,
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
        {
            "ingress": [
                {"protocol": "udp", "fromPort": 500, "toPort": 500, "ipv6CidrBlocks": ["::/0"]}
            ]
        },
        {},
    ),
    (
        "ec2-no-world-ingress",
        SG_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks": ["10.0.0.0/16"],
        },
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 8443,
            "toPort": 8443,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        {},
    ),
    (
        "ec2-no-public-database-or-app-ports",
        INGRESS,
        {
            "referencedSecurityGroupId": "sg-app",
            "ipProtocol": "tcp",
            "fromPort": 3306,
            "toPort": 3306,
        },
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 3000, "toPort": 6000},
        {},
    ),
    (
        "ec2-no-public-database-or-app-ports",
        SG,
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.0.0.0/16"]}
            ]
        },
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
        {},
    ),
    (
        "ec2-no-unrestricted-egress",
        EGRESS,
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "-1"},
        {},
    ),
    (
        # A default security group's rules are judged like any group's.
        "ec2-no-unrestricted-egress",
        DEFAULT_SG,
        {"egress": []},
        {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]},
        {},
    ),
    (
        "ec2-security-group-descriptions",
        DEFAULT_SG,
        {"ingress": []},
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"]}
            ]
        },
        {},
    ),
    (
        "ec2-security-group-descriptions",
        SG,
        {
            "description": "ALB: HTTP(S) from the internet",
            "ingress": [
                {
                    "protocol": "tcp",
                    "fromPort": 443,
                    "toPort": 443,
                    "cidrBlocks": ["0.0.0.0/0"],
                    "description": "HTTPS",
                }
            ],
        },
        {"description": "Managed by Pulumi"},
        {},
    ),
    (
        "alb-https-only",
        LISTENER,
        {"protocol": "HTTP", "defaultActions": REDIRECT},
        {"protocol": "HTTP", "defaultActions": FORWARD},
        {},
    ),
    (
        "alb-tls-policy",
        LISTENER,
        {
            "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "certificateArn": "arn:acm",
        },
        {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"},
        {},
    ),
    ("alb-drop-invalid-headers", LB, LB_OK, {**LB_OK, "dropInvalidHeaderFields": False}, {}),
    ("alb-deletion-protection", LB, LB_OK, {**LB_OK, "enableDeletionProtection": False}, {}),
    (
        "alb-access-logs",
        LB,
        LB_OK,
        {**LB_OK, "accessLogs": {"bucket": "logs", "enabled": False}},
        {},
    ),
    (
        "alb-desync-mitigation",
        LB,
        {**LB_OK, "desyncMitigationMode": "strictest"},
        {**LB_OK, "desyncMitigationMode": "monitor"},
        {},
    ),
    (
        "alb-target-group-health-check",
        TG,
        {
            "targetType": "ip",
            "healthCheck": {"enabled": True, "path": "/healthz", "protocol": "HTTP"},
        },
        {"targetType": "ip", "healthCheck": {"enabled": False}},
        {},
    ),
    (
        "ecs-container-insights",
        CLUSTER,
        {"settings": [{"name": "containerInsights", "value": "enhanced"}]},
        {"settings": [{"name": "containerInsights", "value": "disabled"}]},
        {},
    ),
    (
        "ecs-no-secrets-in-environment",
        TASK,
        task(),
        task(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}]),
        {},
    ),
    (
        "ecs-no-secrets-in-environment",
        TASK,
        task(environment=[{"name": "TOKEN_TTL", "value": "60"}]),
        task(environment=[{"name": "DATABASE_URL", "value": "mysql://app:s3cret@db:3306/app"}]),
        {"allowedNames": ["TOKEN_TTL"]},
    ),
    (
        # An ARN says where a secret lives; a secret-looking name ending in _ARN must hold one.
        "ecs-no-secrets-in-environment",
        TASK,
        task(
            environment=[
                {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:us-east-1:1:secret:x"}
            ]
        ),
        task(environment=[{"name": "DB_SECRET_ARN", "value": "hunter2"}]),
        {},
    ),
    ("ecs-container-logging", TASK, task(), task(logConfiguration=None), {}),
    ("ecs-no-privileged-containers", TASK, task(privileged=False), task(privileged=True), {}),
    ("ecs-read-only-root-filesystem", TASK, task(), task(readonlyRootFilesystem=False), {}),
    (
        "ecs-task-role-separate-from-execution-role",
        TASK,
        task(),
        {**task(), "taskRoleArn": "arn:aws:iam::1:role/exec"},
        {},
    ),
    (
        "ecs-service-no-public-ip",
        SERVICE,
        {"networkConfiguration": {"assignPublicIp": False, "subnets": ["s-1"]}},
        {"networkConfiguration": {"assignPublicIp": True, "subnets": ["s-1"]}},
        {},
    ),
    (
        "ecs-fargate-platform-latest",
        SERVICE,
        {"launchType": "FARGATE", "platformVersion": "LATEST"},
        {"launchType": "FARGATE", "platformVersion": "1.3.0"},
        {},
    ),
    ("rds-storage-encrypted", DB, DB_OK, {**DB_OK, "storageEncrypted": False}, {}),
    ("rds-not-public", DB, DB_OK, {**DB_OK, "publiclyAccessible": True}, {}),
    ("rds-multi-az", DB, DB_OK, {**DB_OK, "multiAz": False}, {}),
    ("rds-backup-retention", DB, DB_OK, {**DB_OK, "backupRetentionPeriod": 7}, {"minimumDays": 30}),
    (
        "rds-backup-retention",
        DB,
        {**DB_OK, "backupRetentionPeriod": 1},
        {**DB_OK, "backupRetentionPeriod": 0},
        {"minimumDays": 1},
    ),
    ("rds-deletion-protection", DB, DB_OK, {**DB_OK, "deletionProtection": False}, {}),
    ("rds-final-snapshot", DB, DB_OK, {**DB_OK, "skipFinalSnapshot": True}, {}),
    ("rds-final-snapshot", DB, DB_OK, {**DB_OK, "finalSnapshotIdentifier": None}, {}),
    ("rds-final-snapshot", DB, DB_OK, {**DB_OK, "finalSnapshotIdentifier": ""}, {}),
    (
        "rds-final-snapshot",
        DB,
        DB_OK,
        {k: v for k, v in DB_OK.items() if k != "finalSnapshotIdentifier"},
        {},
    ),
    (
        "rds-no-literal-master-password",
        DB,
        DB_OK,
        {**DB_OK, "manageMasterUserPassword": None, "password": "hunter2"},
        {},
    ),
    ("rds-log-exports", DB, DB_OK, {**DB_OK, "enabledCloudwatchLogsExports": []}, {}),
    ("rds-auto-minor-version-upgrade", DB, DB_OK, {**DB_OK, "autoMinorVersionUpgrade": False}, {}),
    ("rds-iam-authentication", DB, DB_OK, {**DB_OK, "iamDatabaseAuthenticationEnabled": False}, {}),
    (
        "rds-performance-insights-kms",
        DB,
        {**DB_OK, "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": "arn:k"},
        {**DB_OK, "performanceInsightsEnabled": True},
        {},
    ),
    (
        "waf-managed-rule-groups",
        WEB_ACL,
        {"rules": [_managed(g) for g in REQUIRED_GROUPS]},
        {"rules": [_managed(g) for g in REQUIRED_GROUPS[:2]]},
        {},
    ),
    (
        "ecr-immutable-tags",
        REPO,
        {"imageTagMutability": "IMMUTABLE"},
        {"imageTagMutability": "MUTABLE"},
        {},
    ),
    (
        "ecr-scan-on-push",
        REPO,
        {"imageScanningConfiguration": {"scanOnPush": True}},
        {"imageScanningConfiguration": {"scanOnPush": False}},
        {},
    ),
    (
        "ecr-kms-encryption",
        REPO,
        {"encryptionConfigurations": [{"encryptionType": "KMS"}]},
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        {},
    ),
    (
        "ecr-repository-policy-not-public",
        REPO_POLICY,
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::1:root"},
                    "Action": "ecr:BatchGetImage",
                }
            )
        },
        {"policy": doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"})},
        {},
    ),
    (
        "cloudwatch-log-retention",
        LOG_GROUP,
        {"retentionInDays": 365},
        {"retentionInDays": 30},
        {"minimumDays": 365},
    ),
    ("cloudwatch-log-retention", LOG_GROUP, {"retentionInDays": 7}, {}, {"minimumDays": 7}),
    ("cloudwatch-log-group-kms", LOG_GROUP, {"kmsKeyId": "arn:kms"}, {}, {}),
    ("kms-key-rotation", KEY, {"enableKeyRotation": True}, {"enableKeyRotation": False}, {}),
    (
        "kms-key-policy-safe",
        KEY,
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::1:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            )
        },
        {"bypassPolicyLockoutSafetyCheck": True},
        {},
    ),
    (
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "s3:Get*"],
                    "Resource": "arn:x",
                }
            )
        },
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        {},
    ),
    (
        "iam-no-wildcard-actions",
        ROLE,
        {
            "inlinePolicies": [
                {"name": "p", "policy": doc({"Effect": "Deny", "Action": "*", "Resource": "*"})}
            ]
        },
        {
            "inlinePolicies": [
                {"name": "p", "policy": doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}
            ]
        },
        {},
    ),
    (
        "iam-no-admin-policies",
        ATTACHMENT,
        {"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        {},
    ),
    (
        "iam-role-service-principal-trust",
        ROLE,
        {"assumeRolePolicy": TRUST_ECS},
        {
            "assumeRolePolicy": doc(
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            )
        },
        {},
    ),
    ("required-tags", DB, {"tags": TAGS}, {"tags": {"environment": "prod"}}, {}),
    ("required-tags", "aws:ec2/vpc:Vpc", {"tags": {"Name": "x"}, "tagsAll": TAGS}, {}, {}),
    (
        "cost-allowed-instance-classes",
        DB,
        {"instanceClass": "db.t4g.small"},
        {"instanceClass": "db.r6g.8xlarge"},
        {"allowedDbInstanceClasses": ["db.t4g.micro", "db.t4g.small"]},
    ),
    (
        "cost-allowed-instance-classes",
        "aws:ec2/instance:Instance",
        {"instanceType": "t4g.micro"},
        {"instanceType": "p4d.24xlarge"},
        {},
    ),
    (
        "cost-fargate-task-size",
        TASK,
        task(),
        {**task(), "cpu": "4096", "memory": "8192"},
        {"maxTaskCpu": 1024, "maxTaskMemory": 4096},
    ),
]


def _ids() -> list[str]:
    return [f"{case[0]}-{i}" for i, case in enumerate(CASES)]


@pytest.mark.parametrize(("rule", "type_token", "good", "bad", "config"), CASES, ids=_ids())
def test_compliant_input_passes(rule, type_token, good, bad, config):
    if good is None:  # the type itself is the violation; a dedicated VPC is the compliant form
        type_token, good = "aws:ec2/vpc:Vpc", {}
    assert run_rule(rule, type_token, good, config) == []


@pytest.mark.parametrize(("rule", "type_token", "good", "bad", "config"), CASES, ids=_ids())
def test_violating_input_is_reported(rule, type_token, good, bad, config):
    messages = run_rule(rule, type_token, bad, config)
    assert messages, f"{rule} accepted {bad}"
    assert all(isinstance(m, str) and m for m in messages)


def test_every_resource_rule_has_cases():
    covered = {case[0] for case in CASES}
    resource_rules = {r.name for r in RULES if r.kind == "resource"}
    assert resource_rules - covered == set()


@pytest.mark.parametrize("rule", [r for r in RULES if r.kind == "resource"], ids=lambda r: r.name)
def test_rules_ignore_unrelated_resources(rule):
    assert run_rule(rule.name, "aws:s3/bucketPolicy:BucketPolicy", {"policy": "{}"}) == []


def test_world_ingress_allowed_ports_come_from_config():
    rule = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443}
    assert run_rule("ec2-no-world-ingress", INGRESS, rule)
    assert run_rule("ec2-no-world-ingress", INGRESS, rule, {"allowedPorts": [8443]}) == []


def test_dev_http_listener_forwarding_is_a_violation_even_on_port_80():
    # Dev serves plain HTTP by design: the rule still fires; dev.json makes it advisory.
    messages = run_rule(
        "alb-https-only", LISTENER, {"protocol": "HTTP", "port": 80, "defaultActions": FORWARD}
    )
    assert "redirecting to HTTPS" in messages[0]


def test_literal_password_is_never_echoed():
    messages = run_rule("rds-no-literal-master-password", DB, {**DB_OK, "password": "hunter2"})
    assert messages and all("hunter2" not in m for m in messages)
