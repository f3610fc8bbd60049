"""Network: CIDR plan, tiers, NAT strategies, locked-down defaults, flow logs, endpoints."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from platformkit import network as network_module
from platformkit.network import Network, NetworkArgs, plan_subnet_cidrs
from platformkit.tags import STANDARD_TAG_KEYS
from tests.platformkit.conftest import Run, missing_standard_tags

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"


def build(args: NetworkArgs | None = None, name: str = "core") -> Any:
    return lambda: Network(name, args)


def subnets_by_tier(recording: Any) -> dict[str, list[dict[str, Any]]]:
    tiers: dict[str, list[dict[str, Any]]] = {}
    # Registration order is asynchronous; the slot number ends the name.
    for record in sorted(recording.of_type(SUBNET), key=lambda r: r.name):
        tiers.setdefault(record.inputs["tags"]["tier"], []).append(record.inputs)
    return tiers


def test_defaults_span_three_azs_with_three_tiers_and_a_nat_per_az(run: Run) -> None:
    recording = run(build())

    vpc = recording.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["cidrBlock"] == "10.0.0.0/16"
    assert vpc["enableDnsSupport"] is True and vpc["enableDnsHostnames"] is True
    tiers = subnets_by_tier(recording)
    assert {tier: len(s) for tier, s in tiers.items()} == {"public": 3, "private": 3, "isolated": 3}
    assert [s["availabilityZone"] for s in tiers["private"]] == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert len(recording.of_type(NAT)) == 3


def test_no_subnet_assigns_public_ips(run: Run) -> None:
    recording = run(build())
    assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in recording.of_type(SUBNET))


def test_subnet_cidrs_are_inside_the_vpc_and_disjoint(run: Run) -> None:
    recording = run(build({"cidr_block": "172.20.0.0/18", "az_count": 6}))
    networks = [ipaddress.IPv4Network(r.inputs["cidrBlock"]) for r in recording.of_type(SUBNET)]
    vpc = ipaddress.IPv4Network("172.20.0.0/18")
    assert len(networks) == 18
    assert all(n.subnet_of(vpc) for n in networks)
    for i, a in enumerate(networks):
        for b in networks[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_adding_an_az_keeps_every_existing_subnet_name_and_cidr(run: Run) -> None:
    def plan(az_count: int) -> dict[str, str]:
        recording = run(build({"az_count": az_count, "nat_strategy": "single"}))
        return {r.name: r.inputs["cidrBlock"] for r in recording.of_type(SUBNET)}

    two, three = plan(2), plan(3)
    assert {name: three[name] for name in two} == two
    assert set(three) - set(two) == {"core-public-2", "core-private-2", "core-isolated-2"}


def test_plan_function_matches_documented_layout() -> None:
    plan = plan_subnet_cidrs("10.0.0.0/16", 3)
    assert plan["private"] == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert plan["public"] == ["10.0.192.0/22", "10.0.196.0/22", "10.0.200.0/22"]
    assert plan["isolated"] == ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]


@pytest.mark.parametrize(
    ("strategy", "nat_count", "distinct_targets"),
    [("none", 0, 0), ("single", 1, 1), ("per_az", 3, 3)],
)
def test_nat_strategy_sets_gateways_and_private_default_routes(
    run: Run, strategy: str, nat_count: int, distinct_targets: int
) -> None:
    recording = run(build({"nat_strategy": strategy}))
    assert len(recording.of_type(NAT)) == nat_count
    nat_routes = [r.inputs for r in recording.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert len(nat_routes) == (3 if nat_count else 0)
    assert len({r["natGatewayId"] for r in nat_routes}) == distinct_targets
    # NAT gateways sit in the public subnets, one per AZ slot.
    public_ids = {r.id for r in recording.of_type(SUBNET) if "public" in r.name}
    assert all(n.inputs["subnetId"] in public_ids for n in recording.of_type(NAT))


def test_switching_nat_strategy_keeps_route_tables(run: Run) -> None:
    def tables(strategy: str) -> set[str]:
        recording = run(build({"nat_strategy": strategy}))
        return {r.name for r in recording.of_type("aws:ec2/routeTable:RouteTable")}

    assert tables("single") == tables("per_az") == tables("none")


def test_isolated_subnets_have_no_route_beyond_the_vpc(run: Run) -> None:
    recording = run(build())
    isolated_table = recording.named("core-isolated-rt")
    routes = [r for r in recording.of_type(ROUTE) if r.inputs["routeTableId"] == isolated_table.id]
    assert routes == []
    acl = recording.named("core-isolated-nacl").inputs
    assert {rule["cidrBlock"] for rule in acl["ingress"] + acl["egress"]} == {"10.0.0.0/16"}


def test_public_acl_keeps_administration_ports_closed_to_the_internet(run: Run) -> None:
    recording = run(build())
    for acl_name in ("core-public-nacl", "core-private-nacl"):
        rules = sorted(recording.named(acl_name).inputs["ingress"], key=lambda r: r["ruleNo"])
        world_tcp = [
            r for r in rules if r["cidrBlock"] == "0.0.0.0/0" and r["protocol"] in ("tcp", "-1")
        ]
        for port in (22, 3389):
            # ACLs apply the first matching rule in rule-number order.
            first = next((r for r in world_tcp if r["fromPort"] <= port <= r["toPort"]), None)
            assert first is None or first["action"] == "deny", (acl_name, port)
        if acl_name == "core-public-nacl":
            assert any(r["fromPort"] <= 443 <= r["toPort"] for r in world_tcp)


def test_defaults_are_adopted_with_no_rules(run: Run) -> None:
    recording = run(build())
    default_sg = recording.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default_sg["ingress"] == [] and default_sg["egress"] == []
    default_acl = recording.one("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
    assert default_acl.inputs["ingress"] == [] and default_acl.inputs["egress"] == []
    assert default_acl.options["ignoreChanges"] == ["subnetIds"]
    default_rt = recording.one("aws:ec2/defaultRouteTable:DefaultRouteTable").inputs
    assert default_rt["routes"] == []


def test_flow_logs_go_to_a_log_group_with_finite_retention(run: Run) -> None:
    recording = run(build())
    flow_log = recording.one("aws:ec2/flowLog:FlowLog").inputs
    group = recording.one("aws:cloudwatch/logGroup:LogGroup")
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 365
    trust = json.loads(recording.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    policy = json.loads(recording.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert all(not action.endswith("*") for action in policy["Statement"][0]["Action"])


def test_flow_logs_can_be_turned_off_or_shortened(run: Run) -> None:
    assert run(build({"flow_logs": False})).of_type("aws:ec2/flowLog:FlowLog") == []
    group = run(build({"flow_log_retention_days": 7})).one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["retentionInDays"] == 7


def test_flow_log_group_uses_the_given_kms_key(run: Run) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/abc"
    group = run(build({"flow_log_kms_key_arn": key})).one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == key


def test_endpoints_gateway_for_s3_and_interface_for_the_rest(run: Run) -> None:
    recording = run(build({"vpc_endpoints": ["s3", "ecr.api", "ecr.dkr", "logs"]}))
    endpoints = {r.name: r.inputs for r in recording.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoints["core-s3"]["vpcEndpointType"] == "Gateway"
    assert endpoints["core-s3"]["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert len(endpoints["core-s3"]["routeTableIds"]) == 3
    for name in ("core-ecr-api", "core-ecr-dkr", "core-logs"):
        assert endpoints[name]["vpcEndpointType"] == "Interface"
        assert endpoints[name]["privateDnsEnabled"] is True
        assert len(endpoints[name]["subnetIds"]) == 3
    rule = recording.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert (rule["fromPort"], rule["toPort"], rule["cidrIpv4"]) == (443, 443, "10.0.0.0/16")


def test_no_endpoints_when_asked_for_none(run: Run) -> None:
    recording = run(build({"vpc_endpoints": []}))
    assert recording.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []


def test_without_public_tier_there_is_no_internet_gateway(run: Run) -> None:
    recording = run(build({"public_subnets": False, "nat_strategy": "none"}))
    assert recording.of_type("aws:ec2/internetGateway:InternetGateway") == []
    assert "public" not in subnets_by_tier(recording)


def test_explicit_availability_zones_are_used_in_order(run: Run) -> None:
    zones = ["us-east-1d", "us-east-1b"]
    recording = run(build({"availability_zones": zones, "nat_strategy": "single"}))
    assert [s["availabilityZone"] for s in subnets_by_tier(recording)["private"]] == zones


def test_explicit_subnet_plan_is_used(run: Run) -> None:
    plan = {
        "public": ["10.0.0.0/24", "10.0.1.0/24"],
        "private": ["10.0.16.0/20", "10.0.32.0/20"],
        "isolated": ["10.0.2.0/24", "10.0.3.0/24"],
    }
    recording = run(build({"az_count": 2, "subnet_cidrs": plan}))  # type: ignore[arg-type]
    tiers = subnets_by_tier(recording)
    assert {t: [s["cidrBlock"] for s in subnets] for t, subnets in tiers.items()} == plan


def test_every_resource_is_tagged_and_parented(run: Run) -> None:
    recording = run(build({"environment": "staging", "owner": "data", "tags": {"team": "x"}}))
    component = recording.one("platformkit:index:Network")
    children = [r for r in recording if r is not component]
    assert children and all(r.parent == component.urn for r in children)
    assert missing_standard_tags(children) == []
    for record in children:
        tags = record.inputs.get("tags")
        if tags is not None:
            assert set(STANDARD_TAG_KEYS) <= set(tags)
            assert (tags["environment"], tags["owner"], tags["team"]) == ("staging", "data", "x")


def test_environment_tag_defaults_to_the_stack(run: Run) -> None:
    vpc = run(build(), stack="prod").one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["tags"]["environment"] == "prod"
    assert vpc.inputs["tags"]["managed-by"] == "pulumi-platformkit"


def test_ref_exposes_the_subnets_per_tier(run: Run) -> None:
    refs = []
    run(lambda: refs.append(Network("core", {"az_count": 2, "nat_strategy": "single"}).ref))
    ref = refs[0]
    # Lists (not outputs of lists): their length is known while the program runs.
    tiers = (ref.public_subnet_ids, ref.private_subnet_ids, ref.isolated_subnet_ids)
    assert [len(ids) if isinstance(ids, list) else None for ids in tiers] == [2, 2, 2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"az_count": 1}, "az_count=1 is invalid; expected an integer from 2 to 6"),
        ({"az_count": 7}, "az_count=7 is invalid"),
        ({"cidr_block": "10.0.0.0/8"}, "cidr_block='10.0.0.0/8' is invalid; expected a /16 to /20"),
        ({"cidr_block": "10.0.0.1/16"}, "cidr_block='10.0.0.1/16' is invalid"),
        ({"cidr_block": "banana"}, "cidr_block='banana' is invalid"),
        ({"nat_strategy": "two"}, "nat_strategy='two' is invalid; expected one of none, per_az"),
        (
            {"public_subnets": False, "nat_strategy": "per_az"},
            "nat_strategy='per_az' is invalid; expected 'none' when public_subnets is False",
        ),
        ({"flow_log_retention_days": 10}, "flow_log_retention_days=10 is invalid"),
        ({"flow_logs": "no"}, "flow_logs='no' is invalid; expected True or False"),
        ({"az_cuont": 3}, "args=['az_cuont'] is invalid; expected only cidr_block, az_count,"),
        ({"vpc_endpoints": ["dynamodb"]}, "vpc_endpoints='dynamodb' is invalid"),
        ({"vpc_endpoints": ["s3", "s3"]}, "vpc_endpoints=['s3', 's3'] is invalid"),
        ({"availability_zones": ["us-east-1a"]}, "len(availability_zones)=1 is invalid"),
        (
            {"availability_zones": ["us-east-1a", "us-east-1a"]},
            "availability_zones=['us-east-1a', 'us-east-1a'] is invalid; expected distinct",
        ),
        (
            {"availability_zones": ["us-east-1a", "us-east-1b"], "az_count": 3},
            "az_count=3 is invalid; expected 2, the number of availability_zones given",
        ),
        (
            {
                "az_count": 2,
                "subnet_cidrs": {
                    "public": ["10.0.0.0/24", "10.0.1.0/24"],
                    "private": ["10.0.0.0/20", "10.0.32.0/20"],
                    "isolated": ["10.0.2.0/24", "10.0.3.0/24"],
                },
            },
            "subnet_cidrs.private[0]='10.0.0.0/20' is invalid; expected a network not "
            "overlapping subnet_cidrs.public[0]='10.0.0.0/24'",
        ),
        (
            {
                "az_count": 2,
                "subnet_cidrs": {
                    "public": ["10.0.0.0/24", "10.1.1.0/24"],
                    "private": [],
                    "isolated": [],
                },
            },
            "subnet_cidrs.public[1]='10.1.1.0/24' is invalid; expected a network inside",
        ),
        (
            {
                "az_count": 2,
                "subnet_cidrs": {"public": ["10.0.0.0/24"], "private": [], "isolated": []},
            },
            "subnet_cidrs.public=['10.0.0.0/24'] is invalid; expected 2 CIDRs",
        ),
    ],
)
def test_bad_arguments_raise_naming_field_and_value(
    run: Run, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match="Network 'core': ") as error:
        run(build(args))  # type: ignore[arg-type]
    assert message in str(error.value)


def test_six_azs_are_supported(run: Run) -> None:
    assert len(run(build({"az_count": 6})).of_type(NAT)) == 6


def test_every_args_field_is_documented() -> None:
    from tests.platformkit.docstrings import undocumented_fields

    assert undocumented_fields(network_module, "NetworkArgs") == []
    assert undocumented_fields(network_module, "SubnetCidrs") == []


def test_consumers_of_public_subnets_wait_for_the_internet_route(run: Run) -> None:
    from platformkit import Cluster

    recording = run(
        lambda: Cluster("web", {"network": Network("core", {"nat_strategy": "single"})})
    )
    route = recording.named("core-public-internet")
    balancer = recording.one("aws:lb/loadBalancer:LoadBalancer")
    assert route.urn in balancer.dependencies
    assert recording.named("core-public-0-rta").urn in balancer.dependencies


def test_consumers_of_private_subnets_wait_for_their_nat_route(run: Run) -> None:
    import pulumi_aws as aws

    def build() -> None:
        ref = Network("core", {"nat_strategy": "per_az", "az_count": 2}).ref
        aws.ecs.Service("svc", network_configuration={"subnets": ref.private_subnet_ids})

    recording = run(build)
    service = recording.named("svc")
    assert recording.named("core-private-0-nat").urn in service.dependencies
    assert recording.named("core-private-1-nat").urn in service.dependencies
