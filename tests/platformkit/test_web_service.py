"""Tests of ``platformkit.web_service.WebService`` under the mock runtime."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

import platformkit.web_service
from platformkit.cluster import Cluster, ClusterRef
from platformkit.database import Database, DatabaseRef
from platformkit.network_ref import NetworkRef
from platformkit.preview.recording import COMPUTED, Recording, ResourceRecord
from platformkit.validation import CLOUDWATCH_RETENTION_DAYS as LOG_RETENTION_DAYS
from platformkit.web_service import (
    DEFAULT_USER,
    FARGATE_MEMORY,
    WebService,
    WebServiceArgs,
)
from tests.platformkit.conftest import NETWORK, Run, accepts_tags, missing_standard_tags
from tests.platformkit.docstrings import fields_without_default, undocumented_fields

IMAGE = "public.ecr.aws/example/analytics@sha256:" + "a" * 64
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:analytics/api-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/analytics/flags"
DB_KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"

COMPONENT = "platformkit:index:WebService"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGE_BUILD = "awsx:ecr:Image"
KMS_KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"

# Every custom type the component may create, and the SDK class behind it (to know which
# take tags).
RESOURCE_CLASSES: dict[str, type[pulumi.CustomResource]] = {
    TASK_DEFINITION: aws.ecs.TaskDefinition,
    SERVICE: aws.ecs.Service,
    ROLE: aws.iam.Role,
    ROLE_POLICY: aws.iam.RolePolicy,
    SECURITY_GROUP: aws.ec2.SecurityGroup,
    INGRESS: aws.vpc.SecurityGroupIngressRule,
    EGRESS: aws.vpc.SecurityGroupEgressRule,
    TARGET_GROUP: aws.lb.TargetGroup,
    LISTENER_RULE: aws.lb.ListenerRule,
    LOG_GROUP: aws.cloudwatch.LogGroup,
    SCALING_TARGET: aws.appautoscaling.Target,
    SCALING_POLICY: aws.appautoscaling.Policy,
    ALARM: aws.cloudwatch.MetricAlarm,
    TOPIC: aws.sns.Topic,
    SUBSCRIPTION: aws.sns.TopicSubscription,
    DASHBOARD: aws.cloudwatch.Dashboard,
    REPOSITORY: aws.ecr.Repository,
    ECR_LIFECYCLE: aws.ecr.LifecyclePolicy,
    KMS_KEY: aws.kms.Key,
}


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A small Docker build context."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY app.py /app.py\n")
    (tmp_path / "app.py").write_text("print('hello')\n")
    return tmp_path


def deploy(
    run: Run,
    *,
    database: Mapping[str, Any] | None = None,
    mode: str = "up",
    **overrides: Any,
) -> Recording:
    """Build a cluster (and a database when ``database`` is given) and the service."""

    def program() -> None:
        cluster = Cluster("core", {"network": NETWORK, "waf": False, "access_logs": False})
        args: dict[str, Any] = {"cluster": cluster, "image": IMAGE}
        if database is not None:
            args["database"] = Database("db", {"network": NETWORK, **database})  # type: ignore[typeddict-item]
        args.update(overrides)
        if args["image"] is None:
            del args["image"]
        WebService("web", args)  # type: ignore[arg-type]

    return run(program, mode=mode)


def container(recording: Recording) -> dict[str, Any]:
    definitions = json.loads(recording.one(TASK_DEFINITION).inputs["containerDefinitions"])
    assert len(definitions) == 1
    result: dict[str, Any] = definitions[0]
    return result


def policy(recording: Recording, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(recording.named(name).inputs["policy"])
    return document


def statement(document: Mapping[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s.get("Sid") == sid)
    return found


def service_records(recording: Recording) -> list[ResourceRecord]:
    """Every resource under the WebService component, depth first."""
    root = recording.one(COMPONENT)
    found: list[ResourceRecord] = []
    pending = [root.urn]
    while pending:
        children = recording.children_of(pending.pop())
        found.extend(children)
        pending.extend(child.urn for child in children)
    return found


# --- the container --------------------------------------------------------------------


def test_container_is_locked_down(run: Run) -> None:
    recording = deploy(run)
    app = container(recording)

    assert app["image"] == IMAGE
    assert app["readonlyRootFilesystem"] is True
    assert app["privileged"] is False
    assert app["user"] == DEFAULT_USER
    assert app["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert app["portMappings"] == [{"name": "http", "containerPort": 8080, "protocol": "tcp"}]
    # The only writable path is a task-storage volume at /tmp.
    assert app["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    assert recording.one(TASK_DEFINITION).inputs["volumes"] == [{"name": "tmp"}]
    assert app["environment"] == []
    assert app["secrets"] == []


def test_container_logs_to_its_own_log_group_with_retention(run: Run) -> None:
    recording = deploy(run)
    logs = container(recording)["logConfiguration"]
    log_group = recording.one(LOG_GROUP)

    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == log_group.outputs["name"]
    assert logs["options"]["awslogs-region"] == "us-east-1"
    assert log_group.inputs["retentionInDays"] == 365
    assert log_group.inputs["kmsKeyId"] == recording.one(KMS_KEY).outputs["arn"]


def test_container_health_check_probes_the_health_path_without_curl(run: Run) -> None:
    recording = deploy(run, container_port=9000, health_check_path="/livez")
    check = container(recording)["healthCheck"]

    assert check["command"][:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:9000/livez" in check["command"][3]
    assert "curl" not in " ".join(check["command"])
    assert check["startPeriod"] == 60


def test_custom_health_check_user_and_architecture(run: Run) -> None:
    command = ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/healthz || exit 1"]
    recording = deploy(
        run, health_check_command=command, user="2000:2000", cpu_architecture="ARM64"
    )
    task = recording.one(TASK_DEFINITION).inputs

    assert container(recording)["healthCheck"]["command"] == command
    assert container(recording)["user"] == "2000:2000"
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}


def test_task_definition_is_fargate_sized(run: Run) -> None:
    recording = deploy(run, cpu=1024, memory=3072)
    task = recording.one(TASK_DEFINITION).inputs

    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("1024", "3072")
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"


def test_plain_environment_and_secrets(run: Run) -> None:
    recording = deploy(
        run,
        environment_variables={"LOG_LEVEL": "info", "FEATURE_X": "on"},
        secrets={"API_TOKEN": SECRET_ARN + ":token::", "FLAGS": PARAMETER_ARN},
        secrets_kms_key_arns=[DB_KMS_KEY],
    )
    app = container(recording)

    assert app["environment"] == [
        {"name": "FEATURE_X", "value": "on"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]
    assert app["secrets"] == [
        {"name": "API_TOKEN", "valueFrom": SECRET_ARN + ":token::"},
        {"name": "FLAGS", "valueFrom": PARAMETER_ARN},
    ]
    execution = policy(recording, "web-execution-policy")
    # The JSON-key suffix is not part of the IAM resource.
    assert statement(execution, "ReadSecrets")["Resource"] == [SECRET_ARN]
    assert statement(execution, "ReadParameters") == {
        "Sid": "ReadParameters",
        "Effect": "Allow",
        "Action": "ssm:GetParameters",
        "Resource": [PARAMETER_ARN],
    }
    assert statement(execution, "DecryptSecrets")["Resource"] == [DB_KMS_KEY]


# --- the database wiring --------------------------------------------------------------


def test_database_credentials_come_from_the_managed_secret(run: Run) -> None:
    recording = deploy(run, database={"engine": "postgres"})
    app = container(recording)
    instance = recording.one(RDS)
    secret_arn = instance.outputs["masterUserSecrets"][0]["secretArn"]

    assert app["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"},
        {"name": "DB_USERNAME", "valueFrom": f"{secret_arn}:username::"},
    ]
    env = {item["name"]: item["value"] for item in app["environment"]}
    assert env == {
        "DB_ENGINE": "postgres",
        "DB_HOST": instance.outputs["address"],
        "DB_NAME": env["DB_NAME"],
        "DB_PORT": "5432",
        # Where the rotating credentials live, so the app can re-read them: an ARN, no secret.
        "DB_SECRET_ARN": secret_arn,
    }
    assert env["DB_NAME"]
    # Nothing secret travels as a plain variable.
    for name in set(env) - {"DB_SECRET_ARN"}:
        assert not any(word in name for word in ("PASSWORD", "SECRET", "TOKEN", "USER"))
    # The application (task role) may read that one secret, and nothing else.
    assert statement(policy(recording, "web-task-policy"), "ReadDatabaseSecret") == {
        "Sid": "ReadDatabaseSecret",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": secret_arn,
    }

    execution = policy(recording, "web-execution-policy")
    assert statement(execution, "ReadSecrets")["Resource"] == [secret_arn]
    assert not any(s.get("Sid") == "DecryptSecrets" for s in execution["Statement"])


def test_database_cmk_lets_the_execution_role_decrypt(run: Run) -> None:
    recording = deploy(run, database={"kms_key_arn": DB_KMS_KEY})
    execution = policy(recording, "web-execution-policy")

    assert statement(execution, "DecryptSecrets") == {
        "Sid": "DecryptSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [DB_KMS_KEY],
    }


def test_database_admits_the_service_on_its_port(run: Run) -> None:
    recording = deploy(run, database={})
    service_sg = recording.named("web-sg").outputs["id"]
    db_sg = recording.named("db-sg").outputs["id"]
    port = recording.one(RDS).inputs["port"]

    ingress = recording.named("db-from-web").inputs
    assert ingress["securityGroupId"] == db_sg
    assert ingress["referencedSecurityGroupId"] == service_sg
    assert (ingress["fromPort"], ingress["toPort"], ingress["ipProtocol"]) == (port, port, "tcp")
    egress = recording.named("web-to-db").inputs
    assert egress["securityGroupId"] == service_sg
    assert egress["referencedSecurityGroupId"] == db_sg
    assert (egress["fromPort"], egress["toPort"]) == (port, port)


def test_dashboard_shows_database_only_when_wired(run: Run) -> None:
    without = json.loads(deploy(run).one(DASHBOARD).inputs["dashboardBody"])
    recording = deploy(run, database={})
    body = json.loads(recording.one(DASHBOARD).inputs["dashboardBody"])
    identifier = recording.one(RDS).outputs["identifier"]

    assert "AWS/RDS" not in json.dumps(without)
    rds = [w for w in body["widgets"] if "AWS/RDS" in json.dumps(w)]
    assert len(rds) == 1
    metrics = rds[0]["properties"]["metrics"]
    assert {m[1] for m in metrics} == {"CPUUtilization", "DatabaseConnections"}
    assert all(m[3] == identifier for m in metrics)


# --- services on refs (another stack's cluster and database, or another language's) ---------

CLUSTER_REF = ClusterRef(
    network=NETWORK,
    cluster_name="shared",
    cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/shared",
    listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/1/2",
    alb_security_group_id="sg-0alb",
    load_balancer_arn_suffix="app/shared/1",
    url="https://shared.example.com",
    https=True,
)
DATABASE_REF = DatabaseRef(
    address="ledger.abc.us-east-1.rds.amazonaws.com",
    port=5432,
    engine="postgres",
    database_name="ledger",
    identifier="ledger-prod",
    security_group_id="sg-0db",
    master_secret_arn=SECRET_ARN,
)


def test_a_service_on_refs_wires_the_same_way_and_opens_the_database_itself(run: Run) -> None:
    urls: list[str] = []

    def program() -> None:
        service = WebService(
            "web",
            {
                "cluster": CLUSTER_REF,
                "database": DATABASE_REF,
                "image": IMAGE,
                "host_headers": ["api.example.com"],
            },
        )
        service.url.apply(urls.append)

    recording = run(program)
    assert urls == ["https://api.example.com"]
    service = recording.one(SERVICE).inputs
    assert service["cluster"] == CLUSTER_REF.cluster_arn
    assert service["networkConfiguration"]["subnets"] == ["subnet-priv-a", "subnet-priv-b"]
    assert service["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert "launchType" not in service
    env = {item["name"]: item["value"] for item in container(recording)["environment"]}
    assert (env["DB_HOST"], env["DB_PORT"], env["DB_ENGINE"]) == (
        DATABASE_REF.address,
        "5432",
        "postgres",
    )
    # No Database component to own the rule: the service adds it to the database's group,
    # as its own child.
    ingress = recording.named("web-db-ingress")
    assert ingress.parent == recording.one(COMPONENT).urn
    assert ingress.inputs["securityGroupId"] == "sg-0db"
    assert ingress.inputs["referencedSecurityGroupId"] == recording.named("web-sg").outputs["id"]
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (5432, 5432)
    assert recording.named("web-to-db").inputs["description"] == (
        "Web service to its postgres database"
    )


def test_a_service_on_refs_whose_fields_are_outputs(run: Run) -> None:
    """A ref from another Pulumi language arrives as outputs, lists and flags included."""

    def program() -> None:
        network = NetworkRef(
            vpc_id=pulumi.Output.from_input("vpc-1"),
            vpc_cidr_block="10.20.0.0/16",
            public_subnet_ids=pulumi.Output.from_input(["subnet-pub-a", "subnet-pub-b"]),
            private_subnet_ids=pulumi.Output.from_input(["subnet-priv-a", "subnet-priv-b"]),
            isolated_subnet_ids=pulumi.Output.from_input(["subnet-iso-a", "subnet-iso-b"]),
        )
        cluster = dataclasses.replace(
            CLUSTER_REF,
            network=network,
            https=pulumi.Output.from_input(False),
            capacity_provider_strategy=pulumi.Output.from_input(
                [{"capacity_provider": "FARGATE_SPOT", "weight": 1}]
            ),
        )
        database = dataclasses.replace(
            DATABASE_REF,
            port=pulumi.Output.from_input(3306),
            kms_key_arn=pulumi.Output.from_input(None),  # an optional output left unset
        )
        service = WebService(
            "web",
            {
                "cluster": cluster,
                "database": database,
                "image": IMAGE,
                "host_headers": ["api.example.com"],
            },
        )
        service.url.apply(urls.append)

    urls: list[str] = []
    recording = run(program)
    assert urls == ["http://api.example.com"]
    service = recording.one(SERVICE).inputs
    assert service["networkConfiguration"]["subnets"] == ["subnet-priv-a", "subnet-priv-b"]
    assert service["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]
    env = {item["name"]: item["value"] for item in container(recording)["environment"]}
    assert env["DB_PORT"] == "3306"
    # A key that resolved to None grants nothing (no statement with a null resource).
    task = policy(recording, "web-task-policy")
    assert [s["Sid"] for s in task["Statement"]] == ["ReadDatabaseSecret"]
    execution = policy(recording, "web-execution-policy")
    assert not any(s.get("Sid") == "DecryptSecrets" for s in execution["Statement"])
    ingress = recording.named("web-db-ingress").inputs
    assert ingress["description"] == "postgres clients on port 3306"


# --- IAM ------------------------------------------------------------------------------


def test_roles_are_distinct_and_trust_only_ecs_tasks_of_this_account(run: Run) -> None:
    recording = deploy(run)
    task = recording.one(TASK_DEFINITION).inputs
    roles = {r.name: r for r in recording.of_type(ROLE)}

    assert set(roles) == {"web-execution-role", "web-task-role"}
    assert task["executionRoleArn"] == roles["web-execution-role"].outputs["arn"]
    assert task["taskRoleArn"] == roles["web-task-role"].outputs["arn"]
    assert task["executionRoleArn"] != task["taskRoleArn"]
    for role in roles.values():
        trust = json.loads(role.inputs["assumeRolePolicy"])
        [grant] = trust["Statement"]
        assert grant["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert grant["Action"] == "sts:AssumeRole"
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
        assert "managedPolicyArns" not in role.inputs


def test_execution_policy_is_least_privilege(run: Run, context: Path) -> None:
    recording = deploy(run, image=None, build={"context": str(context)})
    document = policy(recording, "web-execution-policy")
    repository = recording.one(REPOSITORY).outputs["arn"]
    log_group = recording.one(LOG_GROUP).outputs["arn"]

    for grant in document["Statement"]:
        actions = [grant["Action"]] if isinstance(grant["Action"], str) else grant["Action"]
        assert all(a != "*" and not a.endswith(":*") for a in actions), grant
        if grant["Resource"] == "*":
            # The one AWS-imposed exception: no resource-level permission exists for it.
            assert actions == ["ecr:GetAuthorizationToken"]
    assert statement(document, "PullImage")["Resource"] == repository
    assert statement(document, "WriteLogs")["Resource"] == f"{log_group}:log-stream:*"
    assert not any(s.get("Sid") == "ReadSecrets" for s in document["Statement"])


def test_task_role_has_no_permissions_by_default(run: Run) -> None:
    recording = deploy(run)
    assert [p.name for p in recording.of_type(ROLE_POLICY)] == ["web-execution-policy"]


def test_task_role_statements_and_image_repository(run: Run) -> None:
    grant = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}
    repo = "arn:aws:ecr:us-east-1:123456789012:repository/shared"
    recording = deploy(run, task_role_statements=[grant], image_repository_arn=repo)

    task_policy = policy(recording, "web-task-policy")
    assert task_policy["Statement"] == [grant]
    assert (
        recording.named("web-task-policy").inputs["role"]
        == (recording.named("web-task-role").outputs["id"])
    )
    assert statement(policy(recording, "web-execution-policy"), "PullImage")["Resource"] == repo


# --- networking and routing -----------------------------------------------------------


def test_service_runs_privately_behind_the_load_balancer(run: Run) -> None:
    recording = deploy(run)
    service = recording.one(SERVICE).inputs
    group = recording.named("web-sg")
    target_group = recording.one(TARGET_GROUP)

    assert service["networkConfiguration"] == {
        "subnets": ["subnet-priv-a", "subnet-priv-b"],
        "securityGroups": [group.outputs["id"]],
        "assignPublicIp": False,
    }
    assert service["loadBalancers"] == [
        {
            "targetGroupArn": target_group.outputs["arn"],
            "containerName": "app",
            "containerPort": 8080,
        }
    ]
    assert service["platformVersion"] == "LATEST"
    assert service["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert "launchType" not in service
    assert service["enableExecuteCommand"] is False


def test_service_security_group_admits_only_the_load_balancer(run: Run) -> None:
    recording = deploy(run, container_port=9000)
    group_id = recording.named("web-sg").outputs["id"]
    alb_group = recording.named("core-alb-sg").outputs["id"]
    rules = [r for r in service_records(recording) if r.type in (INGRESS, EGRESS)]

    ingress = [r.inputs for r in rules if r.type == INGRESS]
    assert ingress == [
        {
            "securityGroupId": group_id,
            "referencedSecurityGroupId": alb_group,
            "ipProtocol": "tcp",
            "fromPort": 9000,
            "toPort": 9000,
            "description": ingress[0]["description"],
            "tags": ingress[0]["tags"],
        }
    ]
    [egress] = [r.inputs for r in rules if r.type == EGRESS]
    assert (egress["cidrIpv4"], egress["fromPort"], egress["toPort"]) == ("0.0.0.0/0", 443, 443)
    assert all(r.inputs.get("description") for r in rules)
    assert "ingress" not in recording.named("web-sg").inputs


def test_target_group_and_listener_rule(run: Run) -> None:
    recording = deploy(run, health_check_path="/readyz", deregistration_delay=10)
    target_group = recording.one(TARGET_GROUP)
    rule = recording.one(LISTENER_RULE).inputs

    assert target_group.inputs["targetType"] == "ip"
    assert target_group.inputs["port"] == 8080
    assert target_group.inputs["vpcId"] == NETWORK.vpc_id
    assert target_group.inputs["deregistrationDelay"] == 10
    assert target_group.inputs["healthCheck"]["path"] == "/readyz"
    assert target_group.inputs["healthCheck"]["enabled"] is True
    assert rule["listenerArn"] in {
        r.outputs["arn"] for r in recording.of_type("aws:lb/listener:Listener")
    }
    assert rule["priority"] == 100
    assert rule["actions"] == [{"type": "forward", "targetGroupArn": target_group.outputs["arn"]}]
    assert rule["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    # ECS needs the target group attached to a listener before the service.
    assert recording.one(LISTENER_RULE).urn in recording.one(SERVICE).dependencies


def test_listener_rule_host_and_path_conditions(run: Run) -> None:
    recording = deploy(
        run,
        path_patterns=["/api/*"],
        host_headers=["analytics.example.com"],
        listener_rule_priority=7,
    )
    rule = recording.one(LISTENER_RULE).inputs

    assert rule["priority"] == 7
    assert rule["conditions"] == [
        {"pathPattern": {"values": ["/api/*"]}},
        {"hostHeader": {"values": ["analytics.example.com"]}},
    ]


def test_deployments_roll_back_and_autoscaling_owns_the_count(run: Run) -> None:
    service = deploy(run, desired_count=3, min_count=2, max_count=6).one(SERVICE)

    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["desiredCount"] == 3
    assert service.options["ignoreChanges"] == ["desiredCount"]
    assert service.inputs["healthCheckGracePeriodSeconds"] == 60
    assert service.inputs["waitForSteadyState"] is True


def test_long_grace_period_caps_the_container_start_period(run: Run) -> None:
    recording = deploy(run, health_check_grace_period_seconds=600)

    assert recording.one(SERVICE).inputs["healthCheckGracePeriodSeconds"] == 600
    assert container(recording)["healthCheck"]["startPeriod"] == 300


# --- autoscaling, alarms, dashboard ---------------------------------------------------


def test_autoscaling_tracks_cpu_and_requests(run: Run) -> None:
    recording = deploy(run, min_count=1, max_count=4, cpu_target=70, requests_per_target=500)
    target = recording.one(SCALING_TARGET).inputs
    cluster_name = recording.one("aws:ecs/cluster:Cluster").outputs["name"]
    service_name = recording.one(SERVICE).outputs["name"]

    assert (target["minCapacity"], target["maxCapacity"]) == (1, 4)
    assert target["resourceId"] == f"service/{cluster_name}/{service_name}"
    assert target["scalableDimension"] == "ecs:service:DesiredCount"
    policies = {p.name: p.inputs for p in recording.of_type(SCALING_POLICY)}
    cpu = policies["web-scale-cpu"]["targetTrackingScalingPolicyConfiguration"]
    assert cpu["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert cpu["targetValue"] == 70
    requests = policies["web-scale-requests"]["targetTrackingScalingPolicyConfiguration"]
    spec = requests["predefinedMetricSpecification"]
    lb_suffix = recording.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg_suffix = recording.one(TARGET_GROUP).outputs["arnSuffix"]
    assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
    assert spec["resourceLabel"] == f"{lb_suffix}/{tg_suffix}"
    assert requests["targetValue"] == 500
    for item in policies.values():
        assert item["policyType"] == "TargetTrackingScaling"
        assert item["resourceId"] == target["resourceId"]


def test_alarms_notify_an_encrypted_topic_without_email_by_default(run: Run) -> None:
    recording = deploy(run)
    topic = recording.one(TOPIC)
    key = recording.one(KMS_KEY)
    alarms = {a.name: a.inputs for a in recording.of_type(ALARM)}

    assert set(alarms) == {"web-5xx-rate", "web-p99-latency", "web-unhealthy-hosts", "web-cpu-high"}
    assert all(a["alarmActions"] == [topic.outputs["arn"]] for a in alarms.values())
    assert recording.of_type(SUBSCRIPTION) == []
    # A customer managed key CloudWatch may use: alarms cannot publish with alias/aws/sns.
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    key_policy = json.loads(key.inputs["policy"])
    cloudwatch = statement(key_policy, "CloudWatchAlarmsPublish")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "*" not in json.dumps([s["Principal"] for s in key_policy["Statement"]])

    rate = alarms["web-5xx-rate"]
    expression = next(q for q in rate["metricQueries"] if q.get("returnData"))
    assert "errors" in expression["expression"] and "requests" in expression["expression"]
    assert rate["threshold"] == 5
    assert alarms["web-p99-latency"]["extendedStatistic"] == "p99"
    assert alarms["web-unhealthy-hosts"]["metricName"] == "UnHealthyHostCount"
    assert alarms["web-cpu-high"]["threshold"] == 85


def test_alarm_email_and_thresholds(run: Run) -> None:
    recording = deploy(
        run,
        alarm_email="oncall@example.com",
        alarm_5xx_percent=1,
        alarm_p99_latency_seconds=0.5,
        alarm_cpu_percent=90,
    )
    subscription = recording.one(SUBSCRIPTION).inputs
    alarms = {a.name: a.inputs for a in recording.of_type(ALARM)}

    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "oncall@example.com"
    assert subscription["topic"] == recording.one(TOPIC).outputs["arn"]
    assert alarms["web-5xx-rate"]["threshold"] == 1
    assert alarms["web-p99-latency"]["threshold"] == 0.5
    assert alarms["web-cpu-high"]["threshold"] == 90


def test_dashboard_references_the_load_balancer_and_target_group(run: Run) -> None:
    recording = deploy(run)
    dashboard = recording.one(DASHBOARD).inputs
    body = json.loads(dashboard["dashboardBody"])
    text = json.dumps(body)

    assert dashboard["dashboardName"] == "test-dev-web"
    assert recording.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"] in text
    assert recording.one(TARGET_GROUP).outputs["arnSuffix"] in text
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles == [
        "Requests",
        "Response time (p50 / p99)",
        "5xx responses",
        "CPU and memory (%)",
    ]
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {"RequestCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count"} <= metrics
    assert {"CPUUtilization", "MemoryUtilization"} <= metrics


# --- the image ------------------------------------------------------------------------


def test_building_creates_a_hardened_repository(run: Run, context: Path) -> None:
    recording = deploy(run, image=None, build={"context": str(context)})
    repository = recording.one(REPOSITORY)
    image = recording.one(IMAGE_BUILD)

    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    lifecycle = recording.one(ECR_LIFECYCLE).inputs
    assert lifecycle["repository"] == repository.outputs["name"]
    rules = json.loads(lifecycle["policy"])["rules"]
    assert rules[0]["selection"]["tagStatus"] == "untagged"
    assert rules[0]["action"] == {"type": "expire"}

    assert image.inputs["repositoryUrl"] == repository.outputs["repositoryUrl"]
    assert image.inputs["context"] == str(context)
    assert image.inputs["platform"] == "linux/amd64"
    assert image.inputs["imageTag"].startswith("sha-")
    # The task runs the digest awsx pushed.
    assert container(recording)["image"] == image.outputs["imageUri"]
    assert "@sha256:" in container(recording)["image"]


def test_image_tag_follows_the_context_content(run: Run, context: Path) -> None:
    def tag() -> str:
        recording = deploy(run, image=None, build={"context": str(context)})
        value: str = recording.one(IMAGE_BUILD).inputs["imageTag"]
        return value

    first = tag()
    assert tag() == first
    (context / ".dockerignore").write_text("*.md\n")
    (context / "NOTES.md").write_text("ignored by docker\n")
    assert tag() != first  # .dockerignore itself is part of the context
    ignored_only = tag()
    (context / "NOTES.md").write_text("still ignored\n")
    assert tag() == ignored_only
    (context / "app.py").write_text("print('changed')\n")
    assert tag() != ignored_only


def test_build_for_arm64_with_a_custom_dockerfile(run: Run, context: Path) -> None:
    (context / "Dockerfile.prod").write_text("FROM python:3.11-slim\n")
    recording = deploy(
        run,
        image=None,
        cpu_architecture="ARM64",
        build={"context": str(context), "dockerfile": "Dockerfile.prod"},
    )
    image = recording.one(IMAGE_BUILD).inputs

    assert image["platform"] == "linux/arm64"
    assert image["dockerfile"] == "Dockerfile.prod"


def test_private_ecr_image_uri_grants_pull_on_its_repository(run: Run) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.2"
    recording = deploy(run, image=image)
    pull = statement(policy(recording, "web-execution-policy"), "PullImage")
    assert pull["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/team/api"


def test_repository_keeps_its_images_unless_told_otherwise(run: Run, context: Path) -> None:
    kept = deploy(run, image=None, build={"context": str(context)}).one(REPOSITORY)
    assert kept.inputs["forceDelete"] is False
    disposable = deploy(
        run, image=None, build={"context": str(context)}, repository_force_delete=True
    ).one(REPOSITORY)
    assert disposable.inputs["forceDelete"] is True


def test_repository_force_delete_needs_a_build(run: Run) -> None:
    with pytest.raises(ValueError, match="repository_force_delete=True is invalid; expected only"):
        deploy(run, repository_force_delete=True)


def test_changing_capacity_strategy_rolls_tasks_instead_of_replacing(run: Run) -> None:
    assert deploy(run).one(SERVICE).inputs["forceNewDeployment"] is True


def test_given_image_creates_no_repository(run: Run) -> None:
    recording = deploy(run)
    assert recording.of_type(REPOSITORY) == []
    assert recording.of_type(IMAGE_BUILD) == []
    execution = policy(recording, "web-execution-policy")
    assert [s["Sid"] for s in execution["Statement"]] == ["WriteLogs"]


# --- tags, parents, outputs, preview --------------------------------------------------


def test_every_resource_is_tagged_and_parented(run: Run, context: Path) -> None:
    recording = deploy(
        run,
        image=None,
        build={"context": str(context)},
        database={},
        alarm_email="oncall@example.com",
        task_role_statements=[{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        tags={"cost-center": "analytics"},
        owner="data-team",
    )
    component = recording.one(COMPONENT)
    records = service_records(recording)
    custom = [r for r in records if r.custom]

    assert {r.type for r in custom} == set(RESOURCE_CLASSES)
    # Everything named after the service lives under it, except the database's own rule.
    named = [r for r in recording if r.name.startswith("web-")]
    assert {r.urn for r in named} <= {r.urn for r in records}
    assert all(r.parent == component.urn for r in records if r.type != "docker-build:index:Image")
    assert missing_standard_tags(custom) == []
    for record in custom:
        if accepts_tags(record.type):
            tags = record.inputs["tags"]
            assert tags["owner"] == "data-team"
            assert tags["cost-center"] == "analytics"
            assert tags["environment"] == "dev"


def test_public_attributes(run: Run, context: Path) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        cluster = Cluster("core", {"network": NETWORK, "waf": False, "access_logs": False})
        built = WebService("web", {"cluster": cluster, "build": {"context": str(context)}})
        given = WebService(
            "api",
            {"cluster": cluster, "image": IMAGE, "host_headers": ["api.example.com"],
             "listener_rule_priority": 200},
        )  # fmt: skip
        seen["built_repository"] = built.repository_url
        seen["given_repository"] = given.repository_url
        pulumi.Output.all(
            built.url,
            given.url,
            built.service_name,
            built.image_uri,
            built.dashboard_name,
            built.alarm_topic_arn,
            built.log_group_name,
            built.security_group_id,
            built.task_role_arn,
            built.execution_role_arn,
            built.target_group_arn,
            built.repository_url,
            built.task_definition_arn,
        ).apply(lambda values: seen.__setitem__("values", values))
        assert isinstance(built.service, aws.ecs.Service)

    recording = run(program)
    values = seen["values"]
    assert seen["given_repository"] is None
    assert values[0].startswith("http://") and values[0] == values[0].strip()
    assert values[1] == "http://api.example.com"
    assert all(isinstance(v, str) and v for v in values)
    assert values[11] == recording.named("web-repo").outputs["repositoryUrl"]


def test_task_definition_arn_is_the_revision_the_service_runs(run: Run) -> None:
    """What a ``ScheduledTask`` runs: the task definition's ARN, as the ECS service reads it
    back, reaching a consumer only through the service, so never before it has deployed that
    revision."""
    seen: dict[str, Any] = {}

    def program() -> None:
        cluster = Cluster("core", {"network": NETWORK, "waf": False, "access_logs": False})
        service = WebService("web", {"cluster": cluster, "image": IMAGE})
        service.task_definition_arn.apply(lambda arn: seen.__setitem__("arn", arn))
        # A consumer, as the stack's schedule is: its input's dependencies are what the engine
        # waits for before creating or updating it.
        aws.ssm.Parameter("consumer", type="String", value=service.task_definition_arn)

    recording = run(program)
    task = recording.one(TASK_DEFINITION)
    service = recording.one(SERVICE)
    assert seen["arn"] == task.outputs["arn"]
    assert seen["arn"].startswith("arn:aws:ecs:us-east-1:") and ":task-definition/" in seen["arn"]
    assert service.inputs["taskDefinition"] == seen["arn"]
    consumer = recording.named("consumer")
    assert consumer.inputs["value"] == seen["arn"]
    assert service.urn in consumer.property_dependencies["value"]


def test_a_rolled_back_deployment_fails_the_update(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment the circuit breaker rolled back still ends ``wait_for_steady_state`` well
    (the service is steady on the previous revision), and the provider reads the service's
    ``taskDefinition`` back as that previous revision: the update fails naming both, rather
    than passing with the new revision never running."""
    from platformkit.preview import aws_models

    previous = "arn:aws:ecs:us-east-1:123456789012:task-definition/web-previous:7"
    steady = aws_models.BUILDERS[SERVICE]

    def rolled_back(*args: Any) -> dict[str, Any]:
        return {**steady(*args), "taskDefinition": previous}

    monkeypatch.setitem(aws_models.BUILDERS, SERVICE, rolled_back)

    def program() -> None:
        cluster = Cluster("core", {"network": NETWORK, "waf": False, "access_logs": False})
        WebService("web", {"cluster": cluster, "image": IMAGE})

    with pytest.raises(pulumi.RunError, match="ECS rolled back the deployment of service") as err:
        run(program)
    assert f"it runs {previous}, not arn:aws:ecs:" in str(err.value)


