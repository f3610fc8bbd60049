"""Network rules: VPC flow logs, default security group, public IPs, security group exposure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from .core import (
    Rule,
    as_int,
    as_list,
    as_mapping,
    depends_on,
    is_true,
    resources_of,
    setting,
    string_list,
)

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
ALL_PROTOCOLS = frozenset({"-1", "all"})
DEFAULT_ALLOWED_WORLD_PORTS = [80, 443]
"""The ALB's listener ports: the only ports the internet may reach."""
DEFAULT_RESTRICTED_PORTS = [22, 3389, 3306, 5432, 1433, 1521, 6379, 27017, 5000, 8080]
"""Administration, database and application ports that must never face the internet."""
PULUMI_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi"


@dataclass(frozen=True)
class Permission:
    """One ingress or egress permission, normalised across the three ways to declare it."""

    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...]
    description: str | None

    @property
    def is_world(self) -> bool:
        return any(cidr in WORLD_CIDRS for cidr in self.cidrs)

    @property
    def all_traffic(self) -> bool:
        return self.protocol in ALL_PROTOCOLS

    def covers(self, port: int) -> bool:
        return self.all_traffic or self.from_port <= port <= self.to_port

    def describe(self) -> str:
        ports = "all ports" if self.all_traffic else f"ports {self.from_port}-{self.to_port}"
        if not self.all_traffic and self.from_port == self.to_port:
            ports = f"port {self.from_port}"
        return f"{self.protocol} {ports} from {', '.join(self.cidrs)}"


def _permission(block: Mapping[str, Any], *, vpc_style: bool) -> Permission:
    if vpc_style:
        protocol = str(block.get("ipProtocol") or "-1").lower()
        cidrs = [c for c in (block.get("cidrIpv4"), block.get("cidrIpv6")) if isinstance(c, str)]
    else:
        protocol = str(block.get("protocol") or "-1").lower()
        cidrs = string_list(block.get("cidrBlocks")) + string_list(block.get("ipv6CidrBlocks"))
    from_port = as_int(block.get("fromPort"))
    to_port = as_int(block.get("toPort"))
    description = block.get("description")
    return Permission(
        protocol=protocol,
        from_port=0 if from_port is None or from_port < 0 else from_port,
        to_port=65535 if to_port is None or to_port < 0 else to_port,
        cidrs=tuple(cidrs),
        description=description if isinstance(description, str) else None,
    )


def permissions(
    resource_type: str, props: Mapping[str, Any], direction: str
) -> Iterator[Permission]:
    """Every ``direction`` (``ingress``/``egress``) permission a resource declares."""
    if resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for block in as_list(props.get(direction)):
            mapping = as_mapping(block)
            if mapping is not None:
                yield _permission(mapping, vpc_style=False)
    elif resource_type == SECURITY_GROUP_RULE:
        if props.get("type") == direction:
            yield _permission(props, vpc_style=False)
    elif resource_type == (INGRESS_RULE if direction == "ingress" else EGRESS_RULE):
        yield _permission(props, vpc_style=True)


def _allowed_ports(config: Mapping[str, Any]) -> set[int]:
    return {int(p) for p in setting(config, "allowedPorts", DEFAULT_ALLOWED_WORLD_PORTS)}


def validate_no_world_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """World ingress must be TCP to exactly one of the allow-listed listener ports."""
    allowed = _allowed_ports(args.get_config())
    for perm in permissions(args.resource_type, args.props, "ingress"):
        if not perm.is_world:
            continue
        if any(perm.covers(port) for port in DEFAULT_RESTRICTED_PORTS):
            # ec2-no-public-database-or-app-ports reports these: one finding per problem.
            continue
        single_tcp_port = perm.protocol in ("tcp", "6") and perm.from_port == perm.to_port
        if not (single_tcp_port and perm.from_port in allowed):
            report(
                f"Ingress {perm.describe()} is open to the internet; only TCP ports "
                f"{sorted(allowed)} (the load balancer's listeners) may be.",
                None,
            )


