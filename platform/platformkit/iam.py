"""IAM documents the components share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


def service_trust_policy(
    service: str,
    *,
    account_id: pulumi.Input[str],
    source_arn_like: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    """Return a trust policy letting the AWS ``service`` principal assume a role.

    The ``aws:SourceAccount`` condition (and ``aws:SourceArn`` when ``source_arn_like`` is
    given) is AWS's confused-deputy guard: the service may assume the role only when acting
    for this account (and for matching resources), not on behalf of another customer.
    """
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn_like is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": condition,
                }
            ],
        }
    )


def arn_service(arn: str) -> str | None:
    """The service part of an ARN (``secretsmanager`` in ``arn:aws:secretsmanager:...``), or
    ``None`` when ``arn`` is not an ARN."""
    parts = arn.split(":")
    return parts[2] if len(parts) >= 6 and parts[0] == "arn" else None


@dataclass(frozen=True)
class Caller:
    """Where a component's resources are created: account, partition and region."""

    account_id: pulumi.Output[str]
    partition: pulumi.Output[aws.GetPartitionResult]
    region: pulumi.Output[str]

    @classmethod
    def of(cls, parent: pulumi.Resource) -> Caller:
        """Look the three up once, as children of ``parent``."""
        invoke = pulumi.InvokeOptions(parent=parent)
        return cls(
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke),
            region=aws.get_region_output(opts=invoke).region,
        )
