"""A customer-managed KMS key for CloudWatch log groups and RDS Performance Insights.

A stack creates one and hands its ARN to the components (``Network.flow_log_kms_key_arn``,
``Cluster.log_kms_key_arn``, ``Database.log_kms_key_arn`` and
``Database.performance_insights_kms_key_arn``), so the logs and performance data of the whole
environment are under a key the account controls, rotates, and can revoke.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

DELETION_WINDOW_DAYS = 30
"""Days a scheduled key deletion can still be cancelled (the maximum: losing the key loses the
logs)."""


def account_administers(partition: pulumi.Input[str], account: pulumi.Input[str]) -> dict[str, Any]:
    """Key policy statement: the account administers the key through IAM."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": pulumi.Output.concat("arn:", partition, ":iam::", account, ":root")},
        "Action": "kms:*",
        "Resource": "*",
    }


def logs_may_encrypt(
    partition: pulumi.Output[aws.GetPartitionResult],
    region: pulumi.Input[str],
    account: pulumi.Input[str],
) -> dict[str, Any]:
    """Key policy statement: CloudWatch Logs in ``region`` may use the key, only on behalf of
    this account's log groups there."""
    return {
        "Sid": "CloudWatchLogsEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": pulumi.Output.concat("logs.", region, ".", partition.dns_suffix)},
        "Action": [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
                    "arn:", partition.partition, ":logs:", region, ":", account, ":log-group:*"
                )
            }
        },
    }


def create_log_key(
    name: str,
    *,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> aws.kms.Key:
    """Create ``<name>-logs-key``: symmetric, rotated yearly, deletable only after 30 days.

    The key policy lets the account administer the key through IAM (RDS Performance Insights
    then uses it through the deploying principal's grants) and lets CloudWatch Logs in this
    region use it for this account's log groups only.
    """
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent if opts else None)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    partition = aws.get_partition_output(opts=invoke)
    region = aws.get_region_output(opts=invoke).region
    policy = pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers(partition.partition, account),
                logs_may_encrypt(partition, region, account),
            ],
        }
    )
    return aws.kms.Key(
        f"{name}-logs-key",
        description=f"Encrypts the log groups and Performance Insights data of {name}",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        tags=dict(tags),
        opts=opts,
    )