def validate_no_public_sensitive_ports(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """Database, admin and app ports are never reachable from 0.0.0.0/0 or ::/0."""
    restricted = [
        int(p) for p in setting(args.get_config(), "restrictedPorts", DEFAULT_RESTRICTED_PORTS)
    ]
    for perm in permissions(args.resource_type, args.props, "ingress"):
        if not perm.is_world:
            continue
        exposed = [port for port in restricted if perm.covers(port)]
        if exposed:
            report(
                f"Ingress {perm.describe()} exposes sensitive port(s) {exposed} to the internet.",
                None,
            )


def validate_no_unrestricted_egress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for perm in permissions(args.resource_type, args.props, "egress"):
        if perm.is_world and perm.all_traffic:
            report(f"Egress {perm.describe()} allows all traffic to anywhere.", None)


def validate_descriptions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SECURITY_GROUP:
        description = args.props.get("description")
        if not description or description == PULUMI_DEFAULT_SG_DESCRIPTION:
            report("The security group has no description of its purpose.", None)
    for direction in ("ingress", "egress"):
        for perm in permissions(args.resource_type, args.props, direction):
            if not perm.description:
                report(f"The {direction} permission {perm.describe()} has no description.", None)


def validate_default_sg_closed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for direction in ("ingress", "egress"):
        if as_list(args.props.get(direction)):
            report(
                f"The VPC's default security group declares {direction} rules; adopt it "
                "with no rules so nothing can use it by accident.",
                None,
            )


def validate_subnet_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_true(args.props.get("mapPublicIpOnLaunch")):
        report("mapPublicIpOnLaunch is true: every ENI launched here gets a public IP.", None)


def validate_instance_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == INSTANCE and is_true(args.props.get("associatePublicIpAddress")):
        report("associatePublicIpAddress is true.", None)
    if args.resource_type == LAUNCH_TEMPLATE:
        for nic in as_list(args.props.get("networkInterfaces")):
            mapping = as_mapping(nic)
            if mapping is not None and is_true(mapping.get("associatePublicIpAddress")):
                report("A network interface sets associatePublicIpAddress to true.", None)


def validate_no_default_vpc(args: ResourceValidationArgs, report: ReportViolation) -> None:
    report("The stack manages the account's default VPC; build a dedicated VPC.", None)


def validate_vpc_flow_logs(args: StackValidationArgs, report: ReportViolation) -> None:
    flow_logs = list(resources_of(args, FLOW_LOG))
    for vpc in resources_of(args, VPC):
        if not any(depends_on(flow_log, vpc, "vpcId") for flow_log in flow_logs):
            report(f"VPC '{vpc.name}' has no flow log attached (vpcId).", vpc.urn)


_SG_TYPES = (SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, DEFAULT_SECURITY_GROUP)
_PORT_LIST_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "integer", "minimum": 0, "maximum": 65535},
    "uniqueItems": True,
}

