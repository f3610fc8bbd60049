"""ECS rules: Container Insights, container definitions hygiene, roles, networking."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from .core import Rule, as_list, as_mapping, dig, is_true, load_json, setting

CLUSTER = "aws:ecs/cluster:Cluster"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"

SECRET_NAME_RE = re.compile(
    r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)",
    re.IGNORECASE,
)
"""Environment variable names that suggest the value is a secret."""

SECRET_VALUE_RES = (
    re.compile(r"\bA(KIA|SIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # credentials embedded in a URL
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
"""Values that are secrets whatever the variable is called."""

DEFAULT_LOG_DRIVERS = ["awslogs", "awsfirelens"]


def container_definitions(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(name, definition)`` for each container of a task definition.

    ``containerDefinitions`` is a JSON string; during preview it is often unknown (it embeds
    the image URI and log group name), and reading it then raises the SDK's
    ``UnknownValueError``, which the rule wrapper handles.
    """
    parsed = load_json(args.props.get("containerDefinitions"))
    for index, item in enumerate(as_list(parsed)):
        definition = as_mapping(item)
        if definition is not None:
            yield str(definition.get("name") or f"#{index}"), definition


def _is_reference(name: str, value: str) -> bool:
    """``DB_SECRET_ARN=arn:aws:secretsmanager:...`` names where a secret lives; it is no secret."""
    return name.upper().endswith("_ARN") and value.startswith("arn:")


def validate_no_secrets_in_environment(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    allowed = set(setting(args.get_config(), "allowedNames", []))
    for container, definition in container_definitions(args):
        for entry in as_list(definition.get("environment")):
            variable = as_mapping(entry) or {}
            name = str(variable.get("name") or "")
            value = str(variable.get("value") or "")
            if name in allowed or _is_reference(name, value):
                continue
            if SECRET_NAME_RE.search(name):
                report(
                    f"Container '{container}' passes '{name}' as a plain environment variable; "
                    "its name says it is a secret.",
                    None,
                )
            elif any(pattern.search(value) for pattern in SECRET_VALUE_RES):
                report(
                    f"Container '{container}' environment variable '{name}' holds a credential.",
                    None,
                )


def validate_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    drivers = list(setting(args.get_config(), "allowedLogDrivers", DEFAULT_LOG_DRIVERS))
    for container, definition in container_definitions(args):
        driver = dig(definition, "logConfiguration", "logDriver")
        if driver not in drivers:
            report(f"Container '{container}' log driver is {driver!r}, not one of {drivers}.", None)


def validate_not_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container, definition in container_definitions(args):
        if is_true(definition.get("privileged")):
            report(f"Container '{container}' runs privileged.", None)


def validate_read_only_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container, definition in container_definitions(args):
        if not is_true(definition.get("readonlyRootFilesystem")):
            report(f"Container '{container}' has a writable root filesystem.", None)


def validate_separate_roles(args: ResourceValidationArgs, report: ReportViolation) -> None:
    task_role = args.props.get("taskRoleArn")
    execution_role = args.props.get("executionRoleArn")
    if task_role and execution_role and task_role == execution_role:
        report(
            "The task role is the execution role: the application would hold the "
            "permissions ECS uses to pull images and read secrets.",
            None,
        )


def validate_container_insights(args: ResourceValidationArgs, report: ReportViolation) -> None:
    values = [
        (as_mapping(s) or {}).get("value")
        for s in as_list(args.props.get("settings"))
        if (as_mapping(s) or {}).get("name") == "containerInsights"
    ]
    if not any(v in ("enabled", "enhanced") for v in values):
        report("Container Insights is not enabled (settings containerInsights).", None)


def validate_service_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_true(dig(args.props.get("networkConfiguration"), "assignPublicIp")):
        report("assignPublicIp is true: tasks get public addresses.", None)


def validate_fargate_platform(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("launchType") != "FARGATE":
        return
    version = args.props.get("platformVersion")
    if version not in (None, "LATEST"):
        report(f"platformVersion is pinned to {version!r}; use LATEST for security fixes.", None)


RULES: tuple[Rule, ...] = (
    Rule(
        name="ecs-container-insights",
        description="Require Container Insights on ECS clusters.",
        area="ecs",
        severity=Severity.LOW,
        remediation="Set settings=[{'name': 'containerInsights', 'value': 'enabled'}].",
        validate=validate_container_insights,
        resource_types=(CLUSTER,),
        checkov=("CKV_AWS_65",),
        cdk_nag=("AwsSolutions-ECS4",),
    ),
    Rule(
        name="ecs-no-secrets-in-environment",
        description="Forbid secrets in container environment variables.",
        area="ecs",
        severity=Severity.CRITICAL,
        remediation=(
            "Move the value to Secrets Manager or SSM and reference it from the container's "
            "'secrets' list (valueFrom); grant the execution role read access to it."
        ),
        validate=validate_no_secrets_in_environment,
        resource_types=(TASK_DEFINITION,),
        cdk_nag=("AwsSolutions-ECS2",),
        config={
            "allowedNames": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": [],
                "description": "Variable names that look secret but are not (e.g. TOKEN_TTL).",
            }
        },
    ),
    Rule(
        name="ecs-container-logging",
        description="Require a log driver on every container.",
        area="ecs",
        severity=Severity.MEDIUM,
        remediation="Set logConfiguration={'logDriver': 'awslogs', 'options': {...}}.",
        validate=validate_logging,
        resource_types=(TASK_DEFINITION,),
        cdk_nag=("AwsSolutions-ECS7",),
        config={
            "allowedLogDrivers": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "default": DEFAULT_LOG_DRIVERS,
                "description": "Log drivers that ship logs off the task.",
            }
        },
    ),
    Rule(
        name="ecs-no-privileged-containers",
        description="Forbid privileged containers.",
        area="ecs",
        severity=Severity.HIGH,
        remediation="Remove privileged=true; Fargate does not support it anyway.",
        validate=validate_not_privileged,
        resource_types=(TASK_DEFINITION,),
        checkov=("CKV_AWS_334",),
    ),
    Rule(
        name="ecs-read-only-root-filesystem",
        description="Require read-only root filesystems on containers.",
        area="ecs",
        severity=Severity.MEDIUM,
        remediation=(
            "Set readonlyRootFilesystem=true and mount writable paths (e.g. /tmp) as volumes."
        ),
        validate=validate_read_only_root,
        resource_types=(TASK_DEFINITION,),
        checkov=("CKV_AWS_336",),
    ),
    Rule(
        name="ecs-task-role-separate-from-execution-role",
        description="Require the task role to differ from the execution role.",
        area="ecs",
        severity=Severity.MEDIUM,
        remediation="Create a separate aws.iam.Role for task_role_arn with only app permissions.",
        validate=validate_separate_roles,
        resource_types=(TASK_DEFINITION,),
        checkov=("CKV_AWS_249",),
    ),
    Rule(
        name="ecs-service-no-public-ip",
        description="Forbid public IPs on ECS service tasks.",
        area="ecs",
        severity=Severity.HIGH,
        remediation="Run tasks in private subnets with assign_public_ip=False (egress via NAT).",
        validate=validate_service_no_public_ip,
        resource_types=(SERVICE,),
        checkov=("CKV_AWS_333",),
    ),
    Rule(
        name="ecs-fargate-platform-latest",
        description="Flag Fargate services pinned to an old platform version.",
        area="ecs",
        severity=Severity.LOW,
        remediation="Leave platform_version unset or set it to LATEST.",
        validate=validate_fargate_platform,
        resource_types=(SERVICE,),
        checkov=("CKV_AWS_332",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
)