def test_preview_mode_leaves_unknowns_unknown(run: Run) -> None:
    recording = deploy(run, database={}, mode="preview")
    task = recording.one(TASK_DEFINITION).inputs

    assert task["containerDefinitions"] is COMPUTED
    assert recording.one(SERVICE).inputs["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }


def test_args_fields_are_documented_with_defaults() -> None:
    assert undocumented_fields(platformkit.web_service, "WebServiceArgs") == []
    assert undocumented_fields(platformkit.web_service, "DockerBuild") == []
    assert fields_without_default(platformkit.web_service, "WebServiceArgs") == ["cluster"]
    assert fields_without_default(platformkit.web_service, "DockerBuild") == ["context"]


# --- validation -----------------------------------------------------------------------


def _fargate_pairs() -> list[tuple[int, int]]:
    return [(cpu, memory) for cpu, memories in FARGATE_MEMORY.items() for memory in memories]


def test_fargate_table_matches_aws() -> None:
    pairs = _fargate_pairs()
    assert (256, 512) in pairs and (256, 2048) in pairs and (256, 1536) not in pairs
    assert (512, 4096) in pairs and (512, 5120) not in pairs
    assert (4096, 30720) in pairs and (4096, 31744) not in pairs
    assert (8192, 61440) in pairs and (8192, 17408) not in pairs
    assert (16384, 122880) in pairs and (16384, 36864) not in pairs
    assert 3653 in LOG_RETENTION_DAYS and 10 not in LOG_RETENTION_DAYS


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"cpu": 300}, "cpu=300"),
    ({"cpu": 256, "memory": 4096}, "memory=4096"),
    ({"cpu": 8192, "memory": 18432}, "memory=18432"),
    ({"cpu_architecture": "ARM"}, "cpu_architecture='ARM'"),
    ({"min_count": 5, "max_count": 3, "desired_count": 4}, "min_count=5"),
    ({"desired_count": 20}, "desired_count=20"),
    ({"desired_count": 1}, "desired_count=1"),
    ({"max_count": 0}, "max_count=0"),
    ({"container_port": 0}, "container_port=0"),
    ({"container_port": 70000}, "container_port=70000"),
    ({"health_check_path": "healthz"}, "health_check_path='healthz'"),
    ({"health_check_command": ["python", "-c", "x"]}, "health_check_command="),
    ({"health_check_grace_period_seconds": -1}, "health_check_grace_period_seconds=-1"),
    ({"health_check_grace_period_seconds": 3601}, "health_check_grace_period_seconds=3601"),
    ({"deregistration_delay": 4000}, "deregistration_delay=4000"),
    ({"image": None}, "image/build='neither'"),
    ({"build": {"context": "."}}, "image/build='both'"),
    ({"log_retention_days": 10}, "log_retention_days=10"),
    ({"log_retention_days": 0}, "log_retention_days=0"),
    ({"log_retention_days": True}, "log_retention_days=True"),
    ({"cpu_archtecture": "ARM64"}, "args=['cpu_archtecture'] is invalid; expected only cluster,"),
    ({"listener_rule_priority": 0}, "listener_rule_priority=0"),
    ({"listener_rule_priority": 50001}, "listener_rule_priority=50001"),
    ({"path_patterns": []}, "path_patterns/host_headers=[]"),
    ({"path_patterns": ["api/*"]}, "path_patterns='api/*'"),
    ({"path_patterns": ["/a", "/b", "/c"], "host_headers": ["a", "b", "c"]}, "path_patterns/"),
    ({"user": "root"}, "user='root'"),
    ({"user": "0:0"}, "user='0:0'"),
    ({"cpu_target": 0}, "cpu_target=0"),
    ({"cpu_target": 150}, "cpu_target=150"),
    ({"requests_per_target": 0}, "requests_per_target=0"),
    ({"alarm_5xx_percent": 0}, "alarm_5xx_percent=0"),
    ({"alarm_cpu_percent": 101}, "alarm_cpu_percent=101"),
    ({"alarm_p99_latency_seconds": 0}, "alarm_p99_latency_seconds=0.0"),
    ({"alarm_email": "not-an-address"}, "alarm_email='not-an-address'"),
    ({"environment_variables": {"DB_PASSWORD": "x"}}, "environment_variables='DB_PASSWORD'"),
    ({"environment_variables": {"API_KEY": "x"}}, "environment_variables='API_KEY'"),
    ({"environment_variables": {"GITHUB_TOKEN": "x"}}, "environment_variables='GITHUB_TOKEN'"),
    ({"environment_variables": {"client_secret": "x"}}, "environment_variables='client_secret'"),
    ({"environment_variables": {"1BAD": "x"}}, "environment_variables='1BAD'"),
    (
        {"environment_variables": {"FLAGS": "x"}, "secrets": {"FLAGS": PARAMETER_ARN}},
        "environment_variables='FLAGS'",
    ),
    ({"secrets": {"API_TOKEN": "plaintext"}}, "secrets['API_TOKEN']='plaintext'"),
    ({"secrets": {"A": "arn:aws:s3:::bucket/key"}}, "secrets['A']="),
    ({"task_role_statements": [{"Effect": "Allow", "Action": "*"}]}, "task_role_statements='*'"),
    (
        {"task_role_statements": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]},
        "task_role_statements='s3:*'",
    ),
    (
        {"task_role_statements": [{"Effect": "Allow", "NotAction": "s3:Get"}]},
        "task_role_statements=",
    ),
    (
        {
            "image_repository_arn": "arn:aws:ecr:us-east-1:1:repository/x",
            "image": None,
            "build": {"context": "."},
        },
        "image_repository_arn=",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("overrides", "message"), INVALID)