RULES: tuple[Rule, ...] = (
    Rule(
        name="vpc-flow-logs-enabled",
        description="Require a flow log on every VPC.",
        area="network",
        kind="stack",
        severity=Severity.MEDIUM,
        remediation=(
            "Create an aws.ec2.FlowLog with vpc_id set to the VPC (platformkit Network does so "
            "when flow logs are enabled), delivering to a CloudWatch log group with retention."
        ),
        validate=validate_vpc_flow_logs,
        resource_types=(VPC, FLOW_LOG),
        checkov=("CKV2_AWS_11",),
        cdk_nag=("AwsSolutions-VPC7",),
    ),
    Rule(
        name="ec2-default-security-group-closed",
        description="Keep the VPC default security group free of rules.",
        area="network",
        severity=Severity.MEDIUM,
        remediation="Adopt the group with aws.ec2.DefaultSecurityGroup and no ingress/egress.",
        validate=validate_default_sg_closed,
        resource_types=(DEFAULT_SECURITY_GROUP,),
        checkov=("CKV2_AWS_12",),
        cdk_nag=("NIST.800.53.R5-VPCDefaultSecurityGroupClosed",),
    ),
    Rule(
        name="ec2-subnet-no-public-ip-on-launch",
        description="Forbid subnets that auto-assign public IPs on launch.",
        area="network",
        severity=Severity.MEDIUM,
        remediation=(
            "Set map_public_ip_on_launch=False; only the load balancer and NAT gateways need "
            "public addresses, and they get them explicitly."
        ),
        validate=validate_subnet_no_public_ip,
        resource_types=(SUBNET,),
        checkov=("CKV_AWS_130",),
        cdk_nag=("NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled",),
    ),
    Rule(
        name="ec2-instance-no-public-ip",
        description="Forbid EC2 instances and launch templates that request a public IP.",
        area="network",
        severity=Severity.HIGH,
        remediation="Launch into private subnets and set associate_public_ip_address=False.",
        validate=validate_instance_no_public_ip,
        resource_types=(INSTANCE, LAUNCH_TEMPLATE),
        checkov=("CKV_AWS_88",),
        cdk_nag=("NIST.800.53.R5-EC2InstanceNoPublicIp",),
    ),
    Rule(
        name="ec2-no-default-vpc",
        description="Forbid managing the account's default VPC.",
        area="network",
        severity=Severity.LOW,
        remediation="Use platformkit Network (a dedicated VPC) instead of aws.ec2.DefaultVpc.",
        validate=validate_no_default_vpc,
        resource_types=(DEFAULT_VPC,),
        checkov=("CKV_AWS_148",),
    ),
    Rule(
        name="ec2-no-world-ingress",
        description="Restrict internet ingress (0.0.0.0/0, ::/0) to the ALB listener ports.",
        area="network",
        severity=Severity.HIGH,
        remediation=(
            "Replace the CIDR with referenced_security_group_id (aws.vpc.SecurityGroupIngressRule) "
            "or a private CIDR; only the ALB security group may admit the internet, on TCP 80/443."
        ),
        validate=validate_no_world_ingress,
        resource_types=_SG_TYPES,
        checkov=("CKV_AWS_260", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277"),
        cdk_nag=("AwsSolutions-EC23",),
        config={
            "allowedPorts": {
                **_PORT_LIST_SCHEMA,
                "default": DEFAULT_ALLOWED_WORLD_PORTS,
                "description": "TCP ports the internet may reach (the ALB listener ports).",
            }
        },
    ),
    Rule(
        name="ec2-no-public-database-or-app-ports",
        description="Forbid internet ingress to database, administration and application ports.",
        area="network",
        severity=Severity.CRITICAL,
        remediation=(
            "Admit database and app ports only from the service or load balancer security group "
            "via referenced_security_group_id."
        ),
        validate=validate_no_public_sensitive_ports,
        resource_types=_SG_TYPES,
        checkov=("CKV_AWS_277", "CKV_AWS_24", "CKV_AWS_25"),
        cdk_nag=(
            "AwsSolutions-EC23",
            "AwsSolutions-RDS8",
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
        ),
        config={
            "restrictedPorts": {
                **_PORT_LIST_SCHEMA,
                "default": DEFAULT_RESTRICTED_PORTS,
                "description": "Ports never reachable from 0.0.0.0/0 or ::/0.",
            }
        },
    ),
    Rule(
        name="ec2-no-unrestricted-egress",
        description="Flag egress that allows all protocols to 0.0.0.0/0 or ::/0.",
        area="network",
        severity=Severity.LOW,
        remediation=(
            "Limit egress to TCP 443 (AWS APIs, image pulls via NAT) and the database port "
            "toward the database security group."
        ),
        validate=validate_no_unrestricted_egress,
        resource_types=(SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SECURITY_GROUP_RULE, EGRESS_RULE),
        checkov=("CKV_AWS_382",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    Rule(
        name="ec2-security-group-descriptions",
        description="Require descriptions on security groups and their rules.",
        area="network",
        severity=Severity.LOW,
        remediation="Set description on the group and on every ingress/egress rule.",
        validate=validate_descriptions,
        resource_types=(*_SG_TYPES, EGRESS_RULE),
        checkov=("CKV_AWS_23",),
        cdk_nag=("AwsSolutions-EC27",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
)
