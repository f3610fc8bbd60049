"""``NetworkArgs`` read and checked into ``NetworkSettings``, and the subnet CIDR plan."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from platformkit.network.args import (
    AZ_COUNT,
    COMPONENT,
    DEFAULT_AZ_COUNT,
    DEFAULT_CIDR_BLOCK,
    DEFAULT_FLOW_LOG_RETENTION_DAYS,
    DEFAULT_NAT_STRATEGY,
    DEFAULT_VPC_ENDPOINTS,
    MAX_VPC_PREFIX,
    MIN_VPC_PREFIX,
    NAT_STRATEGY,
    TIERS,
    VPC_ENDPOINT,
    NetworkArgs,
    SubnetCidrs,
    Tier,
)
from platformkit.tags import read_tags
from platformkit.validation import ArgumentReader

# The CIDR plan. The VPC is cut into fixed slots, one per possible AZ (up to six), so adding an
# AZ only fills the next free slot and never renumbers (hence never replaces) a subnet:
#   private tier:  the first six of the VPC's eight /(p+3) blocks (75% of the space; tasks
#                  need the addresses);
#   public tier:   slots 0-5 of the last quarter cut into /(p+6) blocks;
#   isolated tier: slots 8-13 of that same last quarter.
# For the default 10.0.0.0/16: private 10.0.0.0/19 ... 10.0.160.0/19 (8,187 hosts each),
# public 10.0.192.0/22 ... 10.0.212.0/22, isolated 10.0.224.0/22 ... 10.0.244.0/22.
_PUBLIC_SLOT_OFFSET = 0
_ISOLATED_SLOT_OFFSET = 8


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


@dataclass(frozen=True)
class NetworkSettings:
    """``NetworkArgs`` validated, with defaults applied.

    Plain values throughout, unlike STYLE.md's ``pulumi.Input`` fields: each one decides how
    many resources exist (subnets, NAT gateways, endpoints), which must be known at
    construction. ``flow_log_kms_key_arn`` alone is an input.
    """

    name: str
    cidr_block: str
    az_count: int
    availability_zones: Sequence[str]
    tiers: tuple[Tier, ...]
    nat_strategy: str
    cidrs: dict[Tier, list[str]]
    flow_logs: bool
    flow_log_retention_days: int
    flow_log_kms_key_arn: pulumi.Input[str] | None
    vpc_endpoints: Sequence[str]
    tags: dict[str, str]
    """Standard tags merged with ``tags``; every resource gets them."""


def read_settings(name: str, args: NetworkArgs) -> NetworkSettings:
    """Apply defaults and check ``args``; raise ``InvalidArgument`` on the first bad one."""
    read = ArgumentReader(COMPONENT, name, args, NetworkArgs.__annotations__)
    cidr_block = read.string("cidr_block", DEFAULT_CIDR_BLOCK)
    try:
        vpc = ipaddress.IPv4Network(cidr_block)
    except (ValueError, TypeError):
        raise read.fail("cidr_block", cidr_block, "an IPv4 network such as 10.0.0.0/16") from None
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        raise read.fail(
            "cidr_block", cidr_block, f"a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} network"
        )

    zones = read.strings("availability_zones")
    if zones:
        if len(set(zones)) != len(zones):
            raise read.fail("availability_zones", zones, "distinct zone names")
        read.check("len(availability_zones)", len(zones), AZ_COUNT)
        if read.has("az_count") and read.get("az_count") != len(zones):
            raise read.fail(
                "az_count",
                read.get("az_count"),
                f"{len(zones)}, the number of availability_zones given",
            )
    az_count = read.integer("az_count", len(zones) or DEFAULT_AZ_COUNT, AZ_COUNT)

    public = read.boolean("public_subnets", True)
    nat_strategy = read.choice("nat_strategy", DEFAULT_NAT_STRATEGY, NAT_STRATEGY)
    if not public and nat_strategy != "none":
        raise read.fail(
            "nat_strategy",
            nat_strategy,
            "'none' when public_subnets is False (NAT gateways live in public subnets)",
        )
    tiers: tuple[Tier, ...] = TIERS if public else ("private", "isolated")

    if read.has("subnet_cidrs"):
        plan = read.nested("subnet_cidrs", read.get("subnet_cidrs"), SubnetCidrs)
        cidrs = _check_explicit_plan(read, vpc, tiers, az_count, plan)
    else:
        cidrs = plan_subnet_cidrs(str(vpc), az_count)
        if not public:
            cidrs["public"] = []

    endpoints = read.strings("vpc_endpoints", DEFAULT_VPC_ENDPOINTS)
    for endpoint in endpoints:
        read.check("vpc_endpoints", endpoint, VPC_ENDPOINT)
    if len(set(endpoints)) != len(endpoints):
        raise read.fail("vpc_endpoints", endpoints, "each endpoint at most once")

    return NetworkSettings(
        name=name,
        cidr_block=str(vpc),
        az_count=az_count,
        availability_zones=zones,
        tiers=tiers,
        nat_strategy=nat_strategy,
        cidrs=cidrs,
        flow_logs=read.boolean("flow_logs", True),
        flow_log_retention_days=read.retention(
            "flow_log_retention_days", DEFAULT_FLOW_LOG_RETENTION_DAYS
        ),
        flow_log_kms_key_arn=read.string_input("flow_log_kms_key_arn"),
        vpc_endpoints=endpoints,
        tags=read_tags(read),
    )


def _check_explicit_plan(
    read: ArgumentReader,
    vpc: ipaddress.IPv4Network,
    tiers: tuple[Tier, ...],
    az_count: int,
    plan: Mapping[str, Any],
) -> dict[Tier, list[str]]:
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    cidrs: dict[Tier, list[str]] = {"public": [], "private": [], "isolated": []}
    for tier in TIERS:
        field = f"subnet_cidrs.{tier}"
        values = read.items(field, plan.get(tier, []), str)
        expected_count = az_count if tier in tiers else 0
        if len(values) != expected_count:
            raise read.fail(field, values, f"{expected_count} CIDRs, one per availability zone")
        for index, value in enumerate(values):
            where = f"{field}[{index}]"
            try:
                network = ipaddress.IPv4Network(value)
            except (ValueError, TypeError):
                raise read.fail(where, value, "an IPv4 network") from None
            if not network.subnet_of(vpc):
                raise read.fail(where, value, f"a network inside {vpc}")
            for other_where, other in seen:
                if network.overlaps(other):
                    raise read.fail(
                        where, value, f"a network not overlapping {other_where}={str(other)!r}"
                    )
            seen.append((where, network))
            cidrs[tier].append(str(network))
    return cidrs
