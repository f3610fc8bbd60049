"""The component package over the provider gRPC protocol, without the Pulumi CLI.

The provider runs as its own process, started as the CLI's Python language host starts a
plugin; requests are what the engine sends for a TypeScript or YAML program's components
(inputs in the wire format, other components' outputs as ``OutputValue``s). The fake engine
(``fake_engine``) records what the provider registers. What this cannot show is the CLI's
own part: SDK generation (``pulumi package add``), diffs, state, real AWS.
"""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import errors_pb2, provider_pb2, status_pb2

from platformkit.preview import wire
from tests.provider.conftest import PLUGIN, Provider, output_value, state
from tests.provider.fake_engine import STACK_URN, FakeEngine

SUBNET = "aws:ec2/subnet:Subnet"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
RDS = "aws:rds/instance:Instance"
SCHEDULE = "aws:scheduler/schedule:Schedule"

NETWORK_REF = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "vpcCidrBlock": "10.40.0.0/16",
    "publicSubnetIds": ["subnet-pub-a", "subnet-pub-b"],
    "privateSubnetIds": ["subnet-app-a", "subnet-app-b"],
    "isolatedSubnetIds": ["subnet-db-a", "subnet-db-b"],
}
"""A NetworkRef as a consumer writes it (schema names)."""


def descendants(engine: FakeEngine, urn: str) -> list[str]:
    """Types of every resource under ``urn``, depth first."""
    found = []
    for child in engine.children_of(urn):
        found += [child.type, *descendants(engine, child.urn)]
    return found


