"""S3 rules: public access blocked, no public policy, TLS only, encryption, versioning,
access logging and lifecycle.

A bucket's settings live in separate resources (``BucketPublicAccessBlock``, ``BucketPolicy``,
``BucketVersioning``, ...) wired to it through their ``bucket`` property, so these are stack
rules that follow that property dependency; the deprecated inline arguments of ``Bucket`` /
``BucketV2`` (``versioning``, ``logging``, ...) count too.

Log-delivery buckets get the exceptions AWS imposes: an ALB access-log bucket, or a bucket that
receives S3 server access logs, must use SSE-S3 (delivery fails on SSE-KMS), and a bucket that
receives server access logs is not required to log its own access (it would log each delivery
again, without end).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from .core import (
    Rule,
    as_int,
    as_list,
    as_mapping,
    depends_on,
    dig,
    is_false,
    is_true,
    resources_of,
    setting,
    string_list,
)
from .iam import is_allow, is_public_principal, principals, statements

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_TYPES = (BUCKET, BUCKET_V2)


def _tokens(module: str, name: str) -> tuple[str, str]:
    """A bucket configuration type and its deprecated ``...V2`` twin."""
    return f"aws:s3/{module}:{name}", f"aws:s3/{module}V2:{name}V2"


PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
ENCRYPTION = _tokens(
    "bucketServerSideEncryptionConfiguration", "BucketServerSideEncryptionConfiguration"
)
VERSIONING = _tokens("bucketVersioning", "BucketVersioning")
LOGGING = _tokens("bucketLogging", "BucketLogging")
LIFECYCLE = _tokens("bucketLifecycleConfiguration", "BucketLifecycleConfiguration")
ACL = _tokens("bucketAcl", "BucketAcl")
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")

PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})


@dataclass
class BucketView:
    """One bucket and every configuration resource attached to it."""

    bucket: PolicyResource
    attached: dict[str, list[PolicyResource]] = field(default_factory=dict)
    alb_log_destination: bool = False
    """An ALB delivers access logs here (SSE-S3 only)."""
    access_log_destination: bool = False
    """Another bucket's S3 server access logs land here (SSE-S3 only, need not log itself)."""

    @property
    def name(self) -> str:
        return self.bucket.name

    def of(self, types: tuple[str, ...]) -> list[PolicyResource]:
        return [r for t in types for r in self.attached.get(t, [])]

    @property
    def log_destination(self) -> bool:
        return self.alb_log_destination or self.access_log_destination


def buckets(args: StackValidationArgs) -> Iterator[BucketView]:
    """Every bucket of the stack with its attached configuration resources."""
    config_types = {*PUBLIC_ACCESS_BLOCK, *POLICY, *ENCRYPTION, *VERSIONING, *LOGGING}
    config_types |= {*LIFECYCLE, *ACL}
    configs = [r for r in args.resources if r.resource_type in config_types]
    load_balancers = [r for t in LOAD_BALANCER_TYPES for r in resources_of(args, t)]
    for token in BUCKET_TYPES:
        for bucket in resources_of(args, token):
            view = BucketView(bucket)
            for config in configs:
                if depends_on(config, bucket, "bucket"):
                    view.attached.setdefault(config.resource_type, []).append(config)
                if (
                    config.resource_type in LOGGING
                    and _wired(config, bucket, "targetBucket")
                    and not _wired(config, bucket, "bucket")
                ):
                    view.access_log_destination = True
            view.alb_log_destination = any(
                _wired(lb, bucket, "accessLogs") for lb in load_balancers
            )
            if _inline_logging_target_of(args, bucket):
                view.access_log_destination = True
            yield view


def _wired(resource: PolicyResource, target: PolicyResource, prop: str) -> bool:
    deps = resource.property_dependencies.get(prop) or []
    return any(dep.urn == target.urn for dep in deps)


def _inline_logging_target_of(args: StackValidationArgs, target: PolicyResource) -> bool:
    return any(
        _wired(bucket, target, "logging") or _wired(bucket, target, "loggings")
        for token in BUCKET_TYPES
        for bucket in resources_of(args, token)
        if bucket.urn != target.urn
    )


def _public_access_blocked(view: BucketView, flag: str) -> bool:
    return any(is_true(block.props.get(flag)) for block in view.of(PUBLIC_ACCESS_BLOCK))


def _policy_documents(view: BucketView) -> list[Any]:
    documents = [policy.props.get("policy") for policy in view.of(POLICY)]
    inline = view.bucket.props.get("policy")
    return [*documents, inline] if inline else documents


# --- validators -------------------------------------------------------------------------------


def validate_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in buckets(args):
        blocks = view.of(PUBLIC_ACCESS_BLOCK)
        if not blocks:
            report(f"Bucket '{view.name}' has no BucketPublicAccessBlock.", view.bucket.urn)
            continue
        off = [f for f in PUBLIC_ACCESS_FLAGS if not _public_access_blocked(view, f)]
        if off:
            report(
                f"Bucket '{view.name}': public access block leaves {', '.join(off)} off.",
                view.bucket.urn,
            )


