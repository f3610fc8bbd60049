"""Load balancer rules: HTTPS only, TLS policy, header hygiene, protection, logs, target group
health checks, WAF (attached, managed rule groups, logging)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from .core import (
    Rule,
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
from .s3 import BucketView, buckets, expiration_days

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB_LEGACY = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER_LEGACY = "aws:alb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TARGET_GROUP_LEGACY = "aws:alb/targetGroup:TargetGroup"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

DEFAULT_REQUIRED_RULE_GROUPS = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
]
"""AWS managed rule groups every web ACL must run in blocking mode."""
DEFAULT_MIN_ACCESS_LOG_DAYS = 365

LB_TYPES = (LOAD_BALANCER, ALB_LEGACY)
LISTENER_TYPES = (LISTENER, ALB_LISTENER_LEGACY)

DEFAULT_SSL_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]
"""Listener policies that negotiate TLS 1.2 or newer only."""


def _is_application_lb(props: Any) -> bool:
    # loadBalancerType defaults to "application" when omitted.
    return (props.get("loadBalancerType") or "application") == "application"


def validate_https_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Plain-HTTP listeners may only redirect to HTTPS."""
    if args.props.get("protocol") != "HTTP":
        return
    actions = [as_mapping(a) for a in as_list(args.props.get("defaultActions"))]
    redirects_to_https = bool(actions) and all(
        a is not None and a.get("type") == "redirect" and dig(a, "redirect", "protocol") == "HTTPS"
        for a in actions
    )
    if not redirects_to_https:
        report("The HTTP listener serves traffic instead of redirecting to HTTPS.", None)


def validate_tls_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    allowed = list(setting(args.get_config(), "allowedSslPolicies", DEFAULT_SSL_POLICIES))
    policy = args.props.get("sslPolicy")
    if policy not in allowed:
        report(f"sslPolicy {policy!r} is not one of the TLS 1.2+ policies {allowed}.", None)
    if not args.props.get("certificateArn"):
        report("The HTTPS listener has no ACM certificate (certificateArn).", None)


def validate_drop_invalid_headers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _is_application_lb(args.props):
        if not is_true(args.props.get("dropInvalidHeaderFields")):
            report("dropInvalidHeaderFields is not true (HTTP desync/smuggling risk).", None)


def validate_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_true(args.props.get("enableDeletionProtection")):
        report("enableDeletionProtection is not true.", None)


def validate_access_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    logs = args.props.get("accessLogs")
    if not is_true(dig(logs, "enabled")) or not dig(logs, "bucket"):
        report("Access logs are not enabled (accessLogs.enabled with a bucket).", None)


def validate_desync_mitigation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _is_application_lb(args.props):
        mode = args.props.get("desyncMitigationMode")
        # Omitted means AWS's default, "defensive".
        if mode is not None and mode not in ("defensive", "strictest"):
            report(f"desyncMitigationMode is {mode!r}; use 'defensive' or 'strictest'.", None)


