"""``Network``: a three-tier VPC with a stable CIDR plan and locked-down defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_aws as aws

from platformkit.component_base import Component
from platformkit.network.args import (
    COMPONENT,
    GATEWAY_ENDPOINTS,
    INTERFACE_ENDPOINTS,
    NetworkArgs,
    Tier,
)
from platformkit.network.flow_logs import create_flow_logs
from platformkit.network.settings import NetworkSettings, read_settings
from platformkit.network_ref import NetworkRef
from platformkit.validation import invalid


class Network(Component):
    """A VPC with public, private and isolated subnets in 2 to 6 AZs.

    - public: route to an internet gateway; load balancers and NAT gateways live here;
    - private: outbound through NAT (per the ``nat_strategy``) or VPC endpoints; services;
    - isolated: no route beyond the VPC; databases.

    The VPC's default security group, network ACL and route table are adopted with every rule
    removed, so nothing lands in them by accident; no subnet assigns public IPs on launch.
    """

    vpc: aws.ec2.Vpc
    """The VPC resource itself."""
    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    vpc_cidr_block: pulumi.Output[str]
    """CIDR block of the VPC."""
    availability_zones: pulumi.Output[list[str]]
    """The AZs used, in slot order."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public subnets, one per AZ (empty when ``public_subnets`` is off)."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnets, one per AZ."""
    isolated_subnet_ids: list[pulumi.Output[str]]
    """Isolated subnets, one per AZ."""
    nat_gateway_ids: list[pulumi.Output[str]]
    """NAT gateways (none, one, or one per AZ)."""
    flow_log_group_name: pulumi.Output[str] | None
    """CloudWatch log group receiving the flow logs, when flow logs are on."""

    def __init__(
        self,
        name: str,
        args: NetworkArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = args or {}
        # Validate before registering, so a bad argument leaves no half-built component.
        settings = read_settings(name, args)
        super().__init__("platformkit:index:Network", name, settings.tags, opts)

        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=settings.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**self._tags, "Name": name},
            opts=self._child(),
        )
        self.vpc_id = self.vpc.id
        self.vpc_cidr_block = self.vpc.cidr_block
        self._lock_down_defaults()

        self.availability_zones = _resolve_zones(settings, self)
        subnets = {
            tier: self._create_subnets(tier, settings.cidrs[tier]) for tier in settings.tiers
        }
        self._create_network_acls(subnets)
        self._routing: dict[str, list[pulumi.Resource]] = {}
        private_route_tables = self._create_routes(settings, subnets)
        # The ids handed out wait for each subnet's routing: an internet-facing load balancer
        # in a VPC whose internet gateway is not attached yet is rejected by AWS, and tasks
        # started before their NAT route exists cannot pull images.
        self.public_subnet_ids = [self._ready(s) for s in subnets.get("public", [])]
        self.private_subnet_ids = [self._ready(s) for s in subnets["private"]]
        self.isolated_subnet_ids = [self._ready(s) for s in subnets["isolated"]]
        self.flow_log_group_name = (
            create_flow_logs(self, settings, self.vpc) if settings.flow_logs else None
        )
        self._create_endpoints(settings, private_route_tables)

        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidrBlock": self.vpc_cidr_block,
                "availabilityZones": self.availability_zones,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "natGatewayIds": self.nat_gateway_ids,
            }
        )

    @property
    def ref(self) -> NetworkRef:
        """This network as a ``NetworkRef``, the form the other components accept."""
        return NetworkRef(
            vpc_id=self.vpc_id,
            vpc_cidr_block=self.vpc_cidr_block,
            public_subnet_ids=self.public_subnet_ids,
            private_subnet_ids=self.private_subnet_ids,
            isolated_subnet_ids=self.isolated_subnet_ids,
        )

    def _tagged(self, suffix: str) -> dict[str, str]:
        return {**self._tags, "Name": f"{self._name}-{suffix}"}

    def _lock_down_defaults(self) -> None:
        # Adopting the defaults with no rules (rather than leaving them alone) means anything
        # launched without an explicit security group, ACL or route table gets no traffic.
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=self._tagged("default-sg"),
            opts=self._child(),
        )
        aws.ec2.DefaultNetworkAcl(
            f"{self._name}-default-nacl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            ingress=[],
            egress=[],
            tags=self._tagged("default-nacl"),
            # Our subnets move to the tier ACLs; the provider would otherwise fight over them.
            opts=self._child(ignore_changes=["subnetIds"]),
        )
        aws.ec2.DefaultRouteTable(
            f"{self._name}-default-rt",
            default_route_table_id=self.vpc.default_route_table_id,
            routes=[],
            tags=self._tagged("default-rt"),
            opts=self._child(),
        )

    def _create_subnets(self, tier: Tier, cidrs: Sequence[str]) -> list[aws.ec2.Subnet]:
        return [
            aws.ec2.Subnet(
                f"{self._name}-{tier}-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=self.availability_zones.apply(_nth(index)),
                map_public_ip_on_launch=False,
                tags={**self._tagged(f"{tier}-{index}"), "tier": tier},
                opts=self._child(),
            )
            for index, cidr in enumerate(cidrs)
        ]

    def _create_network_acls(self, subnets: Mapping[Tier, Sequence[aws.ec2.Subnet]]) -> None:
        vpc_cidr = self.vpc.cidr_block
        anywhere = "0.0.0.0/0"
        # Return traffic of connections opened from inside (through NAT or the IGW) arrives on
        # ephemeral ports 1024-65535. RDP (3389) sits in that range, so it is denied first:
        # ACL rules are evaluated in rule-number order.
        ephemeral = [
            _acl_rule("tcp", 3389, 3389, anywhere, action="deny"),
            *[_acl_rule(proto, 1024, 65535, anywhere) for proto in ("tcp", "udp")],
        ]
        rules: dict[Tier, tuple[list[_AclRule], list[_AclRule]]] = {
            # Public: web traffic in, everything out; administration ports stay closed.
            "public": (
                [
                    _acl_rule("-1", 0, 0, vpc_cidr),
                    _acl_rule("tcp", 80, 80, anywhere),
                    _acl_rule("tcp", 443, 443, anywhere),
                    *ephemeral,
                ],
                [_acl_rule("-1", 0, 0, anywhere)],
            ),
            "private": (
                [_acl_rule("-1", 0, 0, vpc_cidr), *ephemeral],
                [_acl_rule("-1", 0, 0, anywhere)],
            ),
            # Isolated: traffic never leaves the VPC, even if a route were added later.
            "isolated": ([_acl_rule("-1", 0, 0, vpc_cidr)], [_acl_rule("-1", 0, 0, vpc_cidr)]),
        }
        for tier, tier_subnets in subnets.items():
            ingress, egress = rules[tier]
            aws.ec2.NetworkAcl(
                f"{self._name}-{tier}-nacl",
                vpc_id=self.vpc.id,
                subnet_ids=[s.id for s in tier_subnets],
                ingress=[
                    aws.ec2.NetworkAclIngressArgs(rule_no=100 + 10 * n, **rule)
                    for n, rule in enumerate(ingress)
                ],
                egress=[
                    aws.ec2.NetworkAclEgressArgs(rule_no=100 + 10 * n, **rule)
                    for n, rule in enumerate(egress)
                ],
                tags=self._tagged(f"{tier}-nacl"),
                opts=self._child(),
            )

    def _create_routes(
        self, settings: NetworkSettings, subnets: Mapping[Tier, Sequence[aws.ec2.Subnet]]
    ) -> list[aws.ec2.RouteTable]:
        self.nat_gateway_ids = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        if "public" in subnets:
            igw = aws.ec2.InternetGateway(
                f"{self._name}-igw",
                vpc_id=self.vpc.id,
                tags=self._tagged("igw"),
                opts=self._child(),
            )
            public_rt = self._route_table("public")
            internet = aws.ec2.Route(
                f"{self._name}-public-internet",
                route_table_id=public_rt.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=self._child(),
            )
            self._associate(public_rt, subnets["public"], internet)
            nat_count = {"none": 0, "single": 1, "per_az": settings.az_count}[settings.nat_strategy]
            for index in range(nat_count):
                eip = aws.ec2.Eip(
                    f"{self._name}-nat-{index}",
                    domain="vpc",
                    tags=self._tagged(f"nat-{index}"),
                    opts=self._child(),
                )
                nat = aws.ec2.NatGateway(
                    f"{self._name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=subnets["public"][index].id,
                    tags=self._tagged(f"nat-{index}"),
                    opts=self._child(depends_on=[igw]),
                )
                nat_gateways.append(nat)
                self.nat_gateway_ids.append(nat.id)

        # One private route table per AZ whatever the NAT strategy, so switching between
        # single and per_az only changes routes, never tables or their associations.
        private_tables = []
        for index, subnet in enumerate(subnets["private"]):
            table = self._route_table(f"private-{index}")
            if nat_gateways:
                nat = nat_gateways[index] if len(nat_gateways) > 1 else nat_gateways[0]
                nat_route = aws.ec2.Route(
                    f"{self._name}-private-{index}-nat",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                    opts=self._child(),
                )
                self._associate(table, [subnet], nat_route)
            else:
                self._associate(table, [subnet])
            private_tables.append(table)

        isolated_rt = self._route_table("isolated")
        self._associate(isolated_rt, subnets["isolated"])
        return private_tables

    def _route_table(self, suffix: str) -> aws.ec2.RouteTable:
        return aws.ec2.RouteTable(
            f"{self._name}-{suffix}-rt",
            vpc_id=self.vpc.id,
            tags=self._tagged(f"{suffix}-rt"),
            opts=self._child(),
        )

    def _associate(
        self,
        table: aws.ec2.RouteTable,
        subnets: Sequence[aws.ec2.Subnet],
        *routes: aws.ec2.Route,
    ) -> None:
        """Associate ``subnets`` with ``table``; they count as routed once ``routes`` exist."""
        for subnet in subnets:
            # The subnet's own logical name is unique and stable, so it names the association.
            subnet_name = subnet._name  # noqa: SLF001 - Pulumi's logical name of the child
            association = aws.ec2.RouteTableAssociation(
                f"{subnet_name}-rta",
                route_table_id=table.id,
                subnet_id=subnet.id,
                opts=self._child(),
            )
            self._routing[subnet_name] = [association, *routes]

    def _ready(self, subnet: aws.ec2.Subnet) -> pulumi.Output[str]:
        """The subnet's id, carrying a dependency on its route table association and routes."""
        waits = self._routing[subnet._name]  # noqa: SLF001 - Pulumi's logical name
        return pulumi.Output.all(subnet.id, *[r.urn for r in waits]).apply(lambda v: str(v[0]))

    def _create_endpoints(
        self, settings: NetworkSettings, private_tables: Sequence[aws.ec2.RouteTable]
    ) -> None:
        if not settings.vpc_endpoints:
            return
        region = aws.get_region_output().region
        interface = [e for e in settings.vpc_endpoints if e in INTERFACE_ENDPOINTS]
        endpoint_sg = None
        if interface:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{self._name}-endpoints",
                vpc_id=self.vpc.id,
                description="HTTPS from inside the VPC to the AWS interface endpoints",
                tags=self._tagged("endpoints"),
                opts=self._child(),
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-endpoints-https",
                security_group_id=endpoint_sg.id,
                description="HTTPS from the VPC",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=self.vpc.cidr_block,
                tags=self._tagged("endpoints-https"),
                opts=self._child(),
            )
        for service in settings.vpc_endpoints:
            slug = service.replace(".", "-")
            service_name = region.apply(_endpoint_service_name(service))
            if service in GATEWAY_ENDPOINTS:
                aws.ec2.VpcEndpoint(
                    f"{self._name}-{slug}",
                    vpc_id=self.vpc.id,
                    service_name=service_name,
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[t.id for t in private_tables],
                    tags=self._tagged(slug),
                    opts=self._child(),
                )
            else:
                assert endpoint_sg is not None
                aws.ec2.VpcEndpoint(
                    f"{self._name}-{slug}",
                    vpc_id=self.vpc.id,
                    service_name=service_name,
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.private_subnet_ids,
                    security_group_ids=[endpoint_sg.id],
                    tags=self._tagged(slug),
                    opts=self._child(),
                )


