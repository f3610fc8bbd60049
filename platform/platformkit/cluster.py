"""``Cluster``: an ECS Fargate cluster behind a hardened, internet-facing load balancer."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from platformkit.log_bucket import (
    LogBucket,
    create_log_bucket,
    log_access,
    server_access_log_writers,
)
from platformkit.network_ref import HasNetworkRef, NetworkRef, as_network_ref
from platformkit.tags import standard_tags
from platformkit.validation import (
    invalid,
    require_choice,
    require_log_retention,
    require_range,
)

COMPONENT = "Cluster"

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
"""Capacity providers a strategy may name (Fargate only: no EC2 instances to patch)."""
MAX_CAPACITY_WEIGHT = 1000
MAX_CAPACITY_BASE = 100_000
CONTAINER_INSIGHTS_MODES = ("enabled", "enhanced", "disabled")
DEFAULT_CONTAINER_INSIGHTS = "enabled"

TLS_POLICIES = ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06")
"""Listener security policies ``Cluster`` accepts: TLS 1.3 with 1.2 fallback, or TLS 1.3 only."""
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
ACCESS_LOG_PREFIX = "alb"
"""Key prefix of the access logs in the bucket (AWS appends ``AWSLogs/<account>/...``)."""
SERVER_ACCESS_LOG_PREFIX = "s3-access-logs/"
"""Key prefix of the access log bucket's own S3 server access logs, in their own bucket."""
MIN_WAF_RATE_LIMIT = 10
MAX_WAF_RATE_LIMIT = 2_000_000_000
MIN_PUBLIC_SUBNETS = 2
DEFAULT_WAF_LOG_RETENTION_DAYS = 365
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF delivers only to log groups whose name starts with this."""
WAF_REDACTED_HEADERS = ("authorization",)
"""Headers kept out of WAF logs: the service's API keys travel as ``Authorization: Bearer``."""

WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
"""AWS managed rule groups in the web ACL, in evaluation order (cheapest verdicts first)."""

_COUNT_ONLY_RULES: dict[str, tuple[str, ...]] = {
    # The common rule set blocks request bodies over 8 KB; API batch endpoints (order ingest
    # takes up to 1000 orders) legitimately send more. Counting keeps the signal in metrics;
    # the application enforces its own body limit.
    "AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),
    # Anonymizers (Tor, VPNs, proxies) are blocked; requests from cloud hosting ranges are only
    # counted: the API's clients (ingest jobs, partner integrations) run on such hosts.
    "AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",),
}
"""Rules of a managed group switched from block to count, per group."""

ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

ELB_ACCOUNT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
        "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
        "ap-southeast-2", "ap-southeast-3", "ca-central-1", "eu-central-1", "eu-west-1",
        "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1", "me-south-1", "sa-east-1",
        "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
    }
)  # fmt: skip
"""Regions opened before August 2022, whose ALB access logs come from a regional ELB account."""

_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
_ALB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_BUCKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_AUTONAME_SUFFIX = 8  # Pulumi appends "-" and 7 random characters to a logical name.
_MAX_ALB_NAME = 32
_MAX_BUCKET_NAME = 63
_MAX_POLICY_NAME = 255  # CloudWatch Logs resource policy names


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


