"""A deployed stack in moto, shaped as ``stacks/__main__.py`` creates it, and the ops CLI.

moto models most of what ``verify`` and ``dr-drill`` read. Where it does not, the tests wrap
one call of a real moto client (``Override``) rather than stubbing the whole client:

- ECS services in moto launch no tasks, so ``list_tasks``/``describe_tasks`` (the AZ spread)
  are answered from ``StackFixture.task_zones``;
- ``runningCount`` comes from moto's ``MOTO_ECS_SERVICE_RUNNING`` at service creation;
- registered IP targets are always ``healthy`` in moto, so ``describe_target_health`` is
  replaced when a test needs another state.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from platformkit.ops.aws import AwsClients
from platformkit.ops.cli import OpsDeps, add_dr_drill, add_verify

REGION = "us-east-1"
STACK = "prod"
DB_ID = "analytics-prod"
URL = "https://analytics-alb-1234.us-east-1.elb.amazonaws.com"


class Override:
    """A client whose named calls are replaced; every other call reaches moto."""

    def __init__(self, client: Any, **calls: Callable[..., Any]) -> None:
        self._client = client
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        if name in self._calls:
            return self._calls[name]
        return getattr(self._client, name)


@dataclass
class FakeTime:
    """Monotonic clock and sleep that only move when slept; records the sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))

    def clock(self) -> float:
        return self.now


@dataclass
class StackFixture:
    """Handles on the moto resources and knobs the tests turn."""

    outputs: dict[str, Any]
    session: boto3.session.Session
    time: FakeTime
    task_zones: list[str]
    http_status: int | Exception = 200
    target_health: list[dict[str, Any]] | None = None
    http_calls: list[str] = field(default_factory=list)

    @property
    def rds(self) -> Any:
        return self.session.client("rds", region_name=REGION)

    def write_outputs(self, path: Path) -> Path:
        path.write_text(json.dumps(self.outputs))
        return path

    def clients(self, region: str | None) -> AwsClients:
        region = region or REGION
        session = self.session
        ecs = session.client("ecs", region_name=region)
        elbv2 = session.client("elbv2", region_name=region)
        fixture = self

        def list_tasks(**_kwargs: Any) -> dict[str, Any]:
            return {"taskArns": [f"arn:task/{n}" for n in range(len(fixture.task_zones))]}

        def describe_tasks(**kwargs: Any) -> dict[str, Any]:
            return {
                "tasks": [
                    {"taskArn": arn, "availabilityZone": zone, "lastStatus": "RUNNING"}
                    for arn, zone in zip(kwargs["tasks"], fixture.task_zones, strict=True)
                ]
            }

        def describe_target_health(**kwargs: Any) -> Any:
            if fixture.target_health is None:
                return elbv2.describe_target_health(**kwargs)
            return {"TargetHealthDescriptions": fixture.target_health}

        return AwsClients(
            region=region,
            ecs=Override(ecs, list_tasks=list_tasks, describe_tasks=describe_tasks),
            elbv2=Override(elbv2, describe_target_health=describe_target_health),
            rds=session.client("rds", region_name=region),
            cloudwatch=session.client("cloudwatch", region_name=region),
            sts=session.client("sts", region_name=region),
        )

    def http_get(self, url: str, _timeout: float) -> int:
        self.http_calls.append(url)
        if isinstance(self.http_status, Exception):
            raise self.http_status
        return self.http_status

    def deps(self, **overrides: Any) -> OpsDeps:
        values: dict[str, Any] = {
            "make_clients": self.clients,
            "load_outputs": lambda _stack, path: (
                json.loads(path.read_text()) if path else self.outputs
            ),
            "http_get": self.http_get,
            "sleep": self.time.sleep,
            "clock": self.time.clock,
            "now": lambda: datetime.now(UTC),
        }
        values.update(overrides)
        return OpsDeps(**values)

    def run(self, argv: list[str], **overrides: Any) -> int:
        parser = argparse.ArgumentParser(prog="platformkit")
        commands = parser.add_subparsers(dest="command", required=True)
        deps = self.deps(**overrides)
        add_verify(commands, deps)
        add_dr_drill(commands, deps)
        args = parser.parse_args(argv)
        result: int = args.handler(args)
        return result


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


_SESSIONS: list[boto3.session.Session] = []