def _nth(index: int) -> Callable[[Sequence[str]], str]:
    return lambda items: items[index]


def _endpoint_service_name(service: str) -> Callable[[str], str]:
    return lambda region: f"com.amazonaws.{region}.{service}"


class _AclRule(TypedDict):
    protocol: str
    from_port: int
    to_port: int
    action: str
    cidr_block: pulumi.Input[str]


def _acl_rule(
    protocol: str, from_port: int, to_port: int, cidr: pulumi.Input[str], action: str = "allow"
) -> _AclRule:
    return {
        "protocol": protocol,
        "from_port": from_port,
        "to_port": to_port,
        "action": action,
        "cidr_block": cidr,
    }


def _resolve_zones(settings: NetworkSettings, parent: Network) -> pulumi.Output[list[str]]:
    if settings.availability_zones:
        return pulumi.Output.from_input(list(settings.availability_zones))
    wanted = settings.az_count

    def first(names: Sequence[str]) -> list[str]:
        if len(names) < wanted:
            raise invalid(
                COMPONENT,
                settings.name,
                "az_count",
                wanted,
                f"at most the {len(names)} available zones of the region "
                f"({', '.join(sorted(names))})",
            )
        return sorted(names)[:wanted]

    zones = aws.get_availability_zones_output(
        # No state filter: a zone that is impaired during an update must not shift the list
        # (and with it replace every later slot's subnets). Local and Wavelength zones are
        # opt-in; subnets there would break the tier model.
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOptions(parent=parent),
    )
    return zones.names.apply(first)
