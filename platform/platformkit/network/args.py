"""``Network``'s arguments and the constants (defaults, ranges, tables) they are checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, NotRequired, TypedDict

import pulumi

from platformkit.validation import IntRange, OneOf

COMPONENT = "Network"

DEFAULT_CIDR_BLOCK = "10.0.0.0/16"
DEFAULT_AZ_COUNT = 3
MIN_AZ_COUNT = 2
MAX_AZ_COUNT = 6
DEFAULT_NAT_STRATEGY = "per_az"
NAT_STRATEGIES = ("none", "single", "per_az")
AZ_COUNT = IntRange(MIN_AZ_COUNT, MAX_AZ_COUNT)
"""Availability zones a network may span (the stack's ``azCount`` is checked against it)."""
NAT_STRATEGY = OneOf(NAT_STRATEGIES)
"""NAT strategies (the stack's ``natStrategy`` is checked against it)."""
DEFAULT_FLOW_LOG_RETENTION_DAYS = 365
DEFAULT_VPC_ENDPOINTS: tuple[str, ...] = ("s3",)
GATEWAY_ENDPOINTS = ("s3",)
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
"""VPC endpoints ``Network`` can create: S3 is a free gateway endpoint; the others are
interface endpoints (billed per AZ-hour) that let private tasks pull images, ship logs and
read secrets without a NAT gateway."""
VPC_ENDPOINT = OneOf(GATEWAY_ENDPOINTS + INTERFACE_ENDPOINTS)
"""VPC endpoint names (each of the stack's ``vpcEndpoints`` is checked against it)."""

MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 20

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
