"""IAM documents the components share."""

from __future__ import annotations

from typing import Any

import pulumi


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
