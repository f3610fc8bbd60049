"""``ClusterArgs`` read and checked into ``ClusterSettings``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from platformkit.cluster.args import (
    ACCESS_LOG_RETENTION_DAYS,
    CAPACITY_PROVIDER,
    COMPONENT,
    CONTAINER_INSIGHTS,
    DEFAULT_ACCESS_LOG_RETENTION_DAYS,
    DEFAULT_CAPACITY_PROVIDER_STRATEGY,
    DEFAULT_CONTAINER_INSIGHTS,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_INGRESS_CIDRS,
    DEFAULT_TARGET_PORT_RANGE,
    DEFAULT_TLS_POLICY,
    DEFAULT_WAF_LOG_RETENTION_DAYS,
    IDLE_TIMEOUT,
    MAX_CAPACITY_BASE,
    MAX_CAPACITY_WEIGHT,
    MIN_PUBLIC_SUBNETS,
    PORT,
    TLS_POLICY,
    WAF_RATE_LIMIT,
    CapacityProviderStrategy,
    ClusterArgs,
)
from platformkit.network_ref import NETWORK_EXPECTED, NetworkRef, as_network_ref
from platformkit.tags import read_tags
from platformkit.validation import ArgumentReader, IntRange, is_ref

_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")


@dataclass(frozen=True)
class ClusterSettings:
    """``ClusterArgs`` validated, with defaults applied.

    Plain values, not ``pulumi.Input`` (STYLE.md's default): they decide which resources exist
    (HTTPS listener, WAF, log buckets, one rule per CIDR). The KMS key and certificate ARNs
    may be outputs.
    """

    network: NetworkRef
    capacity_provider_strategy: list[CapacityProviderStrategy]
    container_insights: str
    certificate_arn: pulumi.Input[str] | None
    tls_policy: str
    ingress_cidrs: list[str]
    target_port_range: tuple[int, int]
    idle_timeout: int
    deletion_protection: bool
    access_logs: bool
    access_log_retention_days: int
    waf: bool
    waf_rate_limit: int | None
    waf_logging: bool
    waf_log_retention_days: int
    log_kms_key_arn: pulumi.Input[str] | None
    tags: dict[str, str]
    """Standard tags merged with ``tags``; every resource gets them."""


def read_settings(name: str, args: ClusterArgs) -> ClusterSettings:
    """Apply defaults and check ``args``; raise ``InvalidArgument`` on the first bad one."""
    read = ArgumentReader(COMPONENT, name, args, ClusterArgs.__annotations__)
    network = as_network_ref(read.required("network", NETWORK_EXPECTED, is_ref(NetworkRef)), read)
    public = network.public_subnet_ids
    # An output's length is unknown until deployment, when AWS checks it.
    if isinstance(public, Sequence) and len(public) < MIN_PUBLIC_SUBNETS:
        raise read.fail(
            "network.public_subnet_ids",
            list(public),
            f"at least {MIN_PUBLIC_SUBNETS} public subnets in different AZs "
            "(an application load balancer spans two or more)",
        )
    certificate_arn = read.string_input("certificate_arn")
    if isinstance(certificate_arn, str) and not _ACM_ARN.match(certificate_arn):
        raise read.fail(
            "certificate_arn",
            certificate_arn,
            "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
        )
    waf = read.boolean("waf", True)
    waf_rate_limit = read.get("waf_rate_limit")
    if waf_rate_limit is not None:
        read.check("waf_rate_limit", waf_rate_limit, WAF_RATE_LIMIT)
        if not waf:
            raise read.fail("waf_rate_limit", waf_rate_limit, "None when waf=False")
    waf_logging = read.boolean("waf_logging", waf)
    if waf_logging and not waf:
        raise read.fail("waf_logging", True, "False when waf=False")
    return ClusterSettings(
        network=network,
        capacity_provider_strategy=_capacity_strategy(
            read, read.get("capacity_provider_strategy", DEFAULT_CAPACITY_PROVIDER_STRATEGY)
        ),
        container_insights=read.choice(
            "container_insights", DEFAULT_CONTAINER_INSIGHTS, CONTAINER_INSIGHTS
        ),
        certificate_arn=certificate_arn,
        tls_policy=read.choice("tls_policy", DEFAULT_TLS_POLICY, TLS_POLICY),
        ingress_cidrs=_ingress_cidrs(read, read.get("ingress_cidrs", DEFAULT_INGRESS_CIDRS)),
        target_port_range=_port_range(
            read, read.get("target_port_range", DEFAULT_TARGET_PORT_RANGE)
        ),
        idle_timeout=read.integer("idle_timeout", DEFAULT_IDLE_TIMEOUT, IDLE_TIMEOUT),
        deletion_protection=read.boolean("deletion_protection", True),
        access_logs=read.boolean("access_logs", True),
        access_log_retention_days=read.integer(
            "access_log_retention_days",
            DEFAULT_ACCESS_LOG_RETENTION_DAYS,
            ACCESS_LOG_RETENTION_DAYS,
        ),
        waf=waf,
        waf_rate_limit=waf_rate_limit,
        waf_logging=waf_logging,
        waf_log_retention_days=read.retention(
            "waf_log_retention_days", DEFAULT_WAF_LOG_RETENTION_DAYS
        ),
        log_kms_key_arn=read.string_input("log_kms_key_arn"),
        tags=read_tags(read),
    )


def _capacity_strategy(
    read: ArgumentReader, strategy: Sequence[CapacityProviderStrategy]
) -> list[CapacityProviderStrategy]:
    field = "capacity_provider_strategy"
    if isinstance(strategy, str | bytes | Mapping) or not strategy:
        raise read.fail(field, strategy, "a non-empty list of strategy entries")
    normalized: list[CapacityProviderStrategy] = []
    seen: set[str] = set()
    for index, item in enumerate(read.items(field, strategy, Mapping)):
        at = f"{field}[{index}]"
        entry = read.nested(at, item, CapacityProviderStrategy)
        provider: str = read.check(
            f"{at}.capacity_provider", entry.get("capacity_provider", ""), CAPACITY_PROVIDER
        )
        if provider in seen:
            raise read.fail(f"{at}.capacity_provider", provider, "each provider once")
        seen.add(provider)
        weight: int = read.check(
            f"{at}.weight", entry.get("weight", -1), IntRange(0, MAX_CAPACITY_WEIGHT)
        )
        base: int = read.check(f"{at}.base", entry.get("base", 0), IntRange(0, MAX_CAPACITY_BASE))
        normalized.append({"capacity_provider": provider, "weight": weight, "base": base})
    if all(entry["weight"] == 0 for entry in normalized):
        raise read.fail(field, list(strategy), "at least one entry with a weight above 0")
    if sum(1 for entry in normalized if entry.get("base", 0) > 0) > 1:
        # ECS rejects a strategy where more than one provider has a base.
        raise read.fail(field, list(strategy), "a base above 0 on one entry at most")
    return normalized


def _ingress_cidrs(read: ArgumentReader, cidrs: Sequence[str]) -> list[str]:
    field = "ingress_cidrs"
    if isinstance(cidrs, str) or not cidrs:
        raise read.fail(field, cidrs, 'a non-empty list such as ["0.0.0.0/0"]')
    result: list[str] = []
    # An integer is no CIDR (``ip_network(5)`` would read it as 0.0.0.5/32).
    for cidr in read.items(field, cidrs, str):
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except (TypeError, ValueError):
            raise read.fail(
                field, cidr, "IPv4 CIDRs in network form such as 203.0.113.0/24 (no host bits set)"
            ) from None
        if network.version != 4:
            # The load balancer is IPv4-only; an IPv6 rule would admit nothing.
            raise read.fail(field, cidr, "IPv4 CIDRs (the load balancer is IPv4)")
        if str(network) in result:
            raise read.fail(field, cidr, "each CIDR once")
        result.append(str(network))
    return result


def _port_range(read: ArgumentReader, ports: tuple[int, int]) -> tuple[int, int]:
    field = "target_port_range"
    if not isinstance(ports, tuple | list) or len(ports) != 2:
        raise read.fail(field, ports, "a (from_port, to_port) pair")
    low: int = read.check(f"{field}[0]", ports[0], PORT)
    high: int = read.check(f"{field}[1]", ports[1], PORT)
    if low > high:
        raise read.fail(field, ports, "from_port <= to_port")
    return low, high
