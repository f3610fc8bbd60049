"""``ScheduledTask``: run a one-off command in an existing ECS task definition on a schedule.

EventBridge Scheduler starts the task (``ecs:RunTask``) with a command override, e.g. the
analytics service's ``flask clv fit`` nightly in the service's own image, network and roles.
The schedule's role may run only that task definition family, only on that cluster, and pass
only the task's two roles.

The web service's task definition carries its HTTP health check, which a one-off command does
not answer: ECS stops a task for failing it only when the task belongs to a service ("If a task
is run manually, and not as part of a service, the task will continue its lifecycle regardless
of its health status", the ECS API reference, ``HealthCheck``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from platformkit.component_base import Component
from platformkit.iam import service_trust_policy
from platformkit.tags import read_tags
from platformkit.validation import ArgumentReader, IntRange

DEFAULT_SCHEDULE = "cron(0 3 * * ? *)"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_RETRY_ATTEMPTS = 2
SCHEDULER_SERVICE = "scheduler.amazonaws.com"


class ScheduledTaskArgs(TypedDict):
    """Arguments of ``ScheduledTask``."""

    cluster_arn: pulumi.Input[str]
    """ARN of the ECS cluster to run the task on. Required."""
    task_definition_arn: pulumi.Input[str]
    """ARN of the task definition (a revision) to run, e.g. a ``WebService``'s
    ``task_definition_arn``. Required."""
    container_name: str
    """Container of the task definition whose command is replaced. Required."""
    command: Sequence[str]
    """The command to run instead of the image's, as an argument list. Required."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets for the task's network interface (private ones: no public IP is assigned).
    Required."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Security groups of the task (those letting it reach what the command needs). Required."""
    task_role_arn: pulumi.Input[str]
    """The task definition's task role, which the schedule must be allowed to pass. Required."""
    execution_role_arn: pulumi.Input[str]
    """The task definition's execution role, which the schedule must be allowed to pass.
    Required."""
    schedule_expression: NotRequired[str]
    """When to run: ``cron(...)``, ``rate(...)`` or ``at(...)`` in EventBridge Scheduler's
    syntax. Defaults to ``cron(0 3 * * ? *)`` (03:00 every day)."""
    schedule_timezone: NotRequired[str]
    """IANA time zone of ``schedule_expression``. Defaults to ``UTC``."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key encrypting the schedule's target input (the command); the
    scheduler's role may decrypt with it. Defaults to none: an AWS-owned key."""
    retry_attempts: NotRequired[int]
    """Times a failed ``RunTask`` call (not a failed command) is retried, 0-185. Defaults to
    ``2``."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to ``platform-team``."""


_COMPONENT = "ScheduledTask"
RETRY_ATTEMPTS = IntRange(0, 185)
"""What EventBridge Scheduler accepts for a target's ``maximum_retry_attempts``."""


@dataclass(frozen=True)
class ScheduledTaskSettings:
    """``ScheduledTaskArgs`` read and checked (``read_settings``), defaults applied. Plain
    values where the argument is one; the ARNs and network ids stay ``pulumi.Input``s (they
    come from other resources and decide no resource count)."""

    cluster_arn: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]
    container_name: str
    command: tuple[str, ...]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    schedule_expression: str
    schedule_timezone: str
    kms_key_arn: pulumi.Input[str] | None
    retry_attempts: int
    tags: dict[str, str]


