"""``Cluster``'s arguments, its ``ClusterRef`` and the constants they are checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, Protocol, TypedDict

import pulumi

from platformkit.network_ref import HasNetworkRef, NetworkRef
from platformkit.validation import ArgumentReader, IntRange, OneOf, resolve_ref

COMPONENT = "Cluster"

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
"""Capacity providers a strategy may name (Fargate only: no EC2 instances to patch)."""
MAX_CAPACITY_WEIGHT = 1000
MAX_CAPACITY_BASE = 100_000
CAPACITY_PROVIDER = OneOf(CAPACITY_PROVIDERS)
"""The stack's ``capacityProvider`` is checked against this."""
CONTAINER_INSIGHTS_MODES = ("enabled", "enhanced", "disabled")
CONTAINER_INSIGHTS = OneOf(CONTAINER_INSIGHTS_MODES)
DEFAULT_CONTAINER_INSIGHTS = "enabled"

TLS_POLICIES = ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06")
"""Listener security policies ``Cluster`` accepts: TLS 1.3 with 1.2 fallback, or TLS 1.3 only."""
TLS_POLICY = OneOf(TLS_POLICIES)
# TLS 1.3 preferred with TLS 1.2 (forward-secret AEAD suites only) as the fallback: AWS's own
# recommended policy. The 1.3-only policy locks out clients that still stop at TLS 1.2 (older
# JVMs, .NET Framework, embedded HTTP clients, some monitoring probes) for no gain in
# confidentiality, since the 1.2 suites kept here are all ECDHE + GCM/ChaCha.
DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

HTTP_PORT = 80
HTTPS_PORT = 443
DEFAULT_INGRESS_CIDRS: tuple[str, ...] = ("0.0.0.0/0",)
DEFAULT_TARGET_PORT_RANGE = (1024, 65535)
"""Ports the load balancer may reach in the VPC (task ports and health checks)."""
DEFAULT_IDLE_TIMEOUT = 60
MAX_IDLE_TIMEOUT = 4000
DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90
MAX_ACCESS_LOG_RETENTION_DAYS = 3650
MIN_WAF_RATE_LIMIT = 10
MAX_WAF_RATE_LIMIT = 2_000_000_000
MIN_PUBLIC_SUBNETS = 2
IDLE_TIMEOUT = IntRange(1, MAX_IDLE_TIMEOUT)
ACCESS_LOG_RETENTION_DAYS = IntRange(1, MAX_ACCESS_LOG_RETENTION_DAYS)
WAF_RATE_LIMIT = IntRange(MIN_WAF_RATE_LIMIT, MAX_WAF_RATE_LIMIT)
PORT = IntRange(1, 65535)
DEFAULT_WAF_LOG_RETENTION_DAYS = 365


class CapacityProviderStrategy(TypedDict):
    """One entry of an ECS capacity provider strategy."""

    capacity_provider: str
    """``FARGATE`` or ``FARGATE_SPOT``."""
    weight: int
    """Relative share of tasks placed on this provider after ``base`` is met, 0 to 1000."""
    base: NotRequired[int]
    """Tasks always placed on this provider first (only one entry may set it above 0).
    Defaults to `0`."""


