"""Per-type models of the outputs AWS computes, for the types programs use most.

Each builder gets the identity (region, account), the logical name, the physical name, the
inputs and a seed, and returns the outputs AWS would add after a create (ids, ARNs in their
real format, endpoints, DNS names). Types without a builder get their outputs from
``synthesize`` (derived from the SDK's declared output types).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from platformkit.preview.identity import Identity, alnum, digest, uuid_from

_digest = digest
_uuid = uuid_from

# Resource-id prefixes AWS uses, by type token.
ID_PREFIXES = {
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


def _api_gateway_v2(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api_id = alnum(seed, 10)
    scheme = "wss" if inputs.get("protocolType") == "WEBSOCKET" else "https"
    return {
        "id": api_id,
        "arn": f"arn:{i.partition}:apigateway:{i.region}::/apis/{api_id}",
        "apiEndpoint": f"{scheme}://{api_id}.execute-api.{i.region}.amazonaws.com",
        "executionArn": i.arn("execute-api", api_id),
    }


def _rest_api(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api_id = alnum(seed, 10)
    return {
        "id": api_id,
        "arn": f"arn:{i.partition}:apigateway:{i.region}::/restapis/{api_id}",
        "executionArn": i.arn("execute-api", api_id),
        "rootResourceId": alnum(seed + "root", 10),
    }


def _api_of(inputs: Mapping[str, Any], key: str, seed: str) -> str:
    api = inputs.get(key)
    return api if isinstance(api, str) and api else alnum(seed + "api", 10)


def _rest_stage(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api = _api_of(inputs, "restApi", seed)
    stage = str(inputs.get("stageName") or name)
    return {
        "arn": f"arn:{i.partition}:apigateway:{i.region}::/restapis/{api}/stages/{stage}",
        "executionArn": i.arn("execute-api", f"{api}/{stage}"),
        "invokeUrl": f"https://{api}.execute-api.{i.region}.amazonaws.com/{stage}",
    }


def _rest_deployment(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api = _api_of(inputs, "restApi", seed)
    stage = str(inputs.get("stageName") or "")
    return {
        "id": alnum(seed, 6),
        "executionArn": i.arn("execute-api", f"{api}/{stage}"),
        "invokeUrl": f"https://{api}.execute-api.{i.region}.amazonaws.com/{stage}",
    }


def _v2_stage(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api = _api_of(inputs, "apiId", seed)
    stage = str(inputs.get("name") or name)
    path = "" if stage == "$default" else stage
    return {
        "arn": f"arn:{i.partition}:apigateway:{i.region}::/apis/{api}/stages/{stage}",
        "executionArn": i.arn("execute-api", f"{api}/{stage}"),
        "invokeUrl": f"https://{api}.execute-api.{i.region}.amazonaws.com/{path}",
    }


def _appsync_api(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    api_id = alnum(seed, 26)
    host = alnum(seed + "host", 26)
    return {
        "id": api_id,
        "arn": i.arn("appsync", f"apis/{api_id}"),
        "uris": {
            "GRAPHQL": f"https://{host}.appsync-api.{i.region}.amazonaws.com/graphql",
            "REALTIME": f"wss://{host}.appsync-realtime-api.{i.region}.amazonaws.com/graphql",
        },
    }


def _eks_cluster(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    certificate = base64.b64encode(
        b"-----BEGIN CERTIFICATE-----\nplatformkit-preview\n-----END CERTIFICATE-----\n"
    ).decode()
    return {
        "arn": i.arn("eks", f"cluster/{physical}"),
        "endpoint": f"https://{seed[:32].upper()}.gr7.{i.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": certificate},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{i.region}.amazonaws.com/id/{seed[:32]}"}]}
        ],
        "status": "ACTIVE",
        "version": str(inputs.get("version") or "1.31"),
    }


def _redshift_cluster(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    identifier = str(inputs.get("clusterIdentifier") or physical)
    port = int(inputs.get("port") or 5439)
    host = f"{identifier}.{seed[:12]}.{i.region}.redshift.amazonaws.com"
    return {
        "arn": i.arn("redshift", f"cluster:{identifier}"),
        "dnsName": host,
        "endpoint": f"{host}:{port}",
        "port": port,
    }


def _rds_cluster(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    identifier = str(inputs.get("clusterIdentifier") or physical)
    host = f"{identifier}.cluster-{seed[:12]}.{i.region}.rds.amazonaws.com"
    return {
        "arn": i.arn("rds", f"cluster:{identifier}"),
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "port": int(inputs.get("port") or 3306),
    }


def _sqs_queue(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    # A queue's id is its URL.
    url = f"https://sqs.{i.region}.amazonaws.com/{i.account_id}/{physical}"
    return {"id": url, "url": url, "arn": i.arn("sqs", physical)}


def _acm_certificate(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    arn = i.arn("acm", f"certificate/{_uuid(seed)}")
    domains = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
    options = [
        {
            "domainName": domain,
            "resourceRecordName": f"_{_digest(seed, str(domain))[:32]}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{_digest(str(domain), seed)[:32]}.acm-validations.aws.",
        }
        for domain in domains
        if isinstance(domain, str) and domain
    ]
    return {"id": arn, "arn": arn, "domainValidationOptions": options, "status": "ISSUED"}


def _lambda_function(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    arn = i.arn("lambda", f"function:{physical}")
    invoke = f"arn:{i.partition}:apigateway:{i.region}:lambda:path/2015-03-31/functions/"
    return {
        "arn": arn,
        "invokeArn": f"{invoke}{arn}/invocations",
        "qualifiedArn": f"{arn}:1",
        "qualifiedInvokeArn": f"{invoke}{arn}:1/invocations",
        "version": "1",
    }


def _instance(
    i: Identity, name: str, physical: str, inputs: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    n = int(seed[:6], 16)
    public_ip = f"3.{n % 250 + 1}.{n // 250 % 250 + 1}.{n // 62500 % 250 + 1}"
    private_ip = f"10.0.{n % 250}.{n % 253 + 1}"
    return {
        "id": f"i-{seed[:17]}",
        "arn": i.arn("ec2", f"instance/i-{seed[:17]}"),
        "publicIp": public_ip,
        "privateIp": private_ip,
        "publicDns": f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com",
        "privateDns": f"ip-{private_ip.replace('.', '-')}.ec2.internal",
    }


BUILDERS: dict[str, Builder] = {
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
    "aws:apigatewayv2/api:Api": _api_gateway_v2,
    "aws:apigatewayv2/stage:Stage": _v2_stage,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/stage:Stage": _rest_stage,
    "aws:apigateway/deployment:Deployment": _rest_deployment,
    "aws:appsync/graphQLApi:GraphQLApi": _appsync_api,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:redshift/cluster:Cluster": _redshift_cluster,
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:lambda/function:Function": _lambda_function,
    "aws:ec2/instance:Instance": _instance,
}
