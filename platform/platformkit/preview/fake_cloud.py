"""Realistic fake cloud answers for Pulumi's mock runtime.

``FakeCloud`` plays the provider: it returns ids, ARNs, names and endpoints shaped like the
real ones (right partition, region and account), and answers the look-ups programs make
(availability zones, region, caller identity, partition, ELB service account, IAM policy
documents). Values are derived from a hash of the resource's type and name, so two runs of the
same program produce the same ids.

In ``preview`` mode it returns the inputs only, so every computed output (ids, ARNs,
endpoints) stays unknown, exactly as a real ``pulumi preview`` shows them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

Mode = Literal["up", "preview"]

DEFAULT_REGION = "us-east-1"
"""Region used when the program's config sets no ``aws:region``."""
DEFAULT_ACCOUNT_ID = "123456789012"
"""Account id of the fake caller identity."""

# ELB log-delivery accounts for a few regions; other regions fall back to the
# ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal AWS documents.
_ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-central-1": "054676820928",
    "ap-southeast-2": "783225319266",
}

# Resource-id prefixes AWS uses, by type token.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/defaultRouteTable:DefaultRouteTable": "rtb-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _uuid(seed: str) -> str:
    h = _digest("uuid", seed)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Identity:
    """Where the fake resources live."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


class FakeCloud(pulumi.runtime.Mocks):
    """Mocks that answer like AWS would; see the module docstring."""

    def __init__(self, identity: Identity | None = None, mode: Mode = "up") -> None:
        self.identity = identity or Identity()
        self.mode: Mode = mode

    # --- resources -------------------------------------------------------------------

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if self.mode == "preview":
            # Leave the id and every computed output unknown, as a real preview does.
            return None, inputs
        seed = _digest(args.typ, args.name)
        outputs = {**inputs, **self._computed(args.typ, args.name, inputs, seed)}
        resource_id = str(outputs.get("id") or self._id(args.typ, args.name, inputs, seed))
        outputs.setdefault("id", resource_id)
        return resource_id, outputs

    def _id(self, typ: str, name: str, inputs: Mapping[str, Any], seed: str) -> str:
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            return str(inputs.get("bucket") or f"{name}-{seed[:12]}")  # a bucket's id is its name
        prefix = _ID_PREFIXES.get(typ)
        if prefix:
            return prefix + seed[:17]
        for key in ("name", "bucket", "identifier", "family"):
            if isinstance(inputs.get(key), str):
                return str(inputs[key])
        return f"{name}-{seed[:7]}"

    def _computed(
        self, typ: str, name: str, inputs: Mapping[str, Any], seed: str
    ) -> dict[str, Any]:
        physical = str(inputs.get("name") or f"{name}-{seed[:7]}")
        computed: dict[str, Any] = {}
        builder = _BUILDERS.get(typ)
        if builder is not None:
            computed.update(builder(self.identity, name, physical, inputs, seed))
        else:
            service = typ.split(":")[1].split("/")[0] if ":" in typ else "unknown"
            computed["arn"] = self.identity.arn(service, f"{name}/{seed[:12]}")
        if typ.startswith("aws:") and "tags" in inputs:
            computed["tagsAll"] = dict(inputs.get("tags") or {})
        computed.setdefault("name", physical)
        return computed

    # --- look-ups ---------------------------------------------------------------------

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        # The mock monitor iterates the failure list, so "no failures" must be [] not None.
        return self._look_up(args.token, args.args), []

    def _look_up(self, token: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        ident = self.identity
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"
            return {
                "id": ident.region,
                "names": [f"{ident.region}{c}" for c in letters],
                "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
                "groupNames": [ident.region] * len(letters),
            }
        if token == "aws:index/getRegion:getRegion":
            endpoint = f"ec2.{ident.region}.{ident.dns_suffix}"
            return {
                "id": ident.region,
                "name": ident.region,
                "region": ident.region,
                "endpoint": endpoint,
                "description": ident.region,
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ident.account_id,
                "accountId": ident.account_id,
                "arn": f"arn:{ident.partition}:iam::{ident.account_id}:user/platformkit-preview",
                "userId": "AIDAPLATFORMKITPREVIEW",
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "id": ident.partition,
                "partition": ident.partition,
                "dnsSuffix": ident.dns_suffix,
                "reverseDnsPrefix": ".".join(reversed(ident.dns_suffix.split("."))),
            }
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            account = _ELB_ACCOUNTS.get(ident.region, "127311923021")
            return {
                "id": account,
                "arn": f"arn:{ident.partition}:iam::{account}:root",
            }
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            document = render_policy_document(arguments)
            return {"id": _digest(document)[:10], "json": document, "minifiedJson": document}
        return {}


def render_policy_document(args: Mapping[str, Any]) -> str:
    """Render ``aws.iam.get_policy_document`` arguments to the JSON AWS would return."""
    statements = []
    for raw in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        statement["Effect"] = raw.get("effect") or "Allow"
        for key, out in (("actions", "Action"), ("notActions", "NotAction")):
            if raw.get(key):
                statement[out] = _one_or_many(raw[key])
        for key, out in (("resources", "Resource"), ("notResources", "NotResource")):
            if raw.get(key):
                statement[out] = _one_or_many(raw[key])
        for key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if raw.get(key):
                principal: dict[str, Any] = {}
                for p in raw[key]:
                    principal[p["type"]] = _one_or_many(p["identifiers"])
                statement[out] = principal
        if raw.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for c in raw["conditions"]:
                condition.setdefault(c["test"], {})[c["variable"]] = _one_or_many(c["values"])
            statement["Condition"] = condition
        statements.append(statement)
    return json.dumps({"Version": args.get("version") or "2012-10-17", "Statement": statements})


def _one_or_many(values: Any) -> Any:
    values = list(values)
    return values[0] if len(values) == 1 else values


# --- per-type computed outputs --------------------------------------------------------

Builder = Callable[[Identity, str, str, Mapping[str, Any], str], dict[str, Any]]


def _ec2(kind: str) -> Builder:
    def build(
        i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
    ) -> dict[str, Any]:
        return {"arn": i.arn("ec2", f"{kind}/{_ID_PREFIX_BY_KIND.get(kind, '')}{seed[:17]}")}

    return build


_ID_PREFIX_BY_KIND = {
    "vpc": "vpc-",
    "subnet": "subnet-",
    "security-group": "sg-",
    "internet-gateway": "igw-",
    "natgateway": "nat-",
    "route-table": "rtb-",
    "network-acl": "acl-",
    "vpc-endpoint": "vpce-",
    "vpc-flow-log": "fl-",
    "elastic-ip": "eipalloc-",
    "security-group-rule": "sgr-",
}


def _vpc(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {
        "arn": i.arn("ec2", f"vpc/vpc-{seed[:17]}"),
        "defaultSecurityGroupId": f"sg-{_digest(seed, 'sg')[:17]}",
        "defaultNetworkAclId": f"acl-{_digest(seed, 'acl')[:17]}",
        "defaultRouteTableId": f"rtb-{_digest(seed, 'rtb')[:17]}",
        "mainRouteTableId": f"rtb-{_digest(seed, 'rtb')[:17]}",
        "ownerId": i.account_id,
    }


def _eip(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    n = int(seed[:6], 16)
    return {
        "arn": i.arn("ec2", f"elastic-ip/eipalloc-{seed[:17]}"),
        "allocationId": f"eipalloc-{seed[:17]}",
        "publicIp": f"3.{n % 250 + 1}.{n // 250 % 250 + 1}.{n // 62500 % 250 + 1}",
    }


def _lb(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    lb_name = physical[:32]
    suffix = f"app/{lb_name}/{seed[:16]}"
    return {
        "arn": i.arn("elasticloadbalancing", f"loadbalancer/{suffix}"),
        "arnSuffix": suffix,
        "dnsName": f"{lb_name}-{int(seed[:8], 16)}.{i.region}.elb.{i.dns_suffix}",
        "zoneId": "Z35SXDOTRQ7X7K",
        "name": lb_name,
    }


def _tg(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    tg_name = physical[:32]
    suffix = f"targetgroup/{tg_name}/{seed[:16]}"
    return {
        "arn": i.arn("elasticloadbalancing", suffix),
        "arnSuffix": suffix,
        "name": tg_name,
    }


def _listener(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("elasticloadbalancing", f"listener/app/{name}/{seed[:16]}/{seed[16:32]}")}


def _ecs_cluster(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("ecs", f"cluster/{physical}")}


def _ecs_service(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    cluster = str(inputs.get("cluster") or "default").rsplit("/", 1)[-1]
    return {"arn": i.arn("ecs", f"service/{cluster}/{physical}")}


def _task_definition(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    family = str(inputs.get("family") or physical)
    return {
        "arn": i.arn("ecs", f"task-definition/{family}:1"),
        "arnWithoutRevision": i.arn("ecs", f"task-definition/{family}"),
        "revision": 1,
    }


def _iam_role(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {
        "arn": f"arn:{i.partition}:iam::{i.account_id}:role/{physical}",
        "uniqueId": "AROA" + seed[:17].upper(),
    }


def _iam_policy(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {
        "arn": f"arn:{i.partition}:iam::{i.account_id}:policy/{physical}",
        "policyId": "ANPA" + seed[:17].upper(),
    }


def _log_group(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("logs", f"log-group:{physical}")}


def _bucket(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    bucket = str(inputs.get("bucket") or f"{name}-{seed[:12]}")
    return {
        # A bucket's id is its name; sub-resources reference the bucket by it.
        "id": bucket,
        "arn": f"arn:{i.partition}:s3:::{bucket}",
        "bucket": bucket,
        "bucketDomainName": f"{bucket}.s3.{i.dns_suffix}",
        "bucketRegionalDomainName": f"{bucket}.s3.{i.region}.{i.dns_suffix}",
        "region": i.region,
    }


def _cloudfront_distribution(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    # CloudFront is global: its ARNs carry no region, its ids are E + 13 upper-case chars.
    distribution_id = "E" + seed[:13].upper()
    return {
        "id": distribution_id,
        "arn": f"arn:{i.partition}:cloudfront::{i.account_id}:distribution/{distribution_id}",
        "domainName": f"d{seed[:13]}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
        "etag": "E" + seed[13:26].upper(),
    }


def _cloudfront_oac(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"id": "E" + seed[:13].upper(), "etag": "E" + seed[13:26].upper()}


def _rds_instance(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    identifier = str(inputs.get("identifier") or f"{name}-{seed[:7]}")
    engine = str(inputs.get("engine") or "mysql")
    port = int(inputs.get("port") or (5432 if engine.startswith("postgres") else 3306))
    address = f"{identifier}.{seed[:12]}.{i.region}.rds.{i.dns_suffix}"
    computed: dict[str, Any] = {
        "arn": i.arn("rds", f"db:{identifier}"),
        "identifier": identifier,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": "db-" + seed[:26].upper(),
        "hostedZoneId": "Z2R2ITUGPM61AM",
    }
    if inputs.get("manageMasterUserPassword"):
        computed["masterUserSecrets"] = [
            {
                "secretArn": i.arn("secretsmanager", f"secret:rds!db-{_uuid(seed)}-{seed[:6]}"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId")
                or i.arn("kms", f"key/{_uuid(seed + 'kms')}"),
                "secretStatus": "active",
            }
        ]
    return computed


def _rds_named(kind: str) -> Builder:
    def build(
        i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
    ) -> dict[str, Any]:
        return {"arn": i.arn("rds", f"{kind}:{physical}")}

    return build


def _secret(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("secretsmanager", f"secret:{physical}-{seed[:6]}")}


def _kms_key(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    key_id = _uuid(seed)
    return {"arn": i.arn("kms", f"key/{key_id}"), "keyId": key_id}


def _sns_topic(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("sns", physical)}


def _ecr_repository(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {
        "arn": i.arn("ecr", f"repository/{physical}"),
        "registryId": i.account_id,
        "repositoryUrl": f"{i.account_id}.dkr.ecr.{i.region}.{i.dns_suffix}/{physical}",
    }


def _alarm(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("cloudwatch", f"alarm:{physical}")}


def _dashboard(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    dashboard = str(inputs.get("dashboardName") or physical)
    return {
        "dashboardArn": f"arn:{i.partition}:cloudwatch::{i.account_id}:dashboard/{dashboard}",
        "dashboardName": dashboard,
    }


def _web_acl(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {"arn": i.arn("wafv2", f"regional/webacl/{physical}/{_uuid(seed)}")}


def _scaling_policy(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    return {
        "arn": i.arn(
            "autoscaling",
            f"scalingPolicy:{_uuid(seed)}:resource/ecs/{physical}:policyName/{physical}",
        )
    }


def _ecr_image(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    repository = str(
        inputs.get("repositoryUrl") or f"{i.account_id}.dkr.ecr.{i.region}.{i.dns_suffix}/{name}"
    )
    return {"imageUri": f"{repository}@sha256:{_digest('image', seed)}"}


def _random_id(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    # As the random provider computes them: ``id`` is the unpadded URL-safe base64 of the
    # bytes, and every other encoding carries ``prefix``.
    data = hashlib.shake_256(f"randomId\0{seed}".encode()).digest(int(inputs["byteLength"]))
    prefix = str(inputs.get("prefix") or "")
    b64_url = base64.urlsafe_b64encode(data).decode().rstrip("=")
    return {
        "id": b64_url,
        "hex": prefix + data.hex(),
        "b64Url": prefix + b64_url,
        "b64Std": prefix + base64.b64encode(data).decode(),
        "dec": prefix + str(int.from_bytes(data, "big")),
    }


_BUILDERS: dict[str, Builder] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _ec2("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2("security-group"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _ec2("natgateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/routeTable:RouteTable": _ec2("route-table"),
    "aws:ec2/defaultRouteTable:DefaultRouteTable": _ec2("route-table"),
    "aws:ec2/networkAcl:NetworkAcl": _ec2("network-acl"),
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": _ec2("network-acl"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2("vpc-endpoint"),
    "aws:ec2/flowLog:FlowLog": _ec2("vpc-flow-log"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2("security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2("security-group-rule"),
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _tg,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener,
    "aws:ecs/cluster:Cluster": _ecs_cluster,
    "aws:ecs/service:Service": _ecs_service,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _rds_named("subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _rds_named("pg"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:kms/key:Key": _kms_key,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:appautoscaling/policy:Policy": _scaling_policy,
    "awsx:ecr:Image": _ecr_image,
    "aws:cloudfront/distribution:Distribution": _cloudfront_distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _cloudfront_oac,
    "random:index/randomId:RandomId": _random_id,
}