def shared_session() -> boto3.session.Session:
    """One session for every test: it caches the parsed service models, which would otherwise
    be loaded again for each test and dominate its run time (moto mocks at the HTTP layer, so
    a shared session is still fully mocked)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session(region_name=REGION))
    return _SESSIONS[0]


def build_stack(
    monkeypatch: pytest.MonkeyPatch,
    *,
    running: int = 2,
    desired: int = 2,
    multi_az: bool = True,
    https: bool = True,
) -> StackFixture:
    """Create the prod stack's resources in moto (call inside ``mock_aws``)."""
    session = shared_session()
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {
        tier: [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{base + n}.0/24", AvailabilityZone=f"{REGION}{az}"
            )["Subnet"]["SubnetId"]
            for n, az in enumerate("ab")
        ]
        for tier, base in (("public", 0), ("private", 10), ("isolated", 20))
    }
    db_sg = ec2.create_security_group(GroupName="analytics-db", Description="db", VpcId=vpc)
    rds = session.client("rds")
    group = "analytics-db-subnets-1a2b3c"
    rds.create_db_subnet_group(
        DBSubnetGroupName=group, DBSubnetGroupDescription="isolated", SubnetIds=subnets["isolated"]
    )
    rds.create_db_instance(
        DBInstanceIdentifier=DB_ID,
        Engine="mysql",
        DBInstanceClass="db.r6g.large",
        MasterUsername="analytics",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        MultiAZ=multi_az,
        StorageEncrypted=True,
        DeletionProtection=True,
        BackupRetentionPeriod=30,
        DBSubnetGroupName=group,
        VpcSecurityGroupIds=[db_sg["GroupId"]],
        PubliclyAccessible=False,
    )

    elbv2 = session.client("elbv2")
    alb = elbv2.create_load_balancer(
        Name="analytics-alb-1234", Subnets=subnets["public"], Scheme="internet-facing"
    )["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name="analytics-tg-1234",
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/readyz",
    )["TargetGroups"][0]
    elbv2.register_targets(
        TargetGroupArn=tg["TargetGroupArn"],
        Targets=[{"Id": "10.0.10.5", "Port": 8080}, {"Id": "10.0.11.5", "Port": 8080}],
    )
    not_found = [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
        }
    ]
    if https:
        cert = session.client("acm").request_certificate(DomainName="analytics.example.com")
        elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"],
            Protocol="HTTPS",
            Port=443,
            Certificates=[{"CertificateArn": cert["CertificateArn"]}],
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
            DefaultActions=not_found,
        )
        elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[
                {
                    "Type": "redirect",
                    "RedirectConfig": {
                        "Protocol": "HTTPS",
                        "Port": "443",
                        "StatusCode": "HTTP_301",
                    },
                }
            ],
        )
    else:
        elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=not_found,
        )  # fmt: skip

    ecs = session.client("ecs")
    cluster = ecs.create_cluster(clusterName="analytics-ecs-5678")["cluster"]
    task = ecs.register_task_definition(
        family="ecommerce-analytics-prod-analytics",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        containerDefinitions=[{"name": "app", "image": "app:1", "essential": True}],
    )["taskDefinition"]
    service_sg = ec2.create_security_group(GroupName="analytics-sg", Description="t", VpcId=vpc)
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", str(running))
    service = ecs.create_service(
        cluster=cluster["clusterArn"],
        serviceName="analytics-service-9abc",
        taskDefinition=task["taskDefinitionArn"],
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets["private"],
                "securityGroups": [service_sg["GroupId"]],
                "assignPublicIp": "DISABLED",
            }
        },
        loadBalancers=[
            {"targetGroupArn": tg["TargetGroupArn"], "containerName": "app", "containerPort": 8080}
        ],
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )["service"]

    topic = session.client("sns").create_topic(Name="analytics-alarms-1234")["TopicArn"]
    cloudwatch = session.client("cloudwatch")
    for alarm in ("analytics-5xx-rate-1", "analytics-p99-latency-2"):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=3,
            Threshold=5,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[topic],
            OKActions=[topic],
        )
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="fine")

    outputs = {
        "url": URL if https else URL.replace("https", "http"),
        "databaseEndpoint": f"{DB_ID}.abc.{REGION}.rds.amazonaws.com:3306",
        "alarmTopicArn": topic,
        "operations": {
            "contractVersion": 1,
            "environment": STACK,
            "region": REGION,
            "url": URL if https else URL.replace("https", "http"),
            "clusterName": cluster["clusterName"],
            "serviceName": service["serviceName"],
            "loadBalancerArn": alb["LoadBalancerArn"],
            "targetGroupArn": tg["TargetGroupArn"],
            "https": https,
            "alarmTopicArn": topic,
            "minTaskAzs": 2,
            "database": {
                "identifier": DB_ID,
                "subnetGroupName": group,
                "securityGroupId": db_sg["GroupId"],
                "multiAz": True,
                "backupRetentionDays": 30,
                "deletionProtection": True,
                "storageEncrypted": True,
            },
            "rtoMinutes": 60,
            "rpoMinutes": 15,
        },
    }
    return StackFixture(
        outputs=outputs,
        session=session,
        time=FakeTime(),
        task_zones=[f"{REGION}a", f"{REGION}b"],
    )


@pytest.fixture
def stack(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackFixture]:
    with mock_aws():
        yield build_stack(monkeypatch)
