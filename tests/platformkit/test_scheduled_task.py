"""``ScheduledTask``: a schedule that runs a command in an existing task definition, with a role
that can start only that task."""

from __future__ import annotations

import json
from typing import Any

import pytest

from platformkit import ScheduledTask, ScheduledTaskArgs
from platformkit.validation import InvalidArgument
from tests.platformkit.conftest import Run, missing_standard_tags

TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/analytics-dev-web:7"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/analytics"
TASK_ROLE = "arn:aws:iam::123456789012:role/task"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/execution"


def args(**extra: Any) -> ScheduledTaskArgs:
    base: ScheduledTaskArgs = {
        "cluster_arn": CLUSTER,
        "task_definition_arn": TASK,
        "container_name": "app",
        "command": ["flask", "clv", "fit"],
        "subnet_ids": ["subnet-priv-a", "subnet-priv-b"],
        "security_group_ids": ["sg-task"],
        "task_role_arn": TASK_ROLE,
        "execution_role_arn": EXECUTION_ROLE,
    }
    base.update(extra)  # type: ignore[typeddict-item]
    return base


def test_the_schedule_runs_the_command_in_the_task_nightly(run: Run) -> None:
    recording = run(lambda: ScheduledTask("clv-fit", args()))
    schedule = recording.one("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "UTC"
    target = schedule.inputs["target"]
    assert target["arn"] == CLUSTER
    assert json.loads(target["input"]) == {
        "containerOverrides": [{"name": "app", "command": ["flask", "clv", "fit"]}]
    }
    ecs = target["ecsParameters"]
    assert ecs["taskDefinitionArn"] == TASK
    assert ecs["launchType"] == "FARGATE"
    network = ecs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == ["subnet-priv-a", "subnet-priv-b"]
    assert missing_standard_tags(recording) == []


def test_the_role_starts_only_that_family_on_that_cluster_and_passes_only_its_roles(
    run: Run,
) -> None:
    recording = run(lambda: ScheduledTask("clv-fit", args()))
    role = recording.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    policy = json.loads(recording.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    run_task, pass_role = policy["Statement"]
    assert run_task["Action"] == "ecs:RunTask"
    assert run_task["Resource"] == TASK.rsplit(":", 1)[0] + ":*"
    assert run_task["Condition"] == {"ArnEquals": {"ecs:cluster": CLUSTER}}
    assert pass_role["Action"] == "iam:PassRole"
    assert pass_role["Resource"] == [TASK_ROLE, EXECUTION_ROLE]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"command": []}, "command"),
        ({"command": "flask clv fit"}, "command"),
        ({"schedule_expression": "0 3 * * *"}, "schedule_expression"),
        ({"retry_attempts": 186}, "retry_attempts"),
        ({"retry_attempts": True}, "retry_attempts"),
        ({"command": ["flask", 5]}, "command[1]"),
        ({"container_name": 5}, "container_name"),
        ({"subnet_ids": "subnet-1"}, "subnet_ids"),
        ({"kms_key_arn": 5}, "kms_key_arn"),
        ({"schedule_timezone": 0}, "schedule_timezone"),
        ({"owner": 5}, "owner"),
        ({"schedule": "daily"}, "args"),  # unknown: named among the args, as in every component
    ],
)
def test_bad_arguments_are_refused_by_field(run: Run, extra: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        run(lambda: ScheduledTask("clv-fit", args(**extra)))
    assert caught.value.field == field
    assert "ScheduledTask 'clv-fit'" in str(caught.value)
    assert all(str(key) in str(caught.value) for key in extra)


def test_every_field_is_documented_with_its_default() -> None:
    from platformkit import scheduled_task
    from tests.platformkit.docstrings import fields_without_default, undocumented_fields

    assert undocumented_fields(scheduled_task, "ScheduledTaskArgs") == []
    required = {
        "cluster_arn",
        "task_definition_arn",
        "container_name",
        "command",
        "subnet_ids",
        "security_group_ids",
        "task_role_arn",
        "execution_role_arn",
    }
    assert set(fields_without_default(scheduled_task, "ScheduledTaskArgs")) == required


def test_a_customer_key_encrypts_the_schedule_and_the_role_may_decrypt_with_it(run: Run) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/logs"
    recording = run(lambda: ScheduledTask("clv-fit", args(kms_key_arn=key)))
    assert recording.one("aws:scheduler/schedule:Schedule").inputs["kmsKeyArn"] == key
    policy = json.loads(recording.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key} in policy["Statement"]
