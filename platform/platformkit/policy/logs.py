"""CloudWatch Logs rules: finite, sufficient retention and KMS encryption."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from ..validation import CLOUDWATCH_RETENTION_DAYS
from .core import Rule, as_int, is_set, setting

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

DEFAULT_MIN_RETENTION_DAYS = 365

# The values CloudWatch Logs accepts for retentionInDays: the components' one table.
VALID_RETENTION_DAYS = list(CLOUDWATCH_RETENTION_DAYS)


def validate_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(setting(args.get_config(), "minimumDays", DEFAULT_MIN_RETENTION_DAYS))
    days = as_int(args.props.get("retentionInDays"))
    if not days:
        # Never-expiring groups grow cost forever and keep data past any retention policy.
        report(f"retentionInDays is unset (never expire); set at least {minimum}.", None)
    elif days < minimum:
        report(f"retentionInDays is {days}; at least {minimum} required.", None)


def validate_kms(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # A key the same stack creates has an unknown ARN during preview: it will be set.
    if not is_set(args.props, "kmsKeyId"):
        report("kmsKeyId is not set; the group uses the AWS-owned key.", None)


RULES: tuple[Rule, ...] = (
    Rule(
        name="cloudwatch-log-retention",
        description="Require log groups to expire logs after at least the configured days.",
        area="logs",
        severity=Severity.MEDIUM,
        remediation="Set retention_in_days (platformkit: 7 in dev, 365 in prod).",
        validate=validate_retention,
        resource_types=(LOG_GROUP,),
        checkov=("CKV_AWS_66", "CKV_AWS_338"),
        cdk_nag=("NIST.800.53.R5-CloudWatchLogGroupRetentionPeriod",),
        config={
            "minimumDays": {
                "type": "integer",
                "enum": VALID_RETENTION_DAYS,
                "default": DEFAULT_MIN_RETENTION_DAYS,
                "description": "Minimum retentionInDays (a value CloudWatch Logs accepts).",
            }
        },
    ),
    Rule(
        name="cloudwatch-log-group-kms",
        description="Require customer-managed KMS encryption for log groups.",
        area="logs",
        severity=Severity.LOW,
        remediation=(
            "Set kms_key_id to a CMK whose key policy allows logs.<region>.amazonaws.com "
            "(platformkit.create_log_key; advisory by default, mandatory in prod)."
        ),
        validate=validate_kms,
        resource_types=(LOG_GROUP,),
        checkov=("CKV_AWS_158",),
        cdk_nag=("NIST.800.53.R5-CloudWatchLogGroupEncrypted",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
)
