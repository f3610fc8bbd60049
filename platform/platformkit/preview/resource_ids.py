"""Ids shaped as the AWS provider shapes them, for types whose id is not a prefixed hex id.

Many resources use their ARN (ECS, ELBv2, SNS), the bucket's name (every S3 bucket
configuration resource), a key id (KMS), or a composite of their inputs (a WAF association is
``<web ACL ARN>,<resource ARN>``). A test or policy that follows an id back to its resource
then sees what it would see against AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from platformkit.preview.identity import uuid_from

IdRule = Callable[[Mapping[str, Any], Mapping[str, Any], str], str | None]
"""(inputs, computed outputs, seed) → the id, or ``None`` when the inputs lack what it needs."""


def _output(key: str) -> IdRule:
    return lambda inputs, built, seed: _str(built.get(key))


def _input(key: str) -> IdRule:
    return lambda inputs, built, seed: _str(inputs.get(key))


def _joined(separator: str, *keys: str) -> IdRule:
    def rule(inputs: Mapping[str, Any], built: Mapping[str, Any], seed: str) -> str | None:
        values = [_str(inputs.get(key)) for key in keys]
        return separator.join(v for v in values if v) if all(values) else None

    return rule


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_S3_CONFIGURATIONS = (
    "bucketPolicy",
    "bucketPublicAccessBlock",
    "bucketOwnershipControls",
    "bucketServerSideEncryptionConfiguration",
    "bucketVersioning",
    "bucketLifecycleConfiguration",
    "bucketLogging",
    "bucketAcl",
    "bucketCorsConfiguration",
    "bucketWebsiteConfiguration",
)

ID_RULES: dict[str, IdRule] = {
    **{
        f"aws:s3/{module}:{module[0].upper()}{module[1:]}": _input("bucket")
        for module in _S3_CONFIGURATIONS
    },
    "aws:ecs/cluster:Cluster": _output("arn"),
    "aws:ecs/service:Service": _output("arn"),
    "aws:lb/loadBalancer:LoadBalancer": _output("arn"),
    "aws:lb/listener:Listener": _output("arn"),
    "aws:lb/listenerRule:ListenerRule": _output("arn"),
    "aws:lb/targetGroup:TargetGroup": _output("arn"),
    "aws:sns/topic:Topic": _output("arn"),
    "aws:kms/key:Key": _output("keyId"),
    # pulumi-aws 6+ (Terraform AWS provider 5+): an instance's id is its DBI resource id.
    "aws:rds/instance:Instance": _output("resourceId"),
    "aws:wafv2/webAcl:WebAcl": lambda inputs, built, seed: uuid_from(seed),
    "aws:wafv2/webAclAssociation:WebAclAssociation": _joined(",", "webAclArn", "resourceArn"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _input("resourceArn"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _input("clusterName"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _input("repository"),
    "aws:iam/rolePolicy:RolePolicy": _joined(":", "role", "name"),
    "aws:appautoscaling/target:Target": _input("resourceId"),
}


def provider_id(
    type_token: str, inputs: Mapping[str, Any], built: Mapping[str, Any], seed: str
) -> str | None:
    """The id the provider would report, where it follows one of the rules above."""
    rule = ID_RULES.get(type_token)
    return rule(inputs, built, seed) if rule is not None else None
