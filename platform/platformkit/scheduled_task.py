"""``ScheduledTask``: run a one-off command in an existing ECS task definition on a schedule.

EventBridge Scheduler starts the task (``ecs:RunTask``) with a command override, e.g. the
analytics service's ``flask clv fit`` nightly in the service's own image, network and roles.
The schedule's role may run only that task definition family, only on that cluster, and pass
only the task's two roles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from platformkit.iam import service_trust_policy
from platformkit.tags import standard_tags
from platformkit.validation import invalid, require_range

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
    ``service.task_definition``. Required."""
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
    """Value of the ``owner`` tag. Defaults to ``platform``."""


# Listed, not read from the TypedDict: under postponed annotations ``NotRequired`` is a string
# there, and every key would count as required.
_REQUIRED = frozenset(
    (
        "cluster_arn",
        "task_definition_arn",
        "container_name",
        "command",
        "subnet_ids",
        "security_group_ids",
        "task_role_arn",
        "execution_role_arn",
    )
)
_COMPONENT = "ScheduledTask"


def _validate(name: str, args: ScheduledTaskArgs) -> None:
    """Reject a missing required field, an empty command, a schedule in another syntax and
    retries outside what EventBridge Scheduler accepts, naming the field and value."""
    for key in args:
        if key not in ScheduledTaskArgs.__annotations__:
            raise invalid(_COMPONENT, name, key, args[key], "no such field")  # type: ignore[literal-required]
    for key in sorted(_REQUIRED - set(args)):
        raise invalid(_COMPONENT, name, key, None, "a value (it is required)")
    command = args["command"]
    if isinstance(command, str) or not command or not all(isinstance(c, str) for c in command):
        raise invalid(_COMPONENT, name, "command", command, "a non-empty list of strings")
    expression = args.get("schedule_expression", DEFAULT_SCHEDULE)
    if not expression.startswith(("cron(", "rate(", "at(")) or not expression.endswith(")"):
        expected = "cron(...), rate(...) or at(...)"
        raise invalid(_COMPONENT, name, "schedule_expression", expression, expected)
    retries = args.get("retry_attempts", DEFAULT_RETRY_ATTEMPTS)
    require_range(_COMPONENT, name, "retry_attempts", retries, 0, 185)


def _family_arn(task_definition_arn: str) -> str:
    """Every revision of the task definition's family: ``...:task-definition/family:*``."""
    return task_definition_arn.rsplit(":", 1)[0] + ":*"


class ScheduledTask(pulumi.ComponentResource):
    """An EventBridge Scheduler schedule running an ECS task with a command override."""

    schedule_arn: pulumi.Output[str]
    """ARN of the schedule."""
    role_arn: pulumi.Output[str]
    """ARN of the role the scheduler assumes to start the task."""

    def __init__(
        self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platformkit:index:ScheduledTask", name, {}, opts)
        _validate(name, args)
        tags = standard_tags(environment=args.get("environment"), owner=args.get("owner"))
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        role = aws.iam.Role(
            f"{name}-scheduler",
            description=f"EventBridge Scheduler starts the {name} task",
            assume_role_policy=service_trust_policy(SCHEDULER_SERVICE, account_id=account),
            tags=tags,
            opts=child,
        )
        key = args.get("kms_key_arn")
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
                            "Resource": pulumi.Output.from_input(args["task_definition_arn"]).apply(
                                _family_arn
                            ),
                            "Condition": {"ArnEquals": {"ecs:cluster": args["cluster_arn"]}},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "iam:PassRole",
                            "Resource": [args["task_role_arn"], args["execution_role_arn"]],
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
        overrides = {
            "containerOverrides": [
                {"name": args["container_name"], "command": list(args["command"])}
            ]
        }
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            description=f"Runs {' '.join(args['command'])} in {args['container_name']}",
            schedule_expression=args.get("schedule_expression", DEFAULT_SCHEDULE),
            schedule_expression_timezone=args.get("schedule_timezone", DEFAULT_TIMEZONE),
            # A missed start is not made up for: the next run does the same work.
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=key,
            target={
                "arn": args["cluster_arn"],
                "role_arn": role.arn,
                "input": json.dumps(overrides),
                "retry_policy": {
                    "maximum_retry_attempts": args.get("retry_attempts", DEFAULT_RETRY_ATTEMPTS)
                },
                "ecs_parameters": {
                    "task_definition_arn": args["task_definition_arn"],
                    "launch_type": "FARGATE",
                    "task_count": 1,
                    "network_configuration": {
                        "subnets": args["subnet_ids"],
                        "security_groups": args["security_group_ids"],
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
        self.register_outputs({"schedule_arn": self.schedule_arn, "role_arn": self.role_arn})