def validate_target_group_health_check(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    if (args.props.get("targetType") or "instance") == "lambda":
        return
    # AWS enables a health check on every non-Lambda target group unless told otherwise, and
    # an HTTP(S) check without a path probes "/": only switching it off loses the signal.
    check = as_mapping(args.props.get("healthCheck"))
    if check is not None and is_false(check.get("enabled")):
        report("The target group's health check is disabled (healthCheck.enabled false).", None)


def _is_public(lb: PolicyResource) -> bool:
    return not is_true(lb.props.get("internal")) and _is_application_lb(lb.props)


def validate_waf(args: StackValidationArgs, report: ReportViolation) -> None:
    associations = list(resources_of(args, WAF_ASSOCIATION))
    acls = list(resources_of(args, WEB_ACL))
    for type_token in LB_TYPES:
        for lb in resources_of(args, type_token):
            if not _is_public(lb):
                continue
            attached = [a for a in associations if depends_on(a, lb, "resourceArn")]
            if not attached:
                report(
                    f"Internet-facing load balancer '{lb.name}' has no WAFv2 web ACL "
                    "association (resourceArn).",
                    lb.urn,
                )
                continue
            # An association with an empty web ACL only adds latency: it must inspect something.
            for acl in acls:
                if any(depends_on(a, acl, "webAclArn") for a in attached) and not as_list(
                    acl.props.get("rules")
                ):
                    report(
                        f"Web ACL '{acl.name}' protecting load balancer '{lb.name}' has no "
                        "rules, so it inspects nothing.",
                        lb.urn,
                    )


def _managed_groups(rule: Any) -> list[tuple[str, bool]]:
    """(group name, blocks) for the AWS managed rule group a web ACL rule runs, if any."""
    group = dig(rule, "statement", "managedRuleGroupStatement")
    if not as_mapping(group) or dig(group, "vendorName") != "AWS":
        return []
    # overrideAction "count" turns every rule of the group into monitoring only.
    override = as_mapping(dig(rule, "overrideAction")) or {}
    return [(str(dig(group, "name")), "count" not in override)]


def validate_waf_managed_rule_groups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    required = string_list(
        setting(args.get_config(), "requiredRuleGroups", DEFAULT_REQUIRED_RULE_GROUPS)
    )
    found = dict(g for rule in as_list(args.props.get("rules")) for g in _managed_groups(rule))
    missing = [group for group in required if group not in found]
    counting = [group for group in required if found.get(group) is False]
    if missing:
        report(f"The web ACL lacks the AWS managed rule group(s) {missing}.", None)
    if counting:
        report(
            f"The AWS managed rule group(s) {counting} only count (overrideAction count); "
            "use overrideAction none so they block.",
            None,
        )


def validate_waf_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    configurations = list(resources_of(args, WAF_LOGGING))
    for acl in resources_of(args, WEB_ACL):
        if not any(depends_on(c, acl, "resourceArn") for c in configurations):
            report(
                f"Web ACL '{acl.name}' has no WebAclLoggingConfiguration: blocked and allowed "
                "requests leave no trace.",
                acl.urn,
            )


def _log_bucket(args: StackValidationArgs, lb: PolicyResource) -> BucketView | None:
    for view in buckets(args):
        if any(
            dep.urn == view.bucket.urn for dep in lb.property_dependencies.get("accessLogs", [])
        ):
            return view
    return None


def validate_access_log_retention(args: StackValidationArgs, report: ReportViolation) -> None:
    minimum = int(setting(args.get_config(), "minimumDays", DEFAULT_MIN_ACCESS_LOG_DAYS))
    for type_token in LB_TYPES:
        for lb in resources_of(args, type_token):
            logs = lb.props.get("accessLogs")
            if not is_true(dig(logs, "enabled")):
                continue  # alb-access-logs reports that
            view = _log_bucket(args, lb)
            if view is None:
                continue  # a bucket outside the stack: its lifecycle cannot be seen here
            prefix = dig(logs, "prefix") or ""
            days = expiration_days(view, f"{prefix}/" if prefix else "")
            if days is not None and days < minimum:
                report(
                    f"Access logs of load balancer '{lb.name}' expire after {days} days in "
                    f"bucket '{view.name}'; keep them at least {minimum} days, as long as the "
                    "environment's other logs.",
                    lb.urn,
                )


RULES: tuple[Rule, ...] = (
    Rule(
        name="alb-https-only",
        description="Require HTTP listeners to redirect to HTTPS.",
        area="load_balancer",
        severity=Severity.HIGH,
        remediation=(
            "Give the Cluster a certificate_arn; the HTTP listener then "
            "redirects to HTTPS with status HTTP_301."
        ),
        validate=validate_https_only,
        resource_types=LISTENER_TYPES,
        checkov=("CKV_AWS_2", "CKV2_AWS_20"),
        cdk_nag=("NIST.800.53.R5-ALBHttpToHttpsRedirection",),
        awsguard=("alb-http-to-https-redirection",),
    ),
    Rule(
        name="alb-tls-policy",
        description="Require HTTPS listeners to use a TLS 1.2+ policy and an ACM certificate.",
        area="load_balancer",
        severity=Severity.HIGH,
        remediation="Set ssl_policy to ELBSecurityPolicy-TLS13-1-2-2021-06 and certificate_arn.",
        validate=validate_tls_policy,
        resource_types=LISTENER_TYPES,
        checkov=("CKV_AWS_103", "CKV2_AWS_74"),
        cdk_nag=("NIST.800.53.R5-ELBv2ACMCertificateRequired",),
        config={
            "allowedSslPolicies": {
                "type": "array",
                "items": {"type": "string", "pattern": "^ELBSecurityPolicy-"},
                "minItems": 1,
                "default": DEFAULT_SSL_POLICIES,
                "description": "Listener security policies considered modern.",
            }
        },
    ),
    Rule(
        name="alb-drop-invalid-headers",
        description="Require application load balancers to drop invalid HTTP header fields.",
        area="load_balancer",
        severity=Severity.MEDIUM,
        remediation="Set drop_invalid_header_fields=True on the aws.lb.LoadBalancer.",
        validate=validate_drop_invalid_headers,
        resource_types=LB_TYPES,
        checkov=("CKV_AWS_131",),
    ),
    Rule(
        name="alb-deletion-protection",
        description="Require deletion protection on load balancers.",
        area="load_balancer",
        severity=Severity.MEDIUM,
        remediation="Set enable_deletion_protection=True (platformkit turns it on in prod).",
        validate=validate_deletion_protection,
        resource_types=LB_TYPES,
        checkov=("CKV_AWS_150",),
        cdk_nag=("NIST.800.53.R5-ELBDeletionProtectionEnabled",),
        awsguard=("elb-deletion-protection-enabled",),
    ),
    Rule(
        name="alb-access-logs",
        description="Require load balancer access logs delivered to S3.",
        area="load_balancer",
        severity=Severity.MEDIUM,
        remediation="Set access_logs={'bucket': ..., 'enabled': True} with an S3 log bucket.",
        validate=validate_access_logs,
        resource_types=LB_TYPES,
        checkov=("CKV_AWS_91",),
        cdk_nag=("AwsSolutions-ELB2",),
        awsguard=("elb-logging-enabled",),
    ),
    Rule(
        name="alb-desync-mitigation",
        description="Require desync mitigation mode 'defensive' or 'strictest'.",
        area="load_balancer",
        severity=Severity.LOW,
        remediation="Leave desync_mitigation_mode unset (defensive) or set 'strictest'.",
        validate=validate_desync_mitigation,
        resource_types=LB_TYPES,
        checkov=("CKV_AWS_328",),
    ),
    Rule(
        name="alb-target-group-health-check",
        description="Forbid disabling the health check of a target group.",
        area="load_balancer",
        severity=Severity.LOW,
        remediation=(
            "Remove health_check enabled=False; point path at a readiness endpoint "
            "(e.g. '/healthz', matcher '200') rather than AWS's default '/'."
        ),
        validate=validate_target_group_health_check,
        resource_types=(TARGET_GROUP, TARGET_GROUP_LEGACY),
        checkov=("CKV_AWS_261",),
    ),
    Rule(
        name="alb-waf-attached",
        description="Require a WAFv2 web ACL on every internet-facing application load balancer.",
        area="load_balancer",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Create an aws.wafv2.WebAcl (AWS managed rule groups) and an "
            "aws.wafv2.WebAclAssociation whose resource_arn is the load balancer's ARN."
        ),
        validate=validate_waf,
        resource_types=(*LB_TYPES, WAF_ASSOCIATION, WEB_ACL),
        checkov=("CKV2_AWS_28", "CKV_AWS_175"),
        cdk_nag=("NIST.800.53.R5-ALBWAFEnabled",),
    ),
    Rule(
        name="waf-managed-rule-groups",
        description="Require web ACLs to block with the AWS managed rule groups configured.",
        area="load_balancer",
        severity=Severity.MEDIUM,
        remediation=(
            "Add a rule per group with managed_rule_group_statement {vendor_name: 'AWS', name: "
            "...} and override_action {'none': {}} (platformkit's Cluster does)."
        ),
        validate=validate_waf_managed_rule_groups,
        resource_types=(WEB_ACL,),
        checkov=("CKV_AWS_192", "CKV2_AWS_76"),
        config={
            "requiredRuleGroups": {
                "type": "array",
                "items": {"type": "string", "pattern": "^AWSManagedRules[A-Za-z0-9]+$"},
                "uniqueItems": True,
                "default": DEFAULT_REQUIRED_RULE_GROUPS,
                "description": "AWS managed rule groups (names) every web ACL must run.",
            }
        },
    ),
    Rule(
        name="waf-logging-enabled",
        description="Require a logging configuration on every WAFv2 web ACL.",
        area="load_balancer",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Set waf_logging=True on the Cluster, or add an aws.wafv2.WebAclLoggingConfiguration "
            "sending to a log group named aws-waf-logs-*."
        ),
        validate=validate_waf_logging,
        resource_types=(WEB_ACL, WAF_LOGGING),
        checkov=("CKV2_AWS_31",),
        cdk_nag=("NIST.800.53.R5-WAFv2LoggingEnabled",),
    ),
    Rule(
        name="alb-access-log-retention",
        description="Require load balancer access logs to be kept at least the configured days.",
        area="load_balancer",
        kind="stack",
        severity=Severity.LOW,
        remediation=(
            "Raise the expiration of the log bucket's lifecycle rule (Cluster "
            "access_log_retention_days) to the environment's log retention."
        ),
        validate=validate_access_log_retention,
        resource_types=(
            *LB_TYPES,
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        ),
        config={
            "minimumDays": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MIN_ACCESS_LOG_DAYS,
                "description": "Fewest days access log objects must be kept.",
            }
        },
    ),
)