def validate_not_public(args: StackValidationArgs, report: ReportViolation) -> None:
    """A policy or ACL granting everyone access, where the public access block lets it work."""
    for view in buckets(args):
        # restrictPublicBuckets makes S3 ignore a public policy's grant to anonymous callers.
        if not _public_access_blocked(view, "restrictPublicBuckets"):
            for document in _policy_documents(view):
                for statement in statements(document):
                    if is_public_principal(statement):
                        actions = ", ".join(string_list(statement.get("Action"))) or "?"
                        report(
                            f"Bucket '{view.name}': the bucket policy allows everyone "
                            f"(Principal '*') {actions} and no public access block stops it.",
                            view.bucket.urn,
                        )
        if not _public_access_blocked(view, "ignorePublicAcls"):
            acls = [view.bucket.props.get("acl")]
            acls += [acl.props.get("acl") for acl in view.of(ACL)]
            for acl in acls:
                if acl in PUBLIC_ACLS:
                    report(
                        f"Bucket '{view.name}' has the public canned ACL {acl!r}.",
                        view.bucket.urn,
                    )


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if is_allow(statement) or "*" not in [p for ps in principals(statement).values() for p in ps]:
        return False
    if not {"s3:*", "*"} & set(string_list(statement.get("Action"))):
        return False
    condition = as_mapping(statement.get("Condition")) or {}
    secure = dig(condition, "Bool", "aws:SecureTransport")
    tls_version = dig(condition, "NumericLessThan", "s3:TlsVersion")
    return is_false(secure) or tls_version is not None


def validate_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in buckets(args):
        if not any(
            _denies_insecure_transport(statement)
            for document in _policy_documents(view)
            for statement in statements(document)
        ):
            report(
                f"Bucket '{view.name}' has no policy statement denying requests without TLS "
                "(Deny s3:* to '*' when aws:SecureTransport is false).",
                view.bucket.urn,
            )


def _algorithms(view: BucketView) -> list[str]:
    rules = [rule for config in view.of(ENCRYPTION) for rule in as_list(config.props.get("rules"))]
    rules += as_list(dig(view.bucket.props, "serverSideEncryptionConfiguration", "rule"))
    found = [dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in rules]
    return [a for a in found if isinstance(a, str)]


def validate_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    require_kms = bool(setting(args.get_config(), "requireKms", False))
    for view in buckets(args):
        algorithms = _algorithms(view)
        if not algorithms:
            report(
                f"Bucket '{view.name}' has no default encryption configuration.", view.bucket.urn
            )
        elif view.log_destination:
            if any(a in KMS_ALGORITHMS for a in algorithms):
                report(
                    f"Log bucket '{view.name}' uses SSE-KMS; ALB and S3 access log delivery "
                    "only write to SSE-S3 (AES256) buckets.",
                    view.bucket.urn,
                )
        elif require_kms and not any(a in KMS_ALGORITHMS for a in algorithms):
            report(
                f"Bucket '{view.name}' is encrypted with {algorithms[0]}; requireKms asks for "
                "aws:kms with a customer-managed key.",
                view.bucket.urn,
            )


def validate_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in buckets(args):
        statuses = [dig(v.props, "versioningConfiguration", "status") for v in view.of(VERSIONING)]
        inline = is_true(dig(view.bucket.props, "versioning", "enabled"))
        if "Enabled" not in statuses and not inline:
            report(f"Bucket '{view.name}' does not have versioning enabled.", view.bucket.urn)


def validate_access_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in buckets(args):
        if view.access_log_destination:
            continue  # logging its own deliveries would never end
        targets = view.of(LOGGING)
        inline = dig(view.bucket.props, "logging", "targetBucket")
        if not targets and not inline:
            report(
                f"Bucket '{view.name}' has no S3 server access logging (BucketLogging).",
                view.bucket.urn,
            )
        elif any(_wired(t, view.bucket, "targetBucket") for t in targets):
            report(f"Bucket '{view.name}' logs its access into itself.", view.bucket.urn)


def _lifecycle_rules(view: BucketView) -> list[Mapping[str, Any]]:
    rules = [r for c in view.of(LIFECYCLE) for r in as_list(c.props.get("rules"))]
    enabled = [as_mapping(r) for r in rules if dig(r, "status") == "Enabled"]
    inline = [as_mapping(r) for r in as_list(view.bucket.props.get("lifecycleRules"))]
    enabled += [r for r in inline if r is not None and is_true(r.get("enabled"))]
    return [r for r in enabled if r is not None]


def _ends_data(rule: Mapping[str, Any]) -> bool:
    keys = ("expiration", "transitions", "transition", "noncurrentVersionExpiration")
    return any(rule.get(key) for key in keys)