@dataclass(frozen=True)
class _Settings:
    """``ClusterArgs`` validated, with defaults applied."""

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

    @classmethod
    def from_args(cls, name: str, args: ClusterArgs) -> _Settings:
        unknown = sorted(set(args) - set(ClusterArgs.__annotations__))
        if unknown:
            raise invalid(
                COMPONENT, name, "args", unknown, "only " + ", ".join(ClusterArgs.__annotations__)
            )
        if "network" not in args:
            raise invalid(COMPONENT, name, "network", None, "a Network or a NetworkRef")
        network = as_network_ref(args["network"])
        public = network.public_subnet_ids
        # An output's length is unknown until deployment, when AWS checks it.
        if isinstance(public, Sequence) and len(public) < MIN_PUBLIC_SUBNETS:
            raise invalid(
                COMPONENT,
                name,
                "network.public_subnet_ids",
                list(public),
                f"at least {MIN_PUBLIC_SUBNETS} public subnets in different AZs "
                "(an application load balancer spans two or more)",
            )
        certificate_arn = args.get("certificate_arn")
        if isinstance(certificate_arn, str) and not _ACM_ARN.match(certificate_arn):
            raise invalid(
                COMPONENT,
                name,
                "certificate_arn",
                certificate_arn,
                "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
            )
        waf = bool(args.get("waf", True))
        waf_rate_limit = args.get("waf_rate_limit")
        if waf_rate_limit is not None:
            require_range(
                COMPONENT,
                name,
                "waf_rate_limit",
                waf_rate_limit,
                MIN_WAF_RATE_LIMIT,
                MAX_WAF_RATE_LIMIT,
            )
            if not waf:
                raise invalid(
                    COMPONENT, name, "waf_rate_limit", waf_rate_limit, "None when waf=False"
                )
        waf_logging = bool(args.get("waf_logging", waf))
        if waf_logging and not waf:
            raise invalid(COMPONENT, name, "waf_logging", True, "False when waf=False")
        return cls(
            network=network,
            capacity_provider_strategy=_capacity_strategy(
                name, args.get("capacity_provider_strategy", DEFAULT_CAPACITY_PROVIDER_STRATEGY)
            ),
            container_insights=require_choice(
                COMPONENT,
                name,
                "container_insights",
                args.get("container_insights", DEFAULT_CONTAINER_INSIGHTS),
                CONTAINER_INSIGHTS_MODES,
            ),
            certificate_arn=certificate_arn,
            tls_policy=require_choice(
                COMPONENT,
                name,
                "tls_policy",
                args.get("tls_policy", DEFAULT_TLS_POLICY),
                TLS_POLICIES,
            ),
            ingress_cidrs=_ingress_cidrs(name, args.get("ingress_cidrs", DEFAULT_INGRESS_CIDRS)),
            target_port_range=_port_range(
                name, args.get("target_port_range", DEFAULT_TARGET_PORT_RANGE)
            ),
            idle_timeout=require_range(
                COMPONENT,
                name,
                "idle_timeout",
                args.get("idle_timeout", DEFAULT_IDLE_TIMEOUT),
                1,
                MAX_IDLE_TIMEOUT,
            ),
            deletion_protection=bool(args.get("deletion_protection", True)),
            access_logs=bool(args.get("access_logs", True)),
            access_log_retention_days=require_range(
                COMPONENT,
                name,
                "access_log_retention_days",
                args.get("access_log_retention_days", DEFAULT_ACCESS_LOG_RETENTION_DAYS),
                1,
                MAX_ACCESS_LOG_RETENTION_DAYS,
            ),
            waf=waf,
            waf_rate_limit=waf_rate_limit,
            waf_logging=waf_logging,
            waf_log_retention_days=require_log_retention(
                COMPONENT,
                name,
                "waf_log_retention_days",
                args.get("waf_log_retention_days", DEFAULT_WAF_LOG_RETENTION_DAYS),
            ),
            log_kms_key_arn=args.get("log_kms_key_arn"),
        )


def _capacity_strategy(
    name: str, strategy: Sequence[CapacityProviderStrategy]
) -> list[CapacityProviderStrategy]:
    field = "capacity_provider_strategy"
    if isinstance(strategy, str | bytes | Mapping) or not strategy:
        raise invalid(COMPONENT, name, field, strategy, "a non-empty list of strategy entries")
    normalized: list[CapacityProviderStrategy] = []
    seen: set[str] = set()
    for index, entry in enumerate(strategy):
        at = f"{field}[{index}]"
        provider = require_choice(
            COMPONENT,
            name,
            f"{at}.capacity_provider",
            entry.get("capacity_provider", ""),
            CAPACITY_PROVIDERS,
        )
        if provider in seen:
            raise invalid(
                COMPONENT, name, f"{at}.capacity_provider", provider, "each provider once"
            )
        seen.add(provider)
        weight = require_range(
            COMPONENT, name, f"{at}.weight", entry.get("weight", -1), 0, MAX_CAPACITY_WEIGHT
        )
        base = require_range(
            COMPONENT, name, f"{at}.base", entry.get("base", 0), 0, MAX_CAPACITY_BASE
        )
        normalized.append({"capacity_provider": provider, "weight": weight, "base": base})
    if all(entry["weight"] == 0 for entry in normalized):
        raise invalid(
            COMPONENT, name, field, list(strategy), "at least one entry with a weight above 0"
        )
    if sum(1 for entry in normalized if entry.get("base", 0) > 0) > 1:
        # ECS rejects a strategy where more than one provider has a base.
        raise invalid(COMPONENT, name, field, list(strategy), "a base above 0 on one entry at most")
    return normalized


