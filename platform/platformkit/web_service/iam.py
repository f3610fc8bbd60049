"""The web service's IAM: an execution role for the ECS agent, a task role for the application.

Each gets an inline least-privilege policy: the agent may pull its image, write its log
group and read the container's secrets; the application gets ``task_role_statements`` and,
with a database, read access to the rotating master secret.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from platformkit.component_base import Component
from platformkit.database.args import DatabaseRef
from platformkit.iam import Caller, arn_service, service_trust_policy
from platformkit.web_service.settings import WebServiceSettings

ASSUME_ROLE_PRINCIPAL = "ecs-tasks.amazonaws.com"


def create_roles(
    owner: Component,
    settings: WebServiceSettings,
    caller: Caller,
    log_group: aws.cloudwatch.LogGroup,
    repository_arn: pulumi.Output[str] | None,
) -> tuple[aws.iam.Role, aws.iam.Role]:
    """The execution role (pull, logs, secrets) and the task role (the application's)."""
    database = settings.database
    # Only ECS acting for this account's tasks may assume the roles.
    trust = service_trust_policy(
        ASSUME_ROLE_PRINCIPAL,
        account_id=caller.account_id,
        source_arn_like=pulumi.Output.concat(
            "arn:",
            caller.partition.partition,
            ":ecs:",
            caller.region,
            ":",
            caller.account_id,
            ":*",
        ),  # fmt: skip
    )
    execution_role = aws.iam.Role(
        f"{owner._name}-execution-role",
        description=f"ECS agent for web service {owner._name}: pull image, write logs, secrets",
        assume_role_policy=trust,
        tags=owner._tags,
        opts=owner._child(),
    )
    task_role = aws.iam.Role(
        f"{owner._name}-task-role",
        description=f"Application permissions of web service {owner._name}",
        assume_role_policy=trust,
        tags=owner._tags,
        opts=owner._child(),
    )
    secret_refs = [*container_secrets(settings).values()]
    kms_keys: list[pulumi.Input[str | None]] = [*settings.secrets_kms_key_arns]
    if database is not None and database.kms_key_arn is not None:
        # An output from another stack or language may resolve to None: dropped below.
        kms_keys.append(database.kms_key_arn)
    policy = pulumi.Output.all(
        log_group.arn,
        repository_arn,
        pulumi.Output.all(*secret_refs),
        pulumi.Output.all(*kms_keys),
    ).apply(lambda v: json.dumps(_execution_policy(v[0], v[1], v[2], v[3])))
    aws.iam.RolePolicy(
        f"{owner._name}-execution-policy",
        role=execution_role.id,
        policy=policy,
        opts=owner._child(),
    )
    statements: list[Any] = list(settings.task_role_statements)
    if statements or database is not None:
        database_statements: pulumi.Input[list[dict[str, Any]]] = (
            _database_secret_statements(database) if database is not None else []
        )
        document = pulumi.Output.all(statements, database_statements).apply(
            lambda v: {"Version": "2012-10-17", "Statement": [*v[0], *v[1]]}
        )
        aws.iam.RolePolicy(
            f"{owner._name}-task-policy",
            role=task_role.id,
            policy=pulumi.Output.json_dumps(document),
            opts=owner._child(),
        )
    return execution_role, task_role


def container_secrets(settings: WebServiceSettings) -> dict[str, pulumi.Input[str]]:
    """Container secret name → ``valueFrom`` (database credentials first)."""
    database = settings.database
    refs: dict[str, pulumi.Input[str]] = {}
    if database is not None:
        # JSON keys of the RDS-managed secret: ``<arn>:<json-key>:<version-stage>:<id>``.
        refs["DB_USERNAME"] = pulumi.Output.concat(database.master_secret_arn, ":username::")
        refs["DB_PASSWORD"] = pulumi.Output.concat(database.master_secret_arn, ":password::")
    refs.update(settings.secrets)
    return refs


def _secret_resource(value_from: str) -> str:
    """The IAM resource of a ``valueFrom``: a secret ARN without ``:json-key:stage:id``."""
    parts = value_from.split(":")
    if arn_service(value_from) == "secretsmanager":
        return ":".join(parts[:7])
    return value_from


def _execution_policy(
    log_group_arn: str,
    repository_arn: str | None,
    secret_refs: Sequence[str],
    kms_key_arns: Sequence[str | None],
) -> dict[str, Any]:
    """The execution role's policy: pull its image, write its logs, read its secrets."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        }
    ]
    if repository_arn:
        statements += [
            {
                # GetAuthorizationToken has no resource-level permissions: AWS requires `*`.
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                "Resource": repository_arn,
            },
        ]
    resources = sorted({_secret_resource(ref) for ref in secret_refs})
    secrets = [r for r in resources if arn_service(r) != "ssm"]
    parameters = [r for r in resources if arn_service(r) == "ssm"]
    if secrets:
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            }
        )
    if parameters:
        statements.append(
            {
                "Sid": "ReadParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": parameters,
            }
        )
    keys = sorted({key for key in kms_key_arns if key})
    if keys:
        statements.append(
            {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keys}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _database_secret_statements(database: DatabaseRef) -> pulumi.Output[list[dict[str, Any]]]:
    """Let the application re-read the rotating master secret (and decrypt it with a CMK)."""

    def statements(values: list[Any]) -> list[dict[str, Any]]:
        secret_arn, kms_key_arn = values
        result: list[dict[str, Any]] = [
            {
                "Sid": "ReadDatabaseSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        ]
        # Resolved first: a key arriving as an output from another stack may be None.
        if kms_key_arn:
            result.append(
                {
                    "Sid": "DecryptDatabaseSecret",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": kms_key_arn,
                }
            )
        return result

    return pulumi.Output.all(database.master_secret_arn, database.kms_key_arn).apply(statements)
