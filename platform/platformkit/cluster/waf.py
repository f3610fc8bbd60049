"""The cluster's WAFv2 web ACL (AWS managed rule groups, optional rate limit) and its logging."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformkit.cluster.names import MAX_POLICY_NAME, metric_name, stable_name
from platformkit.cluster.settings import ClusterSettings
from platformkit.component_base import Component

WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF delivers only to log groups whose name starts with this."""
WAF_REDACTED_HEADERS = ("authorization",)
"""Headers kept out of WAF logs: the service's API keys travel as ``Authorization: Bearer``."""

WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
"""AWS managed rule groups in the web ACL, in evaluation order (cheapest verdicts first)."""

COUNT_ONLY_RULES: dict[str, tuple[str, ...]] = {
    # The common rule set blocks request bodies over 8 KB; API batch endpoints (order ingest
    # takes up to 1000 orders) legitimately send more. Counting keeps the signal in metrics;
    # the application enforces its own body limit.
    "AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),
    # Anonymizers (Tor, VPNs, proxies) are blocked; requests from cloud hosting ranges are only
    # counted: the API's clients (ingest jobs, partner integrations) run on such hosts.
    "AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",),
}
"""Rules of a managed group switched from block to count, per group."""


def create_web_acl(
    owner: Component, settings: ClusterSettings, load_balancer_arn: pulumi.Output[str]
) -> pulumi.Output[str]:
    rules: list[aws.wafv2.WebAclRuleArgsDict] = []
    if settings.waf_rate_limit is not None:
        rules.append(
            {
                "name": "rate-limit-per-ip",
                "priority": 0,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "limit": settings.waf_rate_limit,
                        "aggregate_key_type": "IP",
                    }
                },
                "visibility_config": _visibility(owner._name, "rate-limit"),
            }
        )
    for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=1):
        managed: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {
            "vendor_name": "AWS",
            "name": group,
        }
        if group in COUNT_ONLY_RULES:
            managed["rule_action_overrides"] = [
                {"name": rule, "action_to_use": {"count": {}}} for rule in COUNT_ONLY_RULES[group]
            ]
        rules.append(
            {
                "name": group,
                "priority": priority,
                # "none" keeps the group's own block actions (vs "count", monitor only).
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": managed},
                "visibility_config": _visibility(owner._name, group),
            }
        )
    acl = aws.wafv2.WebAcl(
        f"{owner._name}-waf",
        description=f"Protects the load balancer of cluster {owner._name}",
        scope="REGIONAL",
        default_action={"allow": {}},
        rules=rules,
        visibility_config=_visibility(owner._name, "web-acl"),
        tags=owner._tags,
        opts=owner._child(),
    )
    aws.wafv2.WebAclAssociation(
        f"{owner._name}-waf-association",
        resource_arn=load_balancer_arn,
        web_acl_arn=acl.arn,
        opts=owner._child(),
    )
    if settings.waf_logging:
        _create_waf_logging(owner, settings, acl)
    return acl.arn


def _create_waf_logging(owner: Component, settings: ClusterSettings, acl: aws.wafv2.WebAcl) -> None:
    group = aws.cloudwatch.LogGroup(
        f"{owner._name}-waf-logs",
        name_prefix=f"{WAF_LOG_GROUP_PREFIX}{owner._name}-",
        retention_in_days=settings.waf_log_retention_days,
        kms_key_id=settings.log_kms_key_arn,
        tags=owner._tags,
        opts=owner._child(),
    )
    # Left alone, WAF grants itself delivery by rewriting one account-wide resource policy
    # (AWSWAF-LOGS), which outgrows its size limit once many web ACLs log; a policy per
    # group, scoped to this account, avoids that.
    invoke = pulumi.InvokeOutputOptions(parent=owner)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    delivery = aws.cloudwatch.LogResourcePolicy(
        f"{owner._name}-waf-logs-delivery",
        policy_name=stable_name(f"{owner._name}-waf-logs-delivery", MAX_POLICY_NAME),
        policy_document=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WafDeliversLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "delivery.logs.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": pulumi.Output.concat(group.arn, ":*"),
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                ],
            }
        ),
        opts=owner._child(),
    )
    aws.wafv2.WebAclLoggingConfiguration(
        f"{owner._name}-waf-logging",
        resource_arn=acl.arn,
        log_destination_configs=[group.arn],
        redacted_fields=[{"single_header": {"name": header}} for header in WAF_REDACTED_HEADERS],
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[delivery]),
    )


def _visibility(*metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric_name(*metric),
        "sampled_requests_enabled": True,
    }