def _ingress_cidrs(name: str, cidrs: Sequence[str]) -> list[str]:
    field = "ingress_cidrs"
    if isinstance(cidrs, str) or not cidrs:
        raise invalid(COMPONENT, name, field, cidrs, 'a non-empty list such as ["0.0.0.0/0"]')
    result: list[str] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except (TypeError, ValueError):
            raise invalid(
                COMPONENT,
                name,
                field,
                cidr,
                "IPv4 CIDRs in network form such as 203.0.113.0/24 (no host bits set)",
            ) from None
        if network.version != 4:
            # The load balancer is IPv4-only; an IPv6 rule would admit nothing.
            raise invalid(COMPONENT, name, field, cidr, "IPv4 CIDRs (the load balancer is IPv4)")
        if str(network) in result:
            raise invalid(COMPONENT, name, field, cidr, "each CIDR once")
        result.append(str(network))
    return result


def _port_range(name: str, ports: tuple[int, int]) -> tuple[int, int]:
    field = "target_port_range"
    if not isinstance(ports, tuple | list) or len(ports) != 2:
        raise invalid(COMPONENT, name, field, ports, "a (from_port, to_port) pair")
    low = require_range(COMPONENT, name, f"{field}[0]", ports[0], 1, 65535)
    high = require_range(COMPONENT, name, f"{field}[1]", ports[1], 1, 65535)
    if low > high:
        raise invalid(COMPONENT, name, field, ports, "from_port <= to_port")
    return low, high


def _physical_name(logical: str, max_len: int, allowed: re.Pattern[str]) -> str | None:
    """Return ``None`` when Pulumi's autoname of ``logical`` fits AWS's naming rules.

    Otherwise return a stable name that does: ALB names stop at 32 characters and S3 bucket
    names at 63, lowercase only. The hash of project, stack and logical name keeps two stacks
    (or two long names sharing a prefix) from colliding in one account.
    """
    if allowed.match(logical) and len(logical) + _AUTONAME_SUFFIX <= max_len:
        if not logical.lower().startswith("internal-"):
            return None
    return _stable_name(logical, max_len)


def _stable_name(logical: str, max_len: int) -> str:
    """``<logical, lowercased>-<7 hex digits of project/stack/logical>``, at most ``max_len``.

    For names AWS requires and Pulumi cannot autoname, unique per stack in one account.
    """
    digest = hashlib.sha256(
        f"{pulumi.get_project()}/{pulumi.get_stack()}/{logical}".encode()
    ).hexdigest()[:7]
    stem = re.sub(r"[^a-z0-9]+", "-", logical.lower()).strip("-")
    stem = stem.removeprefix("internal-")[: max_len - _AUTONAME_SUFFIX].rstrip("-")
    return f"{stem}-{digest}" if stem else f"pk-{digest}"


def _metric_name(*parts: str) -> str:
    # WAF metric names allow letters, digits and a few punctuation marks only.
    return re.sub(r"[^A-Za-z0-9_\-]", "-", "-".join(parts))[:128]


