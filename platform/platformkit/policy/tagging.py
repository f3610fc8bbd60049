"""Tagging rule: every taggable resource carries the platform's standard tags."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from .core import Rule, as_mapping, setting

DEFAULT_REQUIRED_TAGS = ["environment", "project", "owner", "managed-by"]
"""Keys platformkit components put on every resource (see ``platformkit.tags``)."""

TAGGABLE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/networkAcl:NetworkAcl",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/instance:Instance",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/listener:Listener",
        "aws:lb/targetGroup:TargetGroup",
        "aws:ecs/cluster:Cluster",
        "aws:ecs/service:Service",
        "aws:ecs/taskDefinition:TaskDefinition",
        "aws:rds/instance:Instance",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:ecr/repository:Repository",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:kms/key:Key",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:secretsmanager/secret:Secret",
        "aws:wafv2/webAcl:WebAcl",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:sns/topic:Topic",
        "aws:appautoscaling/target:Target",
        "aws:acm/certificate:Certificate",
    }
)
"""Resource types this stack creates that accept ``tags``; the rule skips all others."""


def validate_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    required = list(setting(args.get_config(), "requiredTags", DEFAULT_REQUIRED_TAGS))
    tags = as_mapping(args.props.get("tags")) or {}
    missing = [key for key in required if not tags.get(key)]
    if missing:
        # Provider default_tags land in tagsAll; accept them when the engine has filled it.
        tags_all = as_mapping(args.props.get("tagsAll")) or {}
        missing = [key for key in missing if not tags_all.get(key)]
    if missing:
        report(f"Missing required tag(s): {', '.join(missing)}.", None)


RULES: tuple[Rule, ...] = (
    Rule(
        name="required-tags",
        description="Require the standard tags on every taggable resource.",
        area="tagging",
        severity=Severity.LOW,
        remediation=(
            "Pass tags=platformkit.tags.standard_tags(...) (environment, project, owner, "
            "managed-by) to the resource."
        ),
        validate=validate_required_tags,
        resource_types=tuple(sorted(TAGGABLE_TYPES)),
        config={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "default": DEFAULT_REQUIRED_TAGS,
                "description": "Tag keys every taggable resource must carry, non-empty.",
            }
        },
    ),
)
