"""Cost guards: instance classes and task sizes allowed per environment."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from .core import Rule, as_int, setting

RDS_INSTANCE = "aws:rds/instance:Instance"
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

DEFAULT_DB_CLASSES = ["db.t4g.*", "db.t3.*", "db.m7g.*", "db.m6g.*", "db.r7g.*", "db.r6g.*"]
DEFAULT_EC2_TYPES = ["t4g.*", "t3.*", "m7g.*", "m6g.*"]
DEFAULT_MAX_TASK_CPU = 4096
DEFAULT_MAX_TASK_MEMORY = 16384


def _allowed(value: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(value, pattern) for pattern in patterns)


_SIZE_SETTINGS: dict[str, tuple[str, str, list[str]]] = {
    RDS_INSTANCE: ("allowedDbInstanceClasses", "instanceClass", DEFAULT_DB_CLASSES),
    EC2_INSTANCE: ("allowedEc2InstanceTypes", "instanceType", DEFAULT_EC2_TYPES),
    LAUNCH_TEMPLATE: ("allowedEc2InstanceTypes", "instanceType", DEFAULT_EC2_TYPES),
}
"""Per resource type: the config key of its allow-list, the property it sizes, the default."""


def validate_instance_classes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    key, prop, default = _SIZE_SETTINGS[args.resource_type]
    patterns = list(setting(args.get_config(), key, default))
    value = args.props.get(prop)
    if isinstance(value, str) and not _allowed(value, patterns):
        report(f"{prop} {value!r} is not allowed here ({key}: {patterns}).", None)


def validate_task_size(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    limits: list[tuple[str, str, Any]] = [
        ("cpu", "maxTaskCpu", DEFAULT_MAX_TASK_CPU),
        ("memory", "maxTaskMemory", DEFAULT_MAX_TASK_MEMORY),
    ]
    for prop, key, default in limits:
        limit = int(setting(config, key, default))
        value = as_int(args.props.get(prop))
        if value is not None and value > limit:
            report(f"Task {prop} {value} exceeds {key} {limit}.", None)


_PATTERNS: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}

RULES: tuple[Rule, ...] = (
    Rule(
        name="cost-allowed-instance-classes",
        description="Restrict RDS instance classes and EC2 instance types to the allowed list.",
        area="cost",
        severity=Severity.MEDIUM,
        remediation="Pick a class matching the environment's allow-list, or change the config.",
        validate=validate_instance_classes,
        resource_types=tuple(_SIZE_SETTINGS),
        config={
            "allowedDbInstanceClasses": {
                **_PATTERNS,
                "minItems": 1,
                "default": DEFAULT_DB_CLASSES,
                "description": "Glob patterns of allowed RDS instance classes.",
            },
            "allowedEc2InstanceTypes": {
                **_PATTERNS,
                "minItems": 1,
                "default": DEFAULT_EC2_TYPES,
                "description": "Glob patterns of allowed EC2 instance types.",
            },
        },
    ),
    Rule(
        name="cost-fargate-task-size",
        description="Cap ECS task CPU and memory per environment.",
        area="cost",
        severity=Severity.LOW,
        remediation="Lower the task's cpu/memory or raise the environment's limits.",
        validate=validate_task_size,
        resource_types=(TASK_DEFINITION,),
        config={
            "maxTaskCpu": {
                "type": "integer",
                "enum": [256, 512, 1024, 2048, 4096, 8192, 16384],
                "default": DEFAULT_MAX_TASK_CPU,
                "description": "Largest task cpu (units) allowed.",
            },
            "maxTaskMemory": {
                "type": "integer",
                "minimum": 512,
                "maximum": 122880,
                "default": DEFAULT_MAX_TASK_MEMORY,
                "description": "Largest task memory (MiB) allowed.",
            },
        },
    ),
)