DEFAULT_CAPACITY_PROVIDER_STRATEGY: tuple[CapacityProviderStrategy, ...] = (
    {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
)


@dataclass(frozen=True)
class ClusterRef:
    """What a ``WebService`` needs of a cluster: ``Cluster(...).ref``, or built by hand from
    another stack's outputs to run a service on a cluster that stack owns. Any field may be an
    output (as a reference arriving from another stack or Pulumi language is).
    """

    network: NetworkRef
    """The network the cluster runs in (services go into its private subnets)."""
    cluster_name: pulumi.Input[str]
    """Name of the ECS cluster."""
    cluster_arn: pulumi.Input[str]
    """ARN of the ECS cluster."""
    listener_arn: pulumi.Input[str]
    """ARN of the listener services attach their rules to."""
    alb_security_group_id: pulumi.Input[str]
    """Security group of the load balancer; services admit traffic from it."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """ARN suffix of the load balancer, the ``LoadBalancer`` CloudWatch metric dimension."""
    url: pulumi.Input[str]
    """``https://<dns_name>`` with a certificate, else ``http://<dns_name>``."""
    https: pulumi.Input[bool] = False
    """Whether the load balancer serves HTTPS. Defaults to `False`."""
    capacity_provider_strategy: pulumi.Input[Sequence[CapacityProviderStrategy]] = field(
        default_factory=lambda: list(DEFAULT_CAPACITY_PROVIDER_STRATEGY)
    )
    """The capacity provider strategy services use. Defaults to FARGATE with a base of 1."""


class HasClusterRef(Protocol):
    """Anything exposing a ``ref`` (such as ``Cluster``) can stand in for a ``ClusterRef``."""

    @property
    def ref(self) -> ClusterRef: ...


CLUSTER_EXPECTED = "a Cluster or a ClusterRef"


def as_cluster_ref(
    cluster: ClusterRef | HasClusterRef, read: ArgumentReader | None = None
) -> ClusterRef:
    """Return ``cluster`` itself or, for a ``Cluster``, its ``ref``; anything else is an
    error on the ``cluster`` field (through ``read`` when given)."""
    return resolve_ref(cluster, ClusterRef, CLUSTER_EXPECTED, read, "cluster")


class ClusterArgs(TypedDict):
    """Arguments of ``Cluster``. Only ``network`` is required.

    Fields that decide which resources exist (``certificate_arn`` presence, ``waf``,
    ``access_logs``, the CIDR list) are plain values, not outputs.
    """

    network: NetworkRef | HasNetworkRef
    """The VPC to run in: a ``Network`` or a ``NetworkRef``. The load balancer goes into its
    public subnets (at least two, in different AZs). Required; no default."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the Pulumi stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to `platform-team`."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags for every resource. Defaults to none."""
    capacity_provider_strategy: NotRequired[Sequence[CapacityProviderStrategy]]
    """The cluster's default capacity provider strategy, e.g. one on-demand task then three
    Spot tasks for every on-demand one: ``[{"capacity_provider": "FARGATE", "weight": 1,
    "base": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 3}]``. Both providers are
    always attached. Defaults to `[{"capacity_provider": "FARGATE", "weight": 1, "base": 1}]`."""
    container_insights: NotRequired[str]
    """ECS Container Insights mode: ``enabled``, ``enhanced`` (per-task and per-container
    metrics, billed extra) or ``disabled``. Defaults to `enabled`."""
    certificate_arn: NotRequired[pulumi.Input[str]]
    """ACM certificate for an HTTPS listener on port 443; the HTTP listener on port 80 then
    only redirects (301) to HTTPS. Defaults to `None`: plain HTTP on port 80 (dev only)."""
    tls_policy: NotRequired[str]
    """Security policy of the HTTPS listener: ``ELBSecurityPolicy-TLS13-1-2-2021-06`` (TLS 1.3,
    TLS 1.2 fallback) or ``ELBSecurityPolicy-TLS13-1-3-2021-06`` (TLS 1.3 only).
    Defaults to `ELBSecurityPolicy-TLS13-1-2-2021-06`."""
    ingress_cidrs: NotRequired[Sequence[str]]
    """IPv4 networks allowed to reach the listener ports (and only those ports).
    Defaults to `["0.0.0.0/0"]`."""
    target_port_range: NotRequired[tuple[int, int]]
    """Inclusive TCP port range the load balancer may reach inside the VPC (the services'
    container ports and health checks); the only egress it gets. Defaults to `(1024, 65535)`."""
    idle_timeout: NotRequired[int]
    """Seconds a connection may stay idle, 1 to 4000. Defaults to `60`."""
    deletion_protection: NotRequired[bool]
    """Protect the load balancer from deletion; turning it off also lets ``pulumi destroy``
    empty the access log bucket. Defaults to `True`."""
    access_logs: NotRequired[bool]
    """Deliver access logs to a dedicated S3 bucket (SSE-S3 encrypted, as ALB log delivery
    requires; public access blocked, bucket-owner-enforced, TLS-only, versioned, expiring), whose
    own S3 server access logs go to a second bucket configured the same way. Defaults to
    `True`."""
    access_log_retention_days: NotRequired[int]
    """Days before access log objects expire, 1 to 3650. Defaults to `90`."""
    waf: NotRequired[bool]
    """Associate a WAFv2 web ACL with the AWS managed IP reputation, common and known bad
    inputs rule groups. Defaults to `True`."""
    waf_rate_limit: NotRequired[int]
    """Block a client IP sending more than this many requests per 5 minutes, 10 to
    2,000,000,000 (needs ``waf``). Defaults to `None` (no rate-based rule)."""
    waf_logging: NotRequired[bool]
    """Log every request the web ACL inspects to a CloudWatch log group named
    ``aws-waf-logs-<name>-...`` (the ``Authorization`` header redacted). Needs ``waf``.
    Defaults to the value of ``waf``."""
    waf_log_retention_days: NotRequired[int]
    """Retention of the WAF log group, one of the values CloudWatch Logs accepts.
    Defaults to `365`."""
    log_kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key encrypting the WAF log group (its key policy must admit the
    CloudWatch Logs service). Defaults to none (CloudWatch Logs' own encryption)."""
