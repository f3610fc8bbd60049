"""The rules closing issue 14's gaps (S3, WAF, log retention) and its false positives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import PolicyResource

from platformkit.policy.secrets import SECRET_SIG, SIG_KEY, SecretString, install, is_secret

from .helpers import UNKNOWN_STRING, policy_resource, run_rule, run_stack_rule

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LB = "aws:lb/loadBalancer:LoadBalancer"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
DB = "aws:rds/instance:Instance"
SG = "aws:ec2/securityGroup:SecurityGroup"
TG = "aws:lb/targetGroup:TargetGroup"

ARN = "arn:aws:s3:::b"
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [ARN, f"{ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ARN}
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _on(
    bucket: PolicyResource, type_token: str, name: str, props: dict[str, Any]
) -> PolicyResource:
    return policy_resource(
        type_token, name, {"bucket": UNKNOWN_STRING, **props}, {"bucket": [bucket]}
    )


def secure_bucket(
    name: str = "data",
    *,
    sse: str = "aws:kms",
    days: int = 365,
    skip: tuple[str, ...] = (),
    with_target: bool = False,
) -> list[PolicyResource]:
    """A bucket satisfying every S3 rule (logging into ``<name>-access``); ``skip`` drops parts."""
    bucket = policy_resource(BUCKET, name, {})
    target = policy_resource(BUCKET, f"{name}-access", {})
    parts = {
        "pab": _on(bucket, PAB, f"{name}-pab", dict.fromkeys(FLAGS, True)),
        "policy": _on(
            bucket, POLICY, f"{name}-policy", {"policy": json.dumps({"Statement": [TLS_ONLY]})}
        ),
        "sse": _on(
            bucket,
            SSE,
            f"{name}-sse",
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}]},
        ),
        "versioning": _on(
            bucket, VERSIONING, f"{name}-ver", {"versioningConfiguration": {"status": "Enabled"}}
        ),
        "logging": policy_resource(
            LOGGING,
            f"{name}-logging",
            {"bucket": UNKNOWN_STRING, "targetBucket": UNKNOWN_STRING, "targetPrefix": "s3/"},
            {"bucket": [bucket], "targetBucket": [target]},
        ),
        "lifecycle": _on(
            bucket,
            LIFECYCLE,
            f"{name}-lifecycle",
            {
                "rules": [
                    {
                        "status": "Enabled",
                        "filter": {"prefix": "alb/"},
                        "expiration": {"days": days},
                    }
                ]
            },
        ),
    }
    extra = [target] if with_target else []
    return [bucket, *extra, *(part for key, part in parts.items() if key not in skip)]


def violations(
    rule: str, resources: list[PolicyResource], **config: Any
) -> list[tuple[str, str | None]]:
    return run_stack_rule(rule, resources, config).violations


def named(resources: list[PolicyResource], name: str) -> PolicyResource:
    return next(r for r in resources if r.name == name)


S3_RULES = {
    "s3-public-access-blocked": "pab",
    "s3-tls-only": "policy",
    "s3-encryption": "sse",
    "s3-versioning": "versioning",
    "s3-access-logging": "logging",
    "s3-lifecycle": "lifecycle",
}


@pytest.mark.parametrize(("rule", "part"), sorted(S3_RULES.items()))
def test_s3_rule_passes_a_secure_bucket_and_fails_without_its_part(rule: str, part: str) -> None:
    assert violations(rule, secure_bucket()) == []
    resources = secure_bucket(skip=(part,))
    reported = violations(rule, resources)
    # Reported once, against the bucket, never against the log target bucket (which is exempt
    # from access logging and, holding nothing here, checked by its own rules only).
    assert [urn for _, urn in reported if urn == named(resources, "data").urn] == [
        named(resources, "data").urn
    ]


def test_public_access_block_with_a_flag_off_names_the_flag() -> None:
    resources = secure_bucket(skip=("pab",))
    bucket = named(resources, "data")
    flags = {**dict.fromkeys(FLAGS, True), "restrictPublicBuckets": False}
    resources.append(_on(bucket, PAB, "data-pab", flags))
    [(message, _)] = [
        v for v in violations("s3-public-access-blocked", resources) if v[1] == bucket.urn
    ]
    assert "restrictPublicBuckets" in message and "blockPublicAcls" not in message


def test_public_bucket_policy_with_public_access_block_off_is_a_finding() -> None:
    bucket = policy_resource(BUCKET, "site", {})
    block = _on(bucket, PAB, "site-pab", dict.fromkeys(FLAGS, False))
    policy = _on(
        bucket, POLICY, "site-policy", {"policy": json.dumps({"Statement": [PUBLIC_READ]})}
    )
    [(message, urn)] = violations("s3-bucket-not-public", [bucket, block, policy])
    assert urn == bucket.urn and "Principal '*'" in message and "s3:GetObject" in message


def test_public_bucket_policy_neutralised_by_the_public_access_block_is_not_a_finding() -> None:
    bucket = policy_resource(BUCKET, "site", {})
    block = _on(bucket, PAB, "site-pab", dict.fromkeys(FLAGS, True))
    policy = _on(
        bucket, POLICY, "site-policy", {"policy": json.dumps({"Statement": [PUBLIC_READ]})}
    )
    assert violations("s3-bucket-not-public", [bucket, block, policy]) == []


def test_public_canned_acl_is_a_finding() -> None:
    bucket = policy_resource(BUCKET, "site", {"acl": "public-read"})
    [(message, _)] = violations("s3-bucket-not-public", [bucket])
    assert "public-read" in message


def test_kms_required_except_on_log_delivery_buckets_which_must_use_sse_s3() -> None:
    plain = secure_bucket(sse="AES256")
    assert violations("s3-encryption", plain, requireKms=True)
    assert violations("s3-encryption", secure_bucket(sse="aws:kms"), requireKms=True) == []
    # An ALB delivering into the bucket: AWS writes only to SSE-S3 buckets.
    for sse, expected in (("AES256", 0), ("aws:kms", 1)):
        resources = secure_bucket(sse=sse)
        bucket = named(resources, "data")
        lb = policy_resource(
            LB,
            "alb",
            {"accessLogs": {"enabled": True, "bucket": UNKNOWN_STRING, "prefix": "alb"}},
            {"accessLogs": [bucket]},
        )
        found = [
            v
            for v in violations("s3-encryption", [*resources, lb], requireKms=True)
            if v[1] == bucket.urn
        ]
        assert len(found) == expected
        if found:
            assert "SSE-S3" in found[0][0]


def test_access_log_target_bucket_need_not_log_itself_but_no_bucket_logs_into_itself() -> None:
    resources = secure_bucket(with_target=True)
    target = named(resources, "data-access")
    assert violations("s3-access-logging", resources) == []
    bucket = policy_resource(BUCKET, "loop", {})
    loop = policy_resource(
        LOGGING,
        "loop-logging",
        {"bucket": UNKNOWN_STRING, "targetBucket": UNKNOWN_STRING},
        {"bucket": [bucket], "targetBucket": [bucket]},
    )
    assert target.urn not in [urn for _, urn in violations("s3-access-logging", resources)]
    [(message, _)] = violations("s3-access-logging", [bucket, loop])
    assert "into itself" in message


# --- WAF and ALB log retention ----------------------------------------------------------------


def _public_lb() -> PolicyResource:
    return policy_resource(LB, "alb", {"internal": False, "loadBalancerType": "application"})


def _acl(rules: list[dict[str, Any]]) -> PolicyResource:
    return policy_resource(WEB_ACL, "waf", {"rules": rules, "scope": "REGIONAL"})


def _associate(lb: PolicyResource, acl: PolicyResource) -> PolicyResource:
    return policy_resource(
        WAF_ASSOCIATION,
        "waf-association",
        {"resourceArn": UNKNOWN_STRING, "webAclArn": UNKNOWN_STRING},
        {"resourceArn": [lb], "webAclArn": [acl]},
    )


def test_alb_waf_attached_rejects_a_web_acl_without_rules() -> None:
    lb = _public_lb()
    empty = _acl([])
    [(message, urn)] = violations("alb-waf-attached", [lb, empty, _associate(lb, empty)])
    assert urn == lb.urn and "no rules" in message
    rule = {
        "name": "r",
        "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": "X"}},
    }
    full = _acl([rule])
    assert violations("alb-waf-attached", [lb, full, _associate(lb, full)]) == []


def test_managed_rule_groups_that_only_count_are_reported() -> None:
    groups = ["AWSManagedRulesCommonRuleSet"]
    rule = {
        "name": "common",
        "overrideAction": {"count": {}},
        "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": groups[0]}},
    }
    messages = run_rule(
        "waf-managed-rule-groups", WEB_ACL, {"rules": [rule]}, {"requiredRuleGroups": groups}
    )
    assert len(messages) == 1 and "only count" in messages[0]


def test_web_acl_without_logging_configuration_is_reported() -> None:
    acl = _acl([])
    [(_, urn)] = violations("waf-logging-enabled", [acl])
    assert urn == acl.urn
    logging = policy_resource(
        WAF_LOGGING, "waf-logging", {"resourceArn": UNKNOWN_STRING}, {"resourceArn": [acl]}
    )
    assert violations("waf-logging-enabled", [acl, logging]) == []


@pytest.mark.parametrize(
    ("days", "minimum", "reported"), [(90, 365, True), (365, 365, False), (7, 7, False)]
)
def test_alb_access_logs_kept_at_least_the_environment_retention(
    days: int, minimum: int, reported: bool
) -> None:
    resources = secure_bucket(days=days, sse="AES256")
    lb = policy_resource(
        LB,
        "alb",
        {"accessLogs": {"enabled": True, "bucket": UNKNOWN_STRING, "prefix": "alb"}},
        {"accessLogs": [named(resources, "data")]},
    )
    found = violations("alb-access-log-retention", [*resources, lb], minimumDays=minimum)
    assert bool(found) is reported
    if reported:
        assert f"after {days} days" in found[0][0] and found[0][1] == lb.urn


# --- false positives ------------------------------------------------------------------------

DB_SECRET = {"engine": "mysql", "manageMasterUserPassword": None}


def test_password_from_a_secret_input_is_set_not_literal() -> None:
    secret = {**DB_SECRET, "password": SecretString("from-config")}
    assert run_rule("rds-no-literal-master-password", DB, secret) == []
    plain = {**DB_SECRET, "password": "hunter2"}
    assert run_rule("rds-no-literal-master-password", DB, plain)


def test_password_computed_by_another_resource_is_not_literal() -> None:
    computed = {**DB_SECRET, "password": UNKNOWN_STRING}
    assert run_rule("rds-no-literal-master-password", DB, computed, {"failOnUnknown": True}) == []


def test_the_sdk_keeps_the_secret_mark_once_installed() -> None:
    import pulumi_policy.policy as sdk

    install()
    install()  # idempotent
    wire = {"password": {SIG_KEY: SECRET_SIG, "value": "p"}, "username": "admin"}
    props = sdk.deserialize_properties(wire)  # type: ignore[attr-defined]
    assert props["password"] == "p" and is_secret(props["password"])
    assert not is_secret(props["username"])


@pytest.mark.parametrize(
    "health_check",
    [None, {"matcher": "200"}, {"enabled": True, "protocol": "HTTP"}],
    ids=["aws-default", "no-enabled-flag", "no-path"],
)
def test_health_check_defaults_aws_applies_are_not_findings(
    health_check: dict[str, Any] | None,
) -> None:
    props: dict[str, Any] = {"targetType": "ip", "port": 80, "protocol": "HTTP"}
    if health_check is not None:
        props["healthCheck"] = health_check
    assert run_rule("alb-target-group-health-check", TG, props) == []


def test_ssh_open_to_the_world_is_one_finding() -> None:
    props = {
        "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]
    }
    rules = ("ec2-no-world-ingress", "ec2-no-public-database-or-app-ports")
    findings = [m for rule in rules for m in run_rule(rule, SG, props, {"allowedPorts": [80, 443]})]
    assert len(findings) == 1 and "22" in findings[0]
