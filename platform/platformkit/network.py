"""``Network``: a three-tier VPC with a stable CIDR plan and locked-down defaults."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from platformkit.iam import service_trust_policy
from platformkit.network_ref import NetworkRef
from platformkit.tags import standard_tags
from platformkit.validation import (
    InvalidArgument,
    invalid,
    require_choice,
    require_log_retention,
    require_range,
)

COMPONENT = "Network"

DEFAULT_CIDR_BLOCK = "10.0.0.0/16"
DEFAULT_AZ_COUNT = 3
MIN_AZ_COUNT = 2
MAX_AZ_COUNT = 6
DEFAULT_NAT_STRATEGY = "per_az"
NAT_STRATEGIES = ("none", "single", "per_az")
DEFAULT_FLOW_LOG_RETENTION_DAYS = 365
DEFAULT_VPC_ENDPOINTS: tuple[str, ...] = ("s3",)
GATEWAY_ENDPOINTS = ("s3",)
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
"""VPC endpoints ``Network`` can create: S3 is a free gateway endpoint; the others are
interface endpoints (billed per AZ-hour) that let private tasks pull images, ship logs and
read secrets without a NAT gateway."""

# The CIDR plan. The VPC is cut into fixed slots, one per possible AZ (up to six), so adding an
# AZ only fills the next free slot and never renumbers (hence never replaces) a subnet:
#   private tier:  the first six of the VPC's eight /(p+3) blocks (75% of the space; tasks
#                  need the addresses);
#   public tier:   slots 0-5 of the last quarter cut into /(p+6) blocks;
#   isolated tier: slots 8-13 of that same last quarter.
# For the default 10.0.0.0/16: private 10.0.0.0/19 ... 10.0.160.0/19 (8,187 hosts each),
# public 10.0.192.0/22 ... 10.0.212.0/22, isolated 10.0.224.0/22 ... 10.0.244.0/22.
MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 20
_PUBLIC_SLOT_OFFSET = 0
_ISOLATED_SLOT_OFFSET = 8

Tier = Literal["public", "private", "isolated"]
TIERS: tuple[Tier, ...] = ("public", "private", "isolated")


class SubnetCidrs(TypedDict):
    """An explicit subnet plan: one CIDR per AZ for each tier, in AZ order."""

    public: Sequence[str]
    """Public subnet CIDRs (leave empty when ``public_subnets`` is off)."""
    private: Sequence[str]
    """Private subnet CIDRs."""
    isolated: Sequence[str]
    """Isolated subnet CIDRs."""


class NetworkArgs(TypedDict):
    """Arguments of ``Network``. Every field is optional.

    Fields that decide how many resources exist (AZ count, NAT strategy, endpoints) are plain
    values, not ``pulumi.Input``: a program cannot create "an output's worth" of subnets.
    """

    cidr_block: NotRequired[str]
    """IPv4 CIDR of the VPC, a /16 to /20 network. Defaults to `10.0.0.0/16`."""
    az_count: NotRequired[int]
    """Number of availability zones to span, 2 to 6. Defaults to `3` (or the length of
    ``availability_zones`` when that is given)."""
    availability_zones: NotRequired[Sequence[str]]
    """Explicit AZ names, in slot order (e.g. ``["eu-west-1a", "eu-west-1b"]``). Pinning them
    keeps subnets in place if AWS ever lists the region's zones differently. Defaults to the
    first ``az_count`` zones of the region in name order (opt-in zones excluded)."""
    public_subnets: NotRequired[bool]
    """Create the public tier (internet gateway, load balancers, NAT). Defaults to `True`."""
    nat_strategy: NotRequired[str]
    """How private subnets reach the internet: ``none`` (no NAT; use VPC endpoints),
    ``single`` (one NAT gateway, cheapest, one AZ's outage cuts egress for all) or
    ``per_az`` (one NAT gateway per AZ, resilient). Defaults to `per_az`."""
    subnet_cidrs: NotRequired[SubnetCidrs]
    """An explicit CIDR plan instead of the computed one; each CIDR must lie inside the VPC and
    none may overlap. Defaults to the computed plan described in ``docs/components.md``."""
    flow_logs: NotRequired[bool]
    """Send VPC flow logs (all traffic) to CloudWatch Logs. Defaults to `True`."""
    flow_log_retention_days: NotRequired[int]
    """Retention of the flow log group, one of CloudWatch's allowed values.
    Defaults to `365`."""
    flow_log_kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key for the flow log group. Defaults to CloudWatch's own
    encryption."""
    vpc_endpoints: NotRequired[Sequence[str]]
    """VPC endpoints to create, from ``s3``, ``ecr.api``, ``ecr.dkr``, ``logs``,
    ``secretsmanager``. Defaults to `["s3"]` (the free gateway endpoint)."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the Pulumi stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to `platform-team`."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags for every resource. Defaults to none."""


def plan_subnet_cidrs(cidr_block: str, az_count: int) -> dict[Tier, list[str]]:
    """Return the computed CIDR plan: per tier, one CIDR per AZ slot ``0 .. az_count - 1``."""
    vpc = ipaddress.IPv4Network(cidr_block)
    private_blocks = list(vpc.subnets(prefixlen_diff=3))
    last_quarter = list(vpc.subnets(prefixlen_diff=2))[3]
    small_blocks = list(last_quarter.subnets(new_prefix=vpc.prefixlen + 6))
    return {
        "public": [str(small_blocks[_PUBLIC_SLOT_OFFSET + i]) for i in range(az_count)],
        "private": [str(private_blocks[i]) for i in range(az_count)],
        "isolated": [str(small_blocks[_ISOLATED_SLOT_OFFSET + i]) for i in range(az_count)],
    }


class Network(pulumi.ComponentResource):
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
        settings = _Settings.from_args(name, args)
        super().__init__("platformkit:index:Network", name, {}, opts)
        self._name = name
        self._tags = standard_tags(
            environment=args.get("environment"), owner=args.get("owner"), extra=args.get("tags")
        )
        self._child = pulumi.ResourceOptions(parent=self)

        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=settings.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**self._tags, "Name": name},
            opts=self._child,
        )
        self.vpc_id = self.vpc.id
        self.vpc_cidr_block = self.vpc.cidr_block
        self._lock_down_defaults()

        self.availability_zones = _resolve_zones(settings, self._child)
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
        self.flow_log_group_name = self._create_flow_logs(settings) if settings.flow_logs else None
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
            opts=self._child,
        )
        aws.ec2.DefaultNetworkAcl(
            f"{self._name}-default-nacl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            ingress=[],
            egress=[],
            tags=self._tagged("default-nacl"),
            # Our subnets move to the tier ACLs; the provider would otherwise fight over them.
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(ignore_changes=["subnetIds"])
            ),
        )
        aws.ec2.DefaultRouteTable(
            f"{self._name}-default-rt",
            default_route_table_id=self.vpc.default_route_table_id,
            routes=[],
            tags=self._tagged("default-rt"),
            opts=self._child,
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
                opts=self._child,
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
                opts=self._child,
            )

    def _create_routes(
        self, settings: _Settings, subnets: Mapping[Tier, Sequence[aws.ec2.Subnet]]
    ) -> list[aws.ec2.RouteTable]:
        self.nat_gateway_ids = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        if "public" in subnets:
            igw = aws.ec2.InternetGateway(
                f"{self._name}-igw", vpc_id=self.vpc.id, tags=self._tagged("igw"), opts=self._child
            )
            public_rt = self._route_table("public")
            internet = aws.ec2.Route(
                f"{self._name}-public-internet",
                route_table_id=public_rt.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=self._child,
            )
            self._associate(public_rt, subnets["public"], internet)
            nat_count = {"none": 0, "single": 1, "per_az": settings.az_count}[settings.nat_strategy]
            for index in range(nat_count):
                eip = aws.ec2.Eip(
                    f"{self._name}-nat-{index}",
                    domain="vpc",
                    tags=self._tagged(f"nat-{index}"),
                    opts=self._child,
                )
                nat = aws.ec2.NatGateway(
                    f"{self._name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=subnets["public"][index].id,
                    tags=self._tagged(f"nat-{index}"),
                    opts=pulumi.ResourceOptions.merge(
                        self._child, pulumi.ResourceOptions(depends_on=[igw])
                    ),
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
                    opts=self._child,
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
            opts=self._child,
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
                opts=self._child,
            )
            self._routing[subnet_name] = [association, *routes]

    def _ready(self, subnet: aws.ec2.Subnet) -> pulumi.Output[str]:
        """The subnet's id, carrying a dependency on its route table association and routes."""
        waits = self._routing[subnet._name]  # noqa: SLF001 - Pulumi's logical name
        return pulumi.Output.all(subnet.id, *[r.urn for r in waits]).apply(lambda v: str(v[0]))

    def _create_flow_logs(self, settings: _Settings) -> pulumi.Output[str]:
        group = aws.cloudwatch.LogGroup(
            f"{self._name}-flow-logs",
            retention_in_days=settings.flow_log_retention_days,
            kms_key_id=settings.flow_log_kms_key_arn,
            tags=self._tagged("flow-logs"),
            opts=self._child,
        )
        account_id = aws.get_caller_identity_output().account_id
        role = aws.iam.Role(
            f"{self._name}-flow-logs",
            # Only flow logs acting for this account may assume the role.
            assume_role_policy=service_trust_policy(
                "vpc-flow-logs.amazonaws.com", account_id=account_id
            ),
            tags=self._tagged("flow-logs"),
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{self._name}-flow-logs",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [group.arn, pulumi.Output.concat(group.arn, ":*")],
                        }
                    ],
                }
            ),
            opts=self._child,
        )
        aws.ec2.FlowLog(
            f"{self._name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._tagged("flow-logs"),
            opts=self._child,
        )
        return group.name

    def _create_endpoints(
        self, settings: _Settings, private_tables: Sequence[aws.ec2.RouteTable]
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
                opts=self._child,
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
                opts=self._child,
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
                    opts=self._child,
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
                    opts=self._child,
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


def _resolve_zones(settings: _Settings, opts: pulumi.ResourceOptions) -> pulumi.Output[list[str]]:
    if settings.availability_zones:
        return pulumi.Output.from_input(list(settings.availability_zones))
    wanted = settings.az_count

    def first(names: Sequence[str]) -> list[str]:
        if len(names) < wanted:
            raise InvalidArgument(
                f"{COMPONENT}: az_count={wanted} is invalid here; the region has only "
                f"{len(names)} available zones ({', '.join(names)}).",
                "az_count",
            )
        return sorted(names)[:wanted]

    zones = aws.get_availability_zones_output(
        # No state filter: a zone that is impaired during an update must not shift the list
        # (and with it replace every later slot's subnets). Local and Wavelength zones are
        # opt-in; subnets there would break the tier model.
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOptions(parent=opts.parent),
    )
    return zones.names.apply(first)


class _Settings:
    """Validated, defaulted ``NetworkArgs``."""

    def __init__(
        self,
        *,
        cidr_block: str,
        az_count: int,
        availability_zones: Sequence[str],
        tiers: tuple[Tier, ...],
        nat_strategy: str,
        cidrs: dict[Tier, list[str]],
        flow_logs: bool,
        flow_log_retention_days: int,
        flow_log_kms_key_arn: pulumi.Input[str] | None,
        vpc_endpoints: Sequence[str],
    ) -> None:
        self.cidr_block = cidr_block
        self.az_count = az_count
        self.availability_zones = availability_zones
        self.tiers = tiers
        self.nat_strategy = nat_strategy
        self.cidrs = cidrs
        self.flow_logs = flow_logs
        self.flow_log_retention_days = flow_log_retention_days
        self.flow_log_kms_key_arn = flow_log_kms_key_arn
        self.vpc_endpoints = vpc_endpoints

    @classmethod
    def from_args(cls, name: str, args: NetworkArgs) -> _Settings:
        def bad(field: str, value: object, expected: str) -> ValueError:
            return invalid(COMPONENT, name, field, value, expected)

        cidr_block = args.get("cidr_block", DEFAULT_CIDR_BLOCK)
        try:
            vpc = ipaddress.IPv4Network(cidr_block)
        except (ValueError, TypeError):
            raise bad("cidr_block", cidr_block, "an IPv4 network such as 10.0.0.0/16") from None
        if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
            raise bad("cidr_block", cidr_block, f"a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} network")

        zones = list(args.get("availability_zones", []))
        if zones:
            if len(set(zones)) != len(zones):
                raise bad("availability_zones", zones, "distinct zone names")
            require_range(
                COMPONENT, name, "len(availability_zones)", len(zones), MIN_AZ_COUNT, MAX_AZ_COUNT
            )
            if "az_count" in args and args["az_count"] != len(zones):
                raise bad(
                    "az_count",
                    args["az_count"],
                    f"{len(zones)}, the number of availability_zones given",
                )
        az_count = require_range(
            COMPONENT,
            name,
            "az_count",
            args.get("az_count", len(zones) or DEFAULT_AZ_COUNT),
            MIN_AZ_COUNT,
            MAX_AZ_COUNT,
        )

        public = args.get("public_subnets", True)
        nat_strategy = require_choice(
            COMPONENT,
            name,
            "nat_strategy",
            args.get("nat_strategy", DEFAULT_NAT_STRATEGY),
            NAT_STRATEGIES,
        )
        if not public and nat_strategy != "none":
            raise bad(
                "nat_strategy",
                nat_strategy,
                "'none' when public_subnets is False (NAT gateways live in public subnets)",
            )
        tiers: tuple[Tier, ...] = TIERS if public else ("private", "isolated")

        if "subnet_cidrs" in args:
            cidrs = _check_explicit_plan(name, vpc, tiers, az_count, args["subnet_cidrs"])
        else:
            cidrs = plan_subnet_cidrs(cidr_block, az_count)
            if not public:
                cidrs["public"] = []

        endpoints = list(args.get("vpc_endpoints", DEFAULT_VPC_ENDPOINTS))
        known = GATEWAY_ENDPOINTS + INTERFACE_ENDPOINTS
        for endpoint in endpoints:
            require_choice(COMPONENT, name, "vpc_endpoints", endpoint, known)
        if len(set(endpoints)) != len(endpoints):
            raise bad("vpc_endpoints", endpoints, "each endpoint at most once")

        retention = require_log_retention(
            COMPONENT,
            name,
            "flow_log_retention_days",
            args.get("flow_log_retention_days", DEFAULT_FLOW_LOG_RETENTION_DAYS),
        )
        return cls(
            cidr_block=str(vpc),
            az_count=az_count,
            availability_zones=zones,
            tiers=tiers,
            nat_strategy=nat_strategy,
            cidrs=cidrs,
            flow_logs=args.get("flow_logs", True),
            flow_log_retention_days=retention,
            flow_log_kms_key_arn=args.get("flow_log_kms_key_arn"),
            vpc_endpoints=endpoints,
        )


def _check_explicit_plan(
    name: str,
    vpc: ipaddress.IPv4Network,
    tiers: tuple[Tier, ...],
    az_count: int,
    plan: SubnetCidrs,
) -> dict[Tier, list[str]]:
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    cidrs: dict[Tier, list[str]] = {"public": [], "private": [], "isolated": []}
    for tier in TIERS:
        values = list(plan.get(tier, []))
        field = f"subnet_cidrs.{tier}"
        expected_count = az_count if tier in tiers else 0
        if len(values) != expected_count:
            raise invalid(
                COMPONENT, name, field, values, f"{expected_count} CIDRs, one per availability zone"
            )
        for index, value in enumerate(values):
            where = f"{field}[{index}]"
            try:
                network = ipaddress.IPv4Network(value)
            except (ValueError, TypeError):
                raise invalid(COMPONENT, name, where, value, "an IPv4 network") from None
            if not network.subnet_of(vpc):
                raise invalid(COMPONENT, name, where, value, f"a network inside {vpc}")
            for other_where, other in seen:
                if network.overlaps(other):
                    raise invalid(
                        COMPONENT,
                        name,
                        where,
                        value,
                        f"a network not overlapping {other_where}={str(other)!r}",
                    )
            seen.append((where, network))
            cidrs[tier].append(str(network))
    return cidrs