def test_invalid_arguments_name_field_and_value(
    run: Run, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"WebService 'web': {message}")) as error:
        _build_invalid(run, overrides)
    assert "expected" in str(error.value)


def _build_invalid(run: Run, overrides: dict[str, Any]) -> None:
    def program() -> None:
        cluster = Cluster("core", {"network": NETWORK, "waf": False, "access_logs": False})
        args: dict[str, Any] = {"cluster": cluster, "image": IMAGE, **overrides}
        if "image" in overrides and overrides["image"] is None:
            del args["image"]
        WebService("web", args)  # type: ignore[arg-type]

    run(program)


def test_reserved_database_names_are_rejected(run: Run) -> None:
    with pytest.raises(ValueError, match="environment_variables='DB_HOST'"):
        deploy(run, database={}, environment_variables={"DB_HOST": "elsewhere"})
    with pytest.raises(ValueError, match="secrets='DB_USERNAME'"):
        deploy(run, database={}, secrets={"DB_USERNAME": SECRET_ARN})


def test_build_validation(run: Run, context: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="build.context='/no/such/dir'"):
        deploy(run, image=None, build={"context": "/no/such/dir"})
    with pytest.raises(ValueError, match="build.dockerfile='Missing.Dockerfile'"):
        deploy(run, image=None, build={"context": str(context), "dockerfile": "Missing.Dockerfile"})
    with pytest.raises(ValueError, match="build.platform='linux/arm64'"):
        deploy(run, image=None, build={"context": str(context), "platform": "linux/arm64"})
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="build.dockerfile='Dockerfile'"):
        deploy(run, image=None, build={"context": str(empty)})


def test_args_type_accepts_the_documented_shape() -> None:
    # A static check as much as a runtime one: mypy verifies this literal against the Args.
    def shape(cluster: Cluster, database: Database) -> WebServiceArgs:
        return {
            "cluster": cluster,
            "build": {"context": "service", "dockerfile": "service/Dockerfile"},
            "database": database,
            "cpu": 512,
            "memory": 1024,
            "environment_variables": {"LOG_LEVEL": "info"},
            "secrets": {"API_TOKEN": SECRET_ARN},
            "alarm_email": "oncall@example.com",
            "log_retention_days": 30,
        }

    assert callable(shape)
