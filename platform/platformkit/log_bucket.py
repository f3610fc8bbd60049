"""A private, versioned, expiring S3 bucket that an AWS service delivers logs into.

Used twice by ``Cluster``: for the load balancer's access logs, and for the S3 server access
logs of that bucket. Both destinations impose the same constraints, which is why one helper
serves them: default encryption must be SSE-S3 (ALB log delivery and S3 server access logging
both fail on an SSE-KMS default key), and the writer is an AWS service granted in the bucket
policy, because ``BucketOwnerEnforced`` disables ACL grants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

INCOMPLETE_UPLOAD_DAYS = 7
"""Days before an unfinished multipart upload is aborted."""
NONCURRENT_VERSION_DAYS = 7
"""Days an overwritten or deleted log object stays recoverable before it is removed."""


@dataclass(frozen=True)
class LogBucket:
    """The bucket and the resources a delivering service needs in place before it writes."""

    bucket: aws.s3.Bucket
    prefix: str
    """Key prefix the logs are delivered under (and expired from)."""
    prerequisites: list[pulumi.Resource]


def create_log_bucket(
    logical: str,
    *,
    parent: pulumi.Resource,
    bucket_name: str | None,
    tags: Mapping[str, str],
    prefix: str,
    expire_days: int,
    force_destroy: bool,
    writers: Callable[[str], pulumi.Input[list[Any]]],
) -> LogBucket:
    """Create ``logical`` and its configuration resources, all children of ``parent``.

    ``writers(bucket_arn)`` returns the policy statements granting the delivering service; a
    statement denying non-TLS requests is always appended. Objects under ``prefix`` expire
    after ``expire_days``. ``log_access`` sends the bucket's own S3 server access logs to
    another log bucket.
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        logical, bucket=bucket_name, force_destroy=force_destroy, tags=dict(tags), opts=child
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{logical}-encryption",
        bucket=bucket.id,
        # SSE-S3: log delivery (ALB and S3 server access logs) fails on SSE-KMS buckets.
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=child,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{logical}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{logical}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    # Versioning keeps a deleted or overwritten log recoverable for NONCURRENT_VERSION_DAYS:
    # logs are evidence, and an attacker's first move is often to remove them.
    versioning = aws.s3.BucketVersioning(
        f"{logical}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{logical}-lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-logs",
                "status": "Enabled",
                "filter": {"prefix": prefix},
                "expiration": {"days": expire_days},
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
                "abort_incomplete_multipart_upload": {
                    "days_after_initiation": INCOMPLETE_UPLOAD_DAYS
                },
            },
            {
                # Expiring a current version in a versioned bucket leaves a delete marker;
                # once its noncurrent versions are gone the marker is clutter.
                "id": "remove-expired-delete-markers",
                "status": "Enabled",
                "filter": {"prefix": prefix},
                "expiration": {"expired_object_delete_marker": True},
            },
        ],
        # S3 rejects lifecycle rules on noncurrent versions before versioning is configured.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
    policy = aws.s3.BucketPolicy(
        f"{logical}-policy",
        bucket=bucket.id,
        policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": bucket.arn.apply(_statements(writers))}
        ),
        # S3 rejects concurrent policy and public-access-block changes on one bucket.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]),
    )
    return LogBucket(
        bucket=bucket, prefix=prefix, prerequisites=[encryption, ownership, versioning, policy]
    )


def log_access(
    logical: str, source: LogBucket, target: LogBucket, *, parent: pulumi.Resource
) -> aws.s3.BucketLogging:
    """Deliver ``source``'s S3 server access logs into ``target`` under ``target.prefix``.

    The target itself is not logged: a bucket logging into itself (or a pair logging into each
    other) logs every delivery again, without end.
    """
    return aws.s3.BucketLogging(
        logical,
        bucket=source.bucket.id,
        target_bucket=target.bucket.id,
        target_prefix=target.prefix,
        # S3 checks the target's policy grant when logging is turned on.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=target.prerequisites),
    )


def _statements(
    writers: Callable[[str], pulumi.Input[list[Any]]],
) -> Callable[[str], pulumi.Output[list[Any]]]:
    def build(bucket_arn: str) -> pulumi.Output[list[Any]]:
        return pulumi.Output.from_input(writers(bucket_arn)).apply(
            lambda grants: [*grants, deny_insecure_transport(bucket_arn)]
        )

    return build


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy statement refusing every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def server_access_log_writers(
    source_bucket_arns: pulumi.Input[list[str]], account_id: pulumi.Input[str], prefix: str
) -> Callable[[str], pulumi.Output[list[Any]]]:
    """Policy statements letting S3 server access logging write under ``prefix``.

    ``BucketOwnerEnforced`` disables the log-delivery ACL grant, so S3 documents this bucket
    policy grant instead, scoped to the source buckets and the account.
    """

    def writers(bucket_arn: str) -> pulumi.Output[list[Any]]:
        return pulumi.Output.all(source_bucket_arns, account_id).apply(
            lambda values: [
                {
                    "Sid": "S3ServerAccessLogsWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{prefix}*",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": values[0]},
                        "StringEquals": {"aws:SourceAccount": values[1]},
                    },
                }
            ]
        )

    return writers
