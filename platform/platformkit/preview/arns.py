"""ARNs in the format AWS gives each resource type, and ids shaped like the service's ids.

``resource_arn`` knows the real format of the types programs most often wire together
(Lambda, API Gateway, SQS, DynamoDB, Step Functions, ...). For any other ``aws:`` type it builds
``arn:<partition>:<service>:<region>:<account>:<kebab-type>/<name>``, with the service named as
in ARNs (``apigatewayv2`` resources are ``apigateway``, ``sfn`` is ``states``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from platformkit.preview.identity import Identity, alnum, digest

# Token module → the service name ARNs use, where they differ.
ARN_SERVICES = {
    "alb": "elasticloadbalancing",
    "lb": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "apigatewayv2": "apigateway",
    "sfn": "states",
    "cognito": "cognito-idp",
    "opensearch": "es",
    "elasticsearch": "es",
    "msk": "kafka",
    "efs": "elasticfilesystem",
    "cloudwatch": "cloudwatch",
    "cfg": "config",
    "ssoadmin": "sso",
    "servicediscovery": "servicediscovery",
}
# Real formats: {p} partition, {r} region, {a} account, {n} physical name, {i} id.
_FORMATS = {
    "aws:lambda/function:Function": "arn:{p}:lambda:{r}:{a}:function:{n}",
    "aws:lambda/layerVersion:LayerVersion": "arn:{p}:lambda:{r}:{a}:layer:{n}:1",
    "aws:sqs/queue:Queue": "arn:{p}:sqs:{r}:{a}:{n}",
    "aws:sns/topic:Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "aws:dynamodb/table:Table": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
    "aws:sfn/stateMachine:StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{n}",
    "aws:sfn/activity:Activity": "arn:{p}:states:{r}:{a}:activity:{n}",
    "aws:cloudwatch/eventRule:EventRule": "arn:{p}:events:{r}:{a}:rule/{n}",
    "aws:cloudwatch/eventBus:EventBus": "arn:{p}:events:{r}:{a}:event-bus/{n}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{n}",
    "aws:iam/role:Role": "arn:{p}:iam::{a}:role/{n}",
    "aws:iam/user:User": "arn:{p}:iam::{a}:user/{n}",
    "aws:iam/group:Group": "arn:{p}:iam::{a}:group/{n}",
    "aws:iam/policy:Policy": "arn:{p}:iam::{a}:policy/{n}",
    "aws:iam/instanceProfile:InstanceProfile": "arn:{p}:iam::{a}:instance-profile/{n}",
    "aws:s3/bucket:Bucket": "arn:{p}:s3:::{n}",
    "aws:s3/bucketV2:BucketV2": "arn:{p}:s3:::{n}",
    "aws:apigateway/restApi:RestApi": "arn:{p}:apigateway:{r}::/restapis/{i}",
    "aws:apigatewayv2/api:Api": "arn:{p}:apigateway:{r}::/apis/{i}",
    "aws:appsync/graphQLApi:GraphQLApi": "arn:{p}:appsync:{r}:{a}:apis/{i}",
    "aws:eks/cluster:Cluster": "arn:{p}:eks:{r}:{a}:cluster/{n}",
    "aws:ecr/repository:Repository": "arn:{p}:ecr:{r}:{a}:repository/{n}",
    "aws:ec2/instance:Instance": "arn:{p}:ec2:{r}:{a}:instance/{i}",
    "aws:ec2/keyPair:KeyPair": "arn:{p}:ec2:{r}:{a}:key-pair/{n}",
    "aws:redshift/cluster:Cluster": "arn:{p}:redshift:{r}:{a}:cluster:{n}",
    "aws:glue/catalogDatabase:CatalogDatabase": "arn:{p}:glue:{r}:{a}:database/{n}",
    "aws:glue/job:Job": "arn:{p}:glue:{r}:{a}:job/{n}",
    "aws:glue/crawler:Crawler": "arn:{p}:glue:{r}:{a}:crawler/{n}",
    "aws:secretsmanager/secret:Secret": "arn:{p}:secretsmanager:{r}:{a}:secret:{n}-{i6}",
    "aws:ssm/parameter:Parameter": "arn:{p}:ssm:{r}:{a}:parameter/{n}",
    "aws:kinesis/stream:Stream": "arn:{p}:kinesis:{r}:{a}:stream/{n}",
    "aws:elasticache/cluster:Cluster": "arn:{p}:elasticache:{r}:{a}:cluster:{n}",
    "aws:rds/cluster:Cluster": "arn:{p}:rds:{r}:{a}:cluster:{n}",
    "aws:acm/certificate:Certificate": "arn:{p}:acm:{r}:{a}:certificate/{u}",
}
# Ids AWS gives by type (what ``.id`` looks like), beyond the name-as-id default.
_ID_SHAPES: dict[str, Callable[[str], str]] = {
    "aws:apigateway/restApi:RestApi": lambda seed: alnum(seed, 10),
    "aws:apigateway/deployment:Deployment": lambda seed: alnum(seed, 6),
    "aws:apigateway/resource:Resource": lambda seed: alnum(seed, 6),
    "aws:apigatewayv2/api:Api": lambda seed: alnum(seed, 10),
    "aws:apigatewayv2/integration:Integration": lambda seed: alnum(seed, 7),
    "aws:apigatewayv2/route:Route": lambda seed: alnum(seed, 7),
    "aws:apigatewayv2/deployment:Deployment": lambda seed: alnum(seed, 6),
    "aws:appsync/graphQLApi:GraphQLApi": lambda seed: alnum(seed, 26),
    "aws:ec2/instance:Instance": lambda seed: "i-" + seed[:17],
    "aws:ec2/launchTemplate:LaunchTemplate": lambda seed: "lt-" + seed[:17],
    "aws:ec2/keyPair:KeyPair": lambda seed: "key-" + seed[:17],
    "aws:route53/zone:Zone": lambda seed: "Z" + seed[:20].upper(),
    "aws:cognito/userPool:UserPool": lambda seed: "us-east-1_" + alnum(seed, 9),
}


def kebab(name: str) -> str:
    """``CatalogDatabase`` → ``catalog-database``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def service_of(type_token: str) -> str:
    """The service name ARNs use for ``type_token`` (``aws:sfn/...`` → ``states``)."""
    module = type_token.split(":")[1].split("/")[0] if type_token.count(":") == 2 else ""
    return ARN_SERVICES.get(module, module.rstrip("_") or "unknown")


def resource_id(type_token: str, seed: str) -> str | None:
    """An id shaped like the service's ids for ``type_token``, when its shape is known."""
    shape = _ID_SHAPES.get(type_token)
    return shape(seed) if shape is not None else None


def resource_arn(
    identity: Identity, type_token: str, physical: str, resource_id: str, seed: str
) -> str:
    """The ARN of a resource of ``type_token`` named ``physical`` with id ``resource_id``."""
    template = _FORMATS.get(type_token)
    if template is not None:
        return template.format(
            p=identity.partition,
            r=identity.region,
            a=identity.account_id,
            n=physical,
            i=resource_id,
            i6=alnum(seed, 6),
            u=_uuid(seed),
        )
    kind = kebab(type_token.rsplit(":", 1)[-1])
    return identity.arn(service_of(type_token), f"{kind}/{physical}")


def _uuid(seed: str) -> str:
    h = digest("arn-uuid", seed)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
