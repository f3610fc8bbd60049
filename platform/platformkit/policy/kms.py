"""KMS rules: key rotation and safe key policies."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from .core import Rule, is_true
from .iam import is_public_principal, statements

KEY = "aws:kms/key:Key"


def validate_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Rotation exists only for symmetric encryption keys.
    spec = args.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = args.props.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT":
        if not is_true(args.props.get("enableKeyRotation")):
            report("enableKeyRotation is not true.", None)


def validate_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_true(args.props.get("bypassPolicyLockoutSafetyCheck")):
        report("bypassPolicyLockoutSafetyCheck is true.", None)
    for statement in statements(args.props.get("policy")):
        if is_public_principal(statement):
            report("The key policy allows any principal ('*') without a condition.", None)


RULES: tuple[Rule, ...] = (
    Rule(
        name="kms-key-rotation",
        description="Require automatic rotation of symmetric KMS keys.",
        area="kms",
        severity=Severity.MEDIUM,
        remediation="Set enable_key_rotation=True.",
        validate=validate_rotation,
        resource_types=(KEY,),
        checkov=("CKV_AWS_7",),
        cdk_nag=("AwsSolutions-KMS5",),
        awsguard=("cmk-backing-key-rotation-enabled",),
    ),
    Rule(
        name="kms-key-policy-safe",
        description="Forbid KMS key policies open to '*' or bypassing the lockout check.",
        area="kms",
        severity=Severity.HIGH,
        remediation=("Name principals explicitly; leave bypass_policy_lockout_safety_check unset."),
        validate=validate_policy,
        resource_types=(KEY,),
        checkov=("CKV_AWS_33", "CKV2_AWS_64"),
    ),
)