def read_settings(name: str, args: ScheduledTaskArgs) -> ScheduledTaskSettings:
    """Reject unknown, missing and mistyped fields, an empty command, a schedule in another
    syntax and retries outside what EventBridge Scheduler accepts, naming the instance, field
    and value."""
    read = ArgumentReader(_COMPONENT, name, args, ScheduledTaskArgs.__annotations__)
    command = read.strings("command")
    if not command:
        raise read.fail("command", read.get("command"), "a non-empty list of strings")
    expression = read.string("schedule_expression", DEFAULT_SCHEDULE)
    assert expression is not None
    if not expression.startswith(("cron(", "rate(", "at(")) or not expression.endswith(")"):
        raise read.fail("schedule_expression", expression, "cron(...), rate(...) or at(...)")
    timezone = read.string("schedule_timezone", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE
    arn_or_output = (str, pulumi.Output)
    ids = (list, tuple, pulumi.Output)
    return ScheduledTaskSettings(
        cluster_arn=read.required("cluster_arn", "the ARN of an ECS cluster", arn_or_output),
        task_definition_arn=read.required(
            "task_definition_arn", "a task definition ARN", arn_or_output
        ),
        container_name=read.required(
            "container_name",
            "the name of a container of the task",
            lambda v: bool(v) and isinstance(v, str),
        ),
        command=tuple(command),
        subnet_ids=read.required("subnet_ids", "a list of subnet ids", ids),
        security_group_ids=read.required("security_group_ids", "a list of security group ids", ids),
        task_role_arn=read.required("task_role_arn", "the task role's ARN", arn_or_output),
        execution_role_arn=read.required(
            "execution_role_arn", "the execution role's ARN", arn_or_output
        ),
        schedule_expression=expression,
        schedule_timezone=timezone,
        kms_key_arn=read.string_input("kms_key_arn"),
        retry_attempts=read.integer("retry_attempts", DEFAULT_RETRY_ATTEMPTS, RETRY_ATTEMPTS),
        tags=read_tags(read),
    )


def _family_arn(task_definition_arn: str) -> str:
    """Every revision of the task definition's family: ``...:task-definition/family:*``."""
    return task_definition_arn.rsplit(":", 1)[0] + ":*"


class ScheduledTask(Component):
    """An EventBridge Scheduler schedule running an ECS task with a command override."""

    schedule_arn: pulumi.Output[str]
    """ARN of the schedule."""
    role_arn: pulumi.Output[str]
    """ARN of the role the scheduler assumes to start the task."""

    def __init__(
        self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validated before registering, so a bad argument leaves no half-built component.
        s = read_settings(name, args)
        super().__init__("platformkit:index:ScheduledTask", name, s.tags, opts)
        tags = self._tags
        child = self._child()
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        role = aws.iam.Role(
            f"{name}-scheduler",
            description=f"EventBridge Scheduler starts the {name} task",
            assume_role_policy=service_trust_policy(SCHEDULER_SERVICE, account_id=account),
            tags=tags,
            opts=child,
        )
        key = s.kms_key_arn
        # The scheduler decrypts the schedule's input with its role when a customer key holds it.
        decrypt = (
            [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]
            if key is not None
            else []
        )
        aws.iam.RolePolicy(
            f"{name}-run-task",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "ecs:RunTask",
                            "Resource": pulumi.Output.from_input(s.task_definition_arn).apply(
                                _family_arn
                            ),
                            "Condition": {"ArnEquals": {"ecs:cluster": s.cluster_arn}},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "iam:PassRole",
                            "Resource": [s.task_role_arn, s.execution_role_arn],
                            "Condition": {
                                "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                            },
                        },
                        *decrypt,
                    ],
                }
            ),
            opts=child,
        )
        overrides = {"containerOverrides": [{"name": s.container_name, "command": list(s.command)}]}
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            description=f"Runs {' '.join(s.command)} in {s.container_name}",
            schedule_expression=s.schedule_expression,
            schedule_expression_timezone=s.schedule_timezone,
            # A missed start is not made up for: the next run does the same work.
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=key,
            target={
                "arn": s.cluster_arn,
                "role_arn": role.arn,
                "input": json.dumps(overrides),
                "retry_policy": {"maximum_retry_attempts": s.retry_attempts},
                "ecs_parameters": {
                    "task_definition_arn": s.task_definition_arn,
                    "launch_type": "FARGATE",
                    "task_count": 1,
                    "network_configuration": {
                        "subnets": s.subnet_ids,
                        "security_groups": s.security_group_ids,
                        "assign_public_ip": False,
                    },
                    "tags": tags,
                    "propagate_tags": "TASK_DEFINITION",
                },
            },
            opts=child,
        )
        self.schedule_arn = schedule.arn
        self.role_arn = role.arn
        self.register_outputs({"scheduleArn": self.schedule_arn, "roleArn": self.role_arn})
