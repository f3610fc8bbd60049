"""The load balancer's access log bucket, and the bucket logging who read it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from platformkit.cluster.names import BUCKET_NAME, MAX_BUCKET_NAME, physical_name
from platformkit.cluster.settings import ClusterSettings
from platformkit.component_base import Component
from platformkit.log_bucket import (
    LogBucket,
    create_log_bucket,
    log_access,
    server_access_log_writers,
)

ACCESS_LOG_PREFIX = "alb"
"""Key prefix of the access logs in the bucket (AWS appends ``AWSLogs/<account>/...``)."""
SERVER_ACCESS_LOG_PREFIX = "s3-access-logs/"
"""Key prefix of the access log bucket's own S3 server access logs, in their own bucket."""
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

ELB_ACCOUNT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
        "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
        "ap-southeast-2", "ap-southeast-3", "ca-central-1", "eu-central-1", "eu-west-1",
        "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1", "me-south-1", "sa-east-1",
        "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
    }
)  # fmt: skip
"""Regions opened before August 2022, whose ALB access logs come from a regional ELB account."""


def create_access_log_bucket(owner: Component, settings: ClusterSettings) -> LogBucket:
    """Create the access log bucket and the bucket that receives its own access logs."""
    logical = f"{owner._name}-alb-logs"
    invoke = pulumi.InvokeOutputOptions(parent=owner)
    account_id = aws.get_caller_identity_output(opts=invoke).account_id
    region = aws.get_region_output(opts=invoke).region
    logs = create_log_bucket(
        logical,
        parent=owner,
        bucket_name=physical_name(logical, MAX_BUCKET_NAME, BUCKET_NAME),
        tags=owner._tags,
        prefix=f"{ACCESS_LOG_PREFIX}/",
        expire_days=settings.access_log_retention_days,
        # Without deletion protection (dev) the stack must be destroyable with logs in it.
        force_destroy=not settings.deletion_protection,
        writers=lambda bucket_arn: _log_delivery_grants(owner, bucket_arn, account_id, region),
    )
    # Who read or deleted the access logs is itself logged, in a separate bucket: S3
    # server access logs cannot go to the bucket they describe.
    access_logical = f"{logical}-access"
    access = create_log_bucket(
        access_logical,
        parent=owner,
        bucket_name=physical_name(access_logical, MAX_BUCKET_NAME, BUCKET_NAME),
        tags=owner._tags,
        prefix=SERVER_ACCESS_LOG_PREFIX,
        expire_days=settings.access_log_retention_days,
        force_destroy=not settings.deletion_protection,
        writers=server_access_log_writers(
            logs.bucket.arn.apply(lambda arn: [arn]), account_id, SERVER_ACCESS_LOG_PREFIX
        ),
    )
    log_access(f"{logical}-access-logging", logs, access, parent=owner)
    return logs


def _log_delivery_grants(
    owner: Component, bucket_arn: str, account_id: pulumi.Output[str], region: pulumi.Output[str]
) -> pulumi.Output[list[Any]]:
    # AWS documents two grants: regions available before August 2022 deliver from a
    # regional ELB account, newer regions from the log-delivery service principal. The
    # provider knows the ELB accounts of the older regions only, so it is asked there only.
    def statements(values: list[Any]) -> list[dict[str, Any]]:
        region_name, account = values
        logs = f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account}/*"
        grants: list[dict[str, Any]] = []
        if region_name in ELB_ACCOUNT_REGIONS:
            elb_account = aws.elb.get_service_account(
                region=region_name, opts=pulumi.InvokeOptions(parent=owner)
            ).arn
            grants.append(
                {
                    "Sid": "ElbAccountWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account},
                    "Action": "s3:PutObject",
                    "Resource": logs,
                }
            )
        grants.append(
            {
                "Sid": "ElbLogDeliveryWritesAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
                "Action": "s3:PutObject",
                "Resource": logs,
            }
        )
        return grants

    return pulumi.Output.all(region, account_id).apply(statements)