def validate_lifecycle(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in buckets(args):
        if not any(_ends_data(rule) for rule in _lifecycle_rules(view)):
            report(
                f"Bucket '{view.name}' has no enabled lifecycle rule that expires or "
                "transitions objects.",
                view.bucket.urn,
            )


def expiration_days(view: BucketView, prefix: str) -> int | None:
    """Fewest days after which an enabled rule covering keys under ``prefix`` expires them."""
    days: list[int] = []
    for rule in _lifecycle_rules(view):
        rule_prefix = dig(rule, "filter", "prefix") or rule.get("prefix") or ""
        if not isinstance(rule_prefix, str) or not prefix.startswith(rule_prefix):
            continue
        value = as_int(dig(rule, "expiration", "days"))
        if value:
            days.append(value)
    return min(days) if days else None


S3_TYPES = (*BUCKET_TYPES, *PUBLIC_ACCESS_BLOCK, *POLICY)

RULES: tuple[Rule, ...] = (
    Rule(
        name="s3-public-access-blocked",
        description="Require every bucket to block public access with all four settings.",
        area="s3",
        kind="stack",
        severity=Severity.HIGH,
        remediation=(
            "Add an aws.s3.BucketPublicAccessBlock with block_public_acls, block_public_policy, "
            "ignore_public_acls and restrict_public_buckets all True."
        ),
        validate=validate_public_access_block,
        resource_types=(*BUCKET_TYPES, *PUBLIC_ACCESS_BLOCK),
        checkov=("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        cdk_nag=("NIST.800.53.R5-S3BucketLevelPublicAccessProhibited",),
    ),
    Rule(
        name="s3-bucket-not-public",
        description="Forbid bucket policies and ACLs that grant everyone access.",
        area="s3",
        kind="stack",
        severity=Severity.CRITICAL,
        remediation=(
            "Name the principals in the bucket policy (or add a condition), drop public canned "
            "ACLs, and turn on the public access block; serve public content through CloudFront."
        ),
        validate=validate_not_public,
        resource_types=(*S3_TYPES, *ACL),
        checkov=("CKV_AWS_70", "CKV_AWS_20", "CKV_AWS_57"),
        cdk_nag=(
            "NIST.800.53.R5-S3BucketPublicReadProhibited",
            "NIST.800.53.R5-S3BucketPublicWriteProhibited",
        ),
    ),
    Rule(
        name="s3-tls-only",
        description="Require bucket policies to deny requests that do not use TLS.",
        area="s3",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Add a bucket policy statement: Deny, Principal '*', Action s3:*, on the bucket and "
            "its objects, Condition Bool aws:SecureTransport 'false'."
        ),
        validate=validate_tls_only,
        resource_types=(*BUCKET_TYPES, *POLICY),
        cdk_nag=("AwsSolutions-S10", "NIST.800.53.R5-S3BucketSSLRequestsOnly"),
    ),
    Rule(
        name="s3-encryption",
        description="Require default encryption on buckets (SSE-S3 on log-delivery buckets).",
        area="s3",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Add an aws.s3.BucketServerSideEncryptionConfiguration: aws:kms with a "
            "customer-managed key, or AES256 on ALB and S3 access log buckets (AWS delivers "
            "those logs to SSE-S3 buckets only)."
        ),
        validate=validate_encryption,
        resource_types=(*BUCKET_TYPES, *ENCRYPTION),
        checkov=("CKV_AWS_19", "CKV_AWS_145"),
        cdk_nag=("NIST.800.53.R5-S3DefaultEncryptionKMS",),
        config={
            "requireKms": {
                "type": "boolean",
                "default": False,
                "description": (
                    "Require aws:kms default encryption, except on log-delivery buckets, which "
                    "must use AES256."
                ),
            }
        },
    ),
    Rule(
        name="s3-versioning",
        description="Require versioning on buckets, so deleted or overwritten objects survive.",
        area="s3",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Add an aws.s3.BucketVersioning with versioning_configuration status 'Enabled' and a "
            "lifecycle rule expiring noncurrent versions."
        ),
        validate=validate_versioning,
        resource_types=(*BUCKET_TYPES, *VERSIONING),
        checkov=("CKV_AWS_21",),
        cdk_nag=("NIST.800.53.R5-S3BucketVersioningEnabled",),
    ),
    Rule(
        name="s3-access-logging",
        description="Require S3 server access logging into another bucket.",
        area="s3",
        kind="stack",
        severity=Severity.LOW,
        remediation=(
            "Add an aws.s3.BucketLogging whose target_bucket is a separate log bucket; that log "
            "bucket itself is exempt."
        ),
        validate=validate_access_logging,
        resource_types=(*BUCKET_TYPES, *LOGGING),
        checkov=("CKV_AWS_18",),
        cdk_nag=("AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled"),
        awsguard=("s3-bucket-logging-enabled",),
    ),
    Rule(
        name="s3-lifecycle",
        description="Require an enabled lifecycle rule that expires or transitions objects.",
        area="s3",
        kind="stack",
        severity=Severity.LOW,
        remediation=(
            "Add an aws.s3.BucketLifecycleConfiguration rule with status 'Enabled' and an "
            "expiration (and noncurrent_version_expiration on versioned buckets)."
        ),
        validate=validate_lifecycle,
        resource_types=(*BUCKET_TYPES, *LIFECYCLE),
        checkov=("CKV2_AWS_61",),
    ),
)