class Cluster(pulumi.ComponentResource):
    """An ECS cluster for Fargate services and the load balancer in front of them.

    - ECS cluster with Container Insights; FARGATE and FARGATE_SPOT attached, with a default
      strategy services inherit;
    - internet-facing ALB in the public subnets: invalid headers dropped, defensive desync
      mitigation, deletion protection, access logs to an encrypted, private, versioned bucket
      whose own access is logged to a second bucket;
    - its security group admits ``ingress_cidrs`` on the listener ports only and reaches the
      VPC CIDR on ``target_port_range`` only (services add ingress from it);
    - with a certificate, HTTPS on 443 with a TLS 1.3 policy and HTTP on 80 redirecting to it;
    - optionally a WAFv2 web ACL with AWS managed rules, logging its requests to CloudWatch.

    Services attach listener rules to ``listener``; its default action answers 404.
    """

    network: NetworkRef
    """The network the cluster runs in."""
    cluster: aws.ecs.Cluster
    cluster_name: pulumi.Output[str]
    """Name of the ECS cluster."""
    cluster_arn: pulumi.Output[str]
    """ARN of the ECS cluster."""
    capacity_provider_strategy: list[CapacityProviderStrategy]
    """The default capacity provider strategy (plain values, each with ``base``)."""
    load_balancer: aws.lb.LoadBalancer
    load_balancer_arn: pulumi.Output[str]
    """ARN of the load balancer."""
    load_balancer_arn_suffix: pulumi.Output[str]
    """ARN suffix of the load balancer, the ``LoadBalancer`` CloudWatch metric dimension."""
    dns_name: pulumi.Output[str]
    """DNS name of the load balancer (point a CNAME or alias record at it)."""
    url: pulumi.Output[str]
    """``https://<dns_name>`` with a certificate, else ``http://<dns_name>``."""
    alb_security_group_id: pulumi.Output[str]
    """Security group of the load balancer; services admit traffic from it."""
    listener: aws.lb.Listener
    """The listener services attach rules to: HTTPS with a certificate, else HTTP."""
    listener_arn: pulumi.Output[str]
    """ARN of ``listener``."""
    https: bool
    """Whether the load balancer serves HTTPS."""
    access_log_bucket_name: pulumi.Output[str] | None
    """Bucket receiving the access logs, when ``access_logs`` is on."""
    web_acl_arn: pulumi.Output[str] | None
    """ARN of the WAFv2 web ACL, when ``waf`` is on."""

    def __init__(
        self,
        name: str,
        args: ClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        settings = _Settings.from_args(name, args)
        super().__init__("platformkit:index:Cluster", name, {}, opts)
        self._name = name
        self._tags = standard_tags(
            environment=args.get("environment"), owner=args.get("owner"), extra=args.get("tags")
        )
        self._child = pulumi.ResourceOptions(parent=self)
        self.network = settings.network
        self.https = settings.certificate_arn is not None
        self.capacity_provider_strategy = settings.capacity_provider_strategy

        self.cluster = self._create_ecs_cluster(settings)
        self.cluster_name = self.cluster.name
        self.cluster_arn = self.cluster.arn

        security_group = self._create_security_group(settings)
        self.alb_security_group_id = security_group.id

        log_bucket = self._create_access_log_bucket(settings) if settings.access_logs else None
        self.access_log_bucket_name = log_bucket.bucket.bucket if log_bucket else None
        self.load_balancer = self._create_load_balancer(settings, security_group, log_bucket)
        self.load_balancer_arn = self.load_balancer.arn
        self.load_balancer_arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        scheme = "https" if self.https else "http"
        self.url = self.dns_name.apply(lambda dns: f"{scheme}://{dns}")

        self.listener = self._create_listeners(settings)
        self.listener_arn = self.listener.arn
        self.web_acl_arn = self._create_web_acl(settings) if settings.waf else None

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "loadBalancerArn": self.load_balancer_arn,
                "loadBalancerArnSuffix": self.load_balancer_arn_suffix,
                "dnsName": self.dns_name,
                "url": self.url,
                "albSecurityGroupId": self.alb_security_group_id,
                "listenerArn": self.listener_arn,
                "accessLogBucketName": self.access_log_bucket_name,
                "webAclArn": self.web_acl_arn,
            }
        )

    @property
    def ref(self) -> ClusterRef:
        """This cluster as a ``ClusterRef``, e.g. to export for a service in another stack."""
        return ClusterRef(
            network=self.network,
            cluster_name=self.cluster_name,
            cluster_arn=self.cluster_arn,
            listener_arn=self.listener_arn,
            alb_security_group_id=self.alb_security_group_id,
            load_balancer_arn_suffix=self.load_balancer_arn_suffix,
            url=self.url,
            https=self.https,
            capacity_provider_strategy=self.capacity_provider_strategy,
        )

    # --- ECS ----------------------------------------------------------------------------

    def _create_ecs_cluster(self, settings: _Settings) -> aws.ecs.Cluster:
        cluster = aws.ecs.Cluster(
            f"{self._name}-ecs",
            settings=[{"name": "containerInsights", "value": settings.container_insights}],
            # ECS Exec sessions are logged through each task's awslogs configuration.
            configuration={"execute_command_configuration": {"logging": "DEFAULT"}},
            tags=self._tags,
            opts=self._child,
        )
        aws.ecs.ClusterCapacityProviders(
            f"{self._name}-capacity",
            cluster_name=cluster.name,
            # Both providers are attached so a service may override the default strategy.
            capacity_providers=list(CAPACITY_PROVIDERS),
            default_capacity_provider_strategies=[
                {
                    "capacity_provider": entry["capacity_provider"],
                    "weight": entry["weight"],
                    "base": entry.get("base", 0),
                }
                for entry in settings.capacity_provider_strategy
            ],
            opts=self._child,
        )
        return cluster

    # --- load balancer ------------------------------------------------------------------

    def _listener_ports(self) -> list[int]:
        return [HTTP_PORT, HTTPS_PORT] if self.https else [HTTP_PORT]

    def _create_security_group(self, settings: _Settings) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{self._name}-alb-sg",
            description=f"Load balancer of cluster {self._name}: listener ports in, VPC out",
            vpc_id=settings.network.vpc_id,
            # Rules are standalone resources (below): mixing inline rules with them makes the
            # provider fight over the group's rule set.
            tags={**self._tags, "Name": f"{self._name}-alb"},
            opts=self._child,
        )
        for port in self._listener_ports():
            for cidr in settings.ingress_cidrs:
                aws.vpc.SecurityGroupIngressRule(
                    f"{self._name}-alb-in-{port}-{cidr.replace('/', '-')}",
                    security_group_id=group.id,
                    description=f"Clients to the load balancer listener on TCP {port}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    tags=self._tags,
                    opts=self._child,
                )
        low, high = settings.target_port_range
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-alb-out-vpc",
            security_group_id=group.id,
            description=f"Load balancer to targets and health checks in the VPC, TCP {low}-{high}",
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            cidr_ipv4=settings.network.vpc_cidr_block,
            tags=self._tags,
            opts=self._child,
        )
        return group

    def _create_access_log_bucket(self, settings: _Settings) -> LogBucket:
        """Create the access log bucket and the bucket that receives its own access logs."""
        logical = f"{self._name}-alb-logs"
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        logs = create_log_bucket(
            logical,
            parent=self,
            bucket_name=_physical_name(logical, _MAX_BUCKET_NAME, _BUCKET_NAME),
            tags=self._tags,
            prefix=f"{ACCESS_LOG_PREFIX}/",
            expire_days=settings.access_log_retention_days,
            # Without deletion protection (dev) the stack must be destroyable with logs in it.
            force_destroy=not settings.deletion_protection,
            writers=lambda bucket_arn: self._log_delivery_grants(bucket_arn, account_id, region),
        )
        # Who read or deleted the access logs is itself logged, in a separate bucket: S3
        # server access logs cannot go to the bucket they describe.
        access_logical = f"{logical}-access"
        access = create_log_bucket(
            access_logical,
            parent=self,
            bucket_name=_physical_name(access_logical, _MAX_BUCKET_NAME, _BUCKET_NAME),
            tags=self._tags,
            prefix=SERVER_ACCESS_LOG_PREFIX,
            expire_days=settings.access_log_retention_days,
            force_destroy=not settings.deletion_protection,
            writers=server_access_log_writers(
                logs.bucket.arn.apply(lambda arn: [arn]), account_id, SERVER_ACCESS_LOG_PREFIX
            ),
        )
        log_access(f"{logical}-access-logging", logs, access, parent=self)
        return logs

    def _log_delivery_grants(
        self, bucket_arn: str, account_id: pulumi.Output[str], region: pulumi.Output[str]
    ) -> pulumi.Output[list[Any]]:
        # AWS documents two grants: regions available before August 2022 deliver from a
        # regional ELB account, newer regions from the log-delivery service principal. The
        # provider knows the ELB accounts of the older regions only, so it is asked there only.
        def statements(values: list[Any]) -> list[dict[str, Any]]:
            region_name, account = values
            logs = f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account}/*"
            grants: list[dict[str, Any]] = []
            if region_name in ELB_ACCOUNT_REGIONS:
                elb_account = aws.elb.get_service_account(
                    region=region_name, opts=pulumi.InvokeOptions(parent=self)
                ).arn
                grants.append(
                    {
                        "Sid": "ElbAccountWritesAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb_account},
                        "Action": "s3:PutObject",
                        "Resource": logs,
                    }
                )
            grants.append(
                {
                    "Sid": "ElbLogDeliveryWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": logs,
                }
            )
            return grants

        return pulumi.Output.all(region, account_id).apply(statements)

    def _create_load_balancer(
        self,
        settings: _Settings,
        security_group: aws.ec2.SecurityGroup,
        log_bucket: LogBucket | None,
    ) -> aws.lb.LoadBalancer:
        logical = f"{self._name}-alb"
        access_logs: aws.lb.LoadBalancerAccessLogsArgsDict | None = None
        depends_on: list[pulumi.Resource] = []
        if log_bucket is not None:
            access_logs = {
                "bucket": log_bucket.bucket.bucket,
                "prefix": ACCESS_LOG_PREFIX,
                "enabled": True,
            }
            # AWS checks it can write a test object when logging is turned on.
            depends_on = log_bucket.prerequisites
        return aws.lb.LoadBalancer(
            logical,
            name=_physical_name(logical, _MAX_ALB_NAME, _ALB_NAME),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=settings.network.public_subnet_ids,
            security_groups=[security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=settings.deletion_protection,
            idle_timeout=settings.idle_timeout,
            access_logs=access_logs,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

    def _create_listeners(self, settings: _Settings) -> aws.lb.Listener:
        not_found: aws.lb.ListenerDefaultActionArgsDict = {
            "type": "fixed-response",
            "fixed_response": {
                "content_type": "text/plain",
                "message_body": "Not Found",
                "status_code": "404",
            },
        }
        if settings.certificate_arn is None:
            return aws.lb.Listener(
                f"{self._name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[not_found],
                tags=self._tags,
                opts=self._child,
            )
        https = aws.lb.Listener(
            f"{self._name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=settings.tls_policy,
            certificate_arn=settings.certificate_arn,
            default_actions=[not_found],
            tags=self._tags,
            opts=self._child,
        )
        aws.lb.Listener(
            f"{self._name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {
                        "protocol": "HTTPS",
                        "port": str(HTTPS_PORT),
                        "status_code": "HTTP_301",
                    },
                }
            ],
            tags=self._tags,
            opts=self._child,
        )
        return https

    # --- WAF ----------------------------------------------------------------------------

    def _create_web_acl(self, settings: _Settings) -> pulumi.Output[str]:
        rules: list[aws.wafv2.WebAclRuleArgsDict] = []
        if settings.waf_rate_limit is not None:
            rules.append(
                {
                    "name": "rate-limit-per-ip",
                    "priority": 0,
                    "action": {"block": {}},
                    "statement": {
                        "rate_based_statement": {
                            "limit": settings.waf_rate_limit,
                            "aggregate_key_type": "IP",
                        }
                    },
                    "visibility_config": self._visibility(self._name, "rate-limit"),
                }
            )
        for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=1):
            managed: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {
                "vendor_name": "AWS",
                "name": group,
            }
            if group in _COUNT_ONLY_RULES:
                managed["rule_action_overrides"] = [
                    {"name": rule, "action_to_use": {"count": {}}}
                    for rule in _COUNT_ONLY_RULES[group]
                ]
            rules.append(
                {
                    "name": group,
                    "priority": priority,
                    # "none" keeps the group's own block actions (vs "count", monitor only).
                    "override_action": {"none": {}},
                    "statement": {"managed_rule_group_statement": managed},
                    "visibility_config": self._visibility(self._name, group),
                }
            )
        acl = aws.wafv2.WebAcl(
            f"{self._name}-waf",
            description=f"Protects the load balancer of cluster {self._name}",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=self._visibility(self._name, "web-acl"),
            tags=self._tags,
            opts=self._child,
        )
        aws.wafv2.WebAclAssociation(
            f"{self._name}-waf-association",
            resource_arn=self.load_balancer.arn,
            web_acl_arn=acl.arn,
            opts=self._child,
        )
        if settings.waf_logging:
            self._create_waf_logging(settings, acl)
        return acl.arn

    def _create_waf_logging(self, settings: _Settings, acl: aws.wafv2.WebAcl) -> None:
        group = aws.cloudwatch.LogGroup(
            f"{self._name}-waf-logs",
            name_prefix=f"{WAF_LOG_GROUP_PREFIX}{self._name}-",
            retention_in_days=settings.waf_log_retention_days,
            kms_key_id=settings.log_kms_key_arn,
            tags=self._tags,
            opts=self._child,
        )
        # Left alone, WAF grants itself delivery by rewriting one account-wide resource policy
        # (AWSWAF-LOGS), which outgrows its size limit once many web ACLs log; a policy per
        # group, scoped to this account, avoids that.
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        delivery = aws.cloudwatch.LogResourcePolicy(
            f"{self._name}-waf-logs-delivery",
            policy_name=_stable_name(f"{self._name}-waf-logs-delivery", _MAX_POLICY_NAME),
            policy_document=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "WafDeliversLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": "delivery.logs.amazonaws.com"},
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": pulumi.Output.concat(group.arn, ":*"),
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                        }
                    ],
                }
            ),
            opts=self._child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{self._name}-waf-logging",
            resource_arn=acl.arn,
            log_destination_configs=[group.arn],
            redacted_fields=[
                {"single_header": {"name": header}} for header in WAF_REDACTED_HEADERS
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )

    @staticmethod
    def _visibility(*metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
        return {
            "cloudwatch_metrics_enabled": True,
            "metric_name": _metric_name(*metric),
            "sampled_requests_enabled": True,
        }