def input_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The (property path, reason) pairs of an ``InputPropertiesError`` status."""
    metadata = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    found = []
    for detail in status.details:
        errors = errors_pb2.InputPropertiesError()
        detail.Unpack(errors)
        found += [(e.property_path, e.reason) for e in errors.errors]
    return found


# --- the plugin as the CLI sees it ----------------------------------------------------------


def test_get_schema_serves_the_checked_in_schema(provider: Provider) -> None:
    served = json.loads(provider.stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert served == json.loads((PLUGIN / "schema.json").read_text())
    assert sorted(served["resources"]) == [
        "platformkit:index:Cluster",
        "platformkit:index:Database",
        "platformkit:index:Network",
        "platformkit:index:ScheduledTask",
        "platformkit:index:WebService",
    ]


def test_plugin_info_is_the_installed_version(provider: Provider) -> None:
    info = provider.stub.GetPluginInfo(empty_pb2.Empty())
    assert info.version == importlib.metadata.version("platformkit")


# --- Construct ------------------------------------------------------------------------------


def test_network_registers_its_children_and_returns_its_outputs(provider: Provider) -> None:
    engine = provider.engine
    response = provider.construct(
        "Network",
        "core",
        {"azCount": 2, "natStrategy": "single", "owner": "payments", "tags": {"team": "web"}},
    )
    outputs = state(response)

    # The component is the library's own, under the consumer's stack, named as asked.
    assert response.urn == "urn:pulumi:dev::consumer::platformkit:index:Network::core"
    (component,) = engine.of_type("platformkit:index:Network")
    assert (component.name, component.parent) == ("core", STACK_URN)
    children = descendants(engine, response.urn)
    # azCount arrives as 2.0 on the wire and must count as the integer 2.
    assert children.count(SUBNET) == 6
    assert children.count(NAT_GATEWAY) == 1
    (vpc,) = engine.of_type("aws:ec2/vpc:Vpc")
    assert vpc.inputs["tags"]["owner"] == "payments"
    assert vpc.inputs["tags"]["team"] == "web"

    assert len(outputs["publicSubnetIds"]) == 2
    assert outputs["vpcId"].startswith("vpc-")
    assert outputs["ref"] == {
        "vpcId": outputs["vpcId"],
        "vpcCidrBlock": "10.0.0.0/16",
        "publicSubnetIds": outputs["publicSubnetIds"],
        "privateSubnetIds": outputs["privateSubnetIds"],
        "isolatedSubnetIds": outputs["isolatedSubnetIds"],
    }


def test_components_chain_through_their_ref_outputs(provider: Provider) -> None:
    """What a TypeScript or YAML program does: each component gets the previous one's ``ref``
    output whole, as one output value (the SDK's own mapping read it as an empty object)."""
    network = provider.construct("Network", "core", {"azCount": 2, "natStrategy": "single"})
    network_ref = output_value(state(network)["ref"], dependencies=[network.urn])

    cluster = provider.construct(
        "Cluster",
        "apps",
        {"network": network_ref, "waf": False, "targetPortRange": [8000, 8999]},
        dependencies={"network": [network.urn]},
    )
    database = provider.construct(
        "Database",
        "ledger",
        {"network": network_ref, "engine": "postgres", "multiAz": False},
        dependencies={"network": [network.urn]},
    )
    cluster_ref, database_ref = state(cluster)["ref"], state(database)["ref"]
    # Objects inside lists are mapped to schema names too, so the ref can travel on.
    assert cluster_ref["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert database_ref["port"] == 5432

    service = provider.construct(
        "WebService",
        "api",
        {
            "cluster": output_value(cluster_ref, dependencies=[cluster.urn]),
            "database": output_value(database_ref, dependencies=[database.urn]),
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "desiredCount": 1,
            "minCount": 1,
        },
        dependencies={"cluster": [cluster.urn], "database": [database.urn]},
    )

    engine = provider.engine
    public = state(network)["publicSubnetIds"]
    assert engine.named("apps-alb").inputs["subnets"] == public
    egress = next(r for r in engine.of_type(EGRESS) if r.name.startswith("apps-"))
    assert (egress.inputs["fromPort"], egress.inputs["toPort"]) == (8000, 8999)
    ecs = engine.named("api-service").inputs
    assert ecs["networkConfiguration"]["subnets"] == state(network)["privateSubnetIds"]
    assert ecs["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    container = json.loads(engine.named("api-task").inputs["containerDefinitions"])[0]
    env = {item["name"]: item["value"] for item in container["environment"]}
    assert (env["DB_ENGINE"], env["DB_PORT"]) == ("postgres", "5432")
    assert env["DB_HOST"] == engine.of_type(RDS)[0].outputs["address"] == database_ref["address"]
    # The database is another component here: the service opens the database's group itself.
    ingress = engine.named("api-db-ingress").inputs
    assert ingress["securityGroupId"] == database_ref["securityGroupId"]
    outputs = state(service)
    assert outputs["url"].startswith("http://")
    # The revision a ScheduledTask runs, reaching the consumer through the ECS service.
    task_definition_arn = engine.named("api-task").outputs["arn"]
    assert outputs["taskDefinitionArn"] == task_definition_arn
    assert engine.named("api").outputs["taskDefinitionArn"] == task_definition_arn  # registered
    assert task_definition_arn.startswith("arn:aws:ecs:us-east-1:")
    assert engine.named("api-service").urn in service.stateDependencies["taskDefinitionArn"].urns


def test_scheduled_task_runs_a_command_with_another_components_outputs(
    provider: Provider,
) -> None:
    """As a TypeScript program passes a ``WebService``'s roles and security group: each one an
    output value of that component; ``retryAttempts`` arrives as a float and must be an int."""
    task = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3"
    cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/apps"
    service_urn = "urn:pulumi:dev::consumer::platformkit:index:WebService::api"
    task_role = "arn:aws:iam::123456789012:role/api-task"
    execution_role = "arn:aws:iam::123456789012:role/api-execution"
    response = provider.construct(
        "ScheduledTask",
        "fit",
        {
            "clusterArn": cluster,
            "taskDefinitionArn": task,
            "containerName": "app",
            "command": ["flask", "clv", "fit"],
            "subnetIds": ["subnet-app-a", "subnet-app-b"],
            "securityGroupIds": [output_value("sg-api", dependencies=[service_urn])],
            "taskRoleArn": output_value(task_role, dependencies=[service_urn]),
            "executionRoleArn": output_value(execution_role, dependencies=[service_urn]),
            "scheduleExpression": "rate(6 hours)",
            "retryAttempts": 5,
        },
        dependencies={"taskRoleArn": [service_urn], "executionRoleArn": [service_urn]},
    )
    engine = provider.engine
    assert response.urn == "urn:pulumi:dev::consumer::platformkit:index:ScheduledTask::fit"
    assert sorted(descendants(engine, response.urn)) == [
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        SCHEDULE,
    ]
    schedule = engine.named("fit-schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(6 hours)"
    target = schedule.inputs["target"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 5}
    assert json.loads(target["input"]) == {
        "containerOverrides": [{"name": "app", "command": ["flask", "clv", "fit"]}]
    }
    assert target["ecsParameters"]["networkConfiguration"]["securityGroups"] == ["sg-api"]
    policy = json.loads(engine.named("fit-run-task").inputs["policy"])
    assert policy["Statement"][1]["Resource"] == [task_role, execution_role]
    outputs = state(response)
    assert outputs == {
        "scheduleArn": schedule.outputs["arn"],
        "roleArn": engine.named("fit-scheduler").outputs["arn"],
    }


def test_preview_with_refs_not_known_yet(provider: Provider) -> None:
    """In a preview the network's ids are unknown, so its ``ref`` arrives as an unknown
    output: the cluster must still construct, with the dependent inputs unknown."""
    provider.engine.reset(mode="preview")
    network_urn = "urn:pulumi:dev::consumer::platformkit:index:Network::core"
    response = provider.construct(
        "Cluster",
        "apps",
        {"network": output_value(dependencies=[network_urn], known=False), "waf": False},
        dry_run=True,
        dependencies={"network": [network_urn]},
    )
    assert response.urn.endswith("platformkit:index:Cluster::apps")
    assert provider.engine.named("apps-alb").inputs["subnets"] == wire.UNKNOWN

    cluster_urn, database_urn = response.urn, network_urn.replace("Network::core", "Database::db")
    service = provider.construct(
        "WebService",
        "api",
        {
            "cluster": output_value(dependencies=[cluster_urn], known=False),
            "database": output_value(dependencies=[database_urn], known=False),
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "hostHeaders": ["api.example.com"],
        },
        dry_run=True,
        dependencies={"cluster": [cluster_urn], "database": [database_urn]},
    )
    ecs = provider.engine.named("api-service").inputs
    assert ecs["cluster"] == wire.UNKNOWN
    assert ecs["capacityProviderStrategies"] == wire.UNKNOWN
    assert state(service)["url"] == wire.UNKNOWN
    assert state(service)["taskDefinitionArn"] == wire.UNKNOWN


# --- errors a consumer sees -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "inputs", "path", "message"),
    [
        (
            "Network",
            {"azCount": 1},
            "azCount",
            "Network 'core': az_count=1 is invalid; expected an integer from 2 to 6.",
        ),
        (
            "Cluster",
            {"network": {**NETWORK_REF, "publicSubnetIds": ["subnet-a"]}},
            "network.publicSubnetIds",
            "Cluster 'core': network.public_subnet_ids=['subnet-a'] is invalid; expected at "
            "least 2 public subnets in different AZs (an application load balancer spans two "
            "or more).",
        ),
        (
            "ScheduledTask",
            {
                "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/apps",
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3",
                "containerName": "app",
                "command": ["flask", "clv", "fit"],
                "subnetIds": ["subnet-app-a"],
                "securityGroupIds": ["sg-api"],
                "taskRoleArn": "arn:aws:iam::123456789012:role/api-task",
                "executionRoleArn": "arn:aws:iam::123456789012:role/api-execution",
                "retryAttempts": 186,
            },
            "retryAttempts",
            "ScheduledTask 'core': retry_attempts=186 is invalid; expected an integer from 0 "
            "to 185.",
        ),
    ],
)
def test_an_invalid_value_is_an_input_error_with_the_library_message(
    provider: Provider, component: str, inputs: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        provider.construct(component, "core", inputs)
    # One line on the property, as the CLI shows input errors: no Python traceback.
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert input_errors(raised.value) == [(path, message)]


@pytest.mark.parametrize(
    ("component", "inputs", "path"),
    [
        ("WebService", {"image": "nginx"}, "cluster"),
        ("Cluster", {"network": {"vpcCidrBlock": "10.0.0.0/16"}}, "network.vpcId"),
    ],
)
def test_a_missing_required_input_names_its_path(
    provider: Provider, component: str, inputs: dict[str, Any], path: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        provider.construct(component, "x", inputs)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (path, f"Missing required input '{path}' on '{component}'") in input_errors(raised.value)
