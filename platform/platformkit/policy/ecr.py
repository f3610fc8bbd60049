"""ECR rules: immutable tags, scan on push, KMS encryption, lifecycle, no public access."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from .core import Rule, as_list, as_mapping, depends_on, dig, is_true, resources_of
from .iam import is_public_principal, statements

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"


def validate_immutable(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mutability = args.props.get("imageTagMutability") or "MUTABLE"
    if not str(mutability).startswith("IMMUTABLE"):
        report(f"imageTagMutability is {mutability!r}; tags can be overwritten.", None)


def validate_scan_on_push(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(dig(args.props.get("imageScanningConfiguration"), "scanOnPush")):
        report("imageScanningConfiguration.scanOnPush is not true.", None)


def validate_kms(args: ResourceValidationArgs, report: ReportViolation) -> None:
    types = [
        (as_mapping(c) or {}).get("encryptionType")
        for c in as_list(args.props.get("encryptionConfigurations"))
    ]
    if "KMS" not in types:
        report("The repository is not encrypted with KMS (encryptionType AES256 or unset).", None)


def validate_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for statement in statements(args.props.get("policy")):
        if is_public_principal(statement):
            report("The repository policy allows any principal ('*') without a condition.", None)


def validate_lifecycle(args: StackValidationArgs, report: ReportViolation) -> None:
    policies = list(resources_of(args, LIFECYCLE_POLICY))
    for repo in resources_of(args, REPOSITORY):
        name = repo.props.get("name")
        linked = any(
            depends_on(p, repo, "repository") or (name and p.props.get("repository") == name)
            for p in policies
        )
        if not linked:
            report(f"ECR repository '{repo.name}' has no lifecycle policy.", repo.urn)


RULES: tuple[Rule, ...] = (
    Rule(
        name="ecr-immutable-tags",
        description="Require immutable image tags on ECR repositories.",
        area="ecr",
        severity=Severity.MEDIUM,
        remediation="Set image_tag_mutability='IMMUTABLE' and tag images by digest or git SHA.",
        validate=validate_immutable,
        resource_types=(REPOSITORY,),
        checkov=("CKV_AWS_51",),
    ),
    Rule(
        name="ecr-scan-on-push",
        description="Require image scanning on push for ECR repositories.",
        area="ecr",
        severity=Severity.MEDIUM,
        remediation="Set image_scanning_configuration={'scan_on_push': True}.",
        validate=validate_scan_on_push,
        resource_types=(REPOSITORY,),
        checkov=("CKV_AWS_163",),
    ),
    Rule(
        name="ecr-kms-encryption",
        description="Require KMS encryption on ECR repositories.",
        area="ecr",
        severity=Severity.LOW,
        remediation="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': ...}].",
        validate=validate_kms,
        resource_types=(REPOSITORY,),
        checkov=("CKV_AWS_136",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    Rule(
        name="ecr-repository-policy-not-public",
        description="Forbid ECR repository policies that grant access to everyone.",
        area="ecr",
        severity=Severity.CRITICAL,
        remediation="Name the account or role principals that may pull, or add a condition.",
        validate=validate_not_public,
        resource_types=(REPOSITORY_POLICY,),
        checkov=("CKV_AWS_32",),
        cdk_nag=("AwsSolutions-ECR1",),
    ),
    Rule(
        name="ecr-lifecycle-policy",
        description="Require a lifecycle policy on every ECR repository.",
        area="ecr",
        kind="stack",
        severity=Severity.LOW,
        remediation="Add an aws.ecr.LifecyclePolicy expiring untagged and old images.",
        validate=validate_lifecycle,
        resource_types=(REPOSITORY, LIFECYCLE_POLICY),
    ),
)
