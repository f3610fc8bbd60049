"""The components' inputs as other Pulumi languages see them (``platformkit:index:<Name>``).

Each ``*Args`` mirrors the Python library's own ``*Args``, field for field and docstring for
docstring (a test keeps them identical), except where a Python type has no schema form:

- a ``Network``, ``Cluster`` or ``Database`` *object* is passed as its ref, a plain object
  type (``NetworkRef``, ``ClusterRef``, ``DatabaseRef``): a consumer passes the component's
  ``ref`` output, or a ref built from another stack's outputs;
- a tuple becomes a list and a ``Literal`` a string (the library validates the values);
- ``WebService.build`` is left out: its Docker context is a path relative to the *Python*
  program, and this provider runs in its own directory, so consumers build images with their
  language's Docker provider and pass ``image``, which is therefore required here.

``ADAPTED`` and ``OMITTED`` list these differences (docs/components.md explains them).

No ``from __future__ import annotations`` here: the analyzer reads the annotations at run time.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi

from platformkit.provider.schema_types import (
    CapacityProviderStrategy,
    ClusterRef,
    DatabaseRef,
    NetworkRef,
    SubnetCidrs,
)

ADAPTED: Mapping[str, frozenset[str]] = {
    "ClusterArgs": frozenset({"network", "target_port_range"}),
    "DatabaseArgs": frozenset({"network"}),
    "WebServiceArgs": frozenset({"cluster", "database", "image", "cpu_architecture"}),
}
"""Fields whose type (and so docstring) differs from the library's, per ``*Args``."""

OMITTED: Mapping[str, Mapping[str, str]] = {
    "WebServiceArgs": {
        "build": "its Docker context is relative to a Python program; build with your "
        "language's Docker provider and pass `image`",
        "repository_force_delete": "only meaningful with `build`",
    },
}
"""Library fields the component package does not offer, per ``*Args``, with the reason."""


class NetworkArgs(TypedDict):
    """Arguments of ``Network``. Every field is optional.

    Fields that decide how many resources exist (AZ count, NAT strategy, endpoints) are plain
    values, not ``pulumi.Input``: a program cannot create "an output's worth" of subnets."""

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


class ClusterArgs(TypedDict):
    """Arguments of ``Cluster``. Only ``network`` is required.

    Fields that decide which resources exist (``certificate_arn`` presence, ``waf``,
    ``access_logs``, the CIDR list) are plain values, not outputs."""

    network: pulumi.Input[NetworkRef]
    """The VPC to run in: a ``NetworkRef`` (a ``Network``'s ``ref`` output, or one built from
    an existing VPC's ids). The load balancer goes into its public subnets (at least two, in
    different AZs). Required; no default."""
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
    target_port_range: NotRequired[Sequence[int]]
    """Inclusive TCP port range the load balancer may reach inside the VPC (the services'
    container ports and health checks), as ``[first, last]``; the only egress it gets.
    Defaults to `[1024, 65535]`."""
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


class DatabaseArgs(TypedDict):
    """Arguments of ``Database``. Plain (non-``Input``) fields are validated at construction."""

    network: pulumi.Input[NetworkRef]
    """Network to run in: a ``NetworkRef`` (a ``Network``'s ``ref`` output, or one built from an
    existing VPC's ids). The instance goes into its isolated subnets (at least two, one per
    availability zone). Required."""
    engine: NotRequired[str]
    """``"mysql"`` or ``"postgres"``. Defaults to `"mysql"`."""
    engine_version: NotRequired[str]
    """Major engine version: ``"8.0"`` or ``"8.4"`` for MySQL, ``"15"``, ``"16"`` or ``"17"`` for
    PostgreSQL. RDS picks the minor version and automatic minor version upgrades keep it
    current. Defaults to `"8.0"` for MySQL and `"16"` for PostgreSQL."""
    instance_class: NotRequired[str]
    """RDS instance class such as ``db.m7g.large``. Defaults to `"db.t4g.medium"` (the smallest
    Graviton class supporting every default, Performance Insights included)."""
    database_name: NotRequired[str]
    """Name of the database created with the instance: letters, digits and underscores, starting
    with a letter, at most 64 characters (MySQL) or 63 (PostgreSQL). Defaults to `"analytics"`."""
    master_username: NotRequired[str]
    """Master user name (same characters as ``database_name``; at most 16 characters on MySQL;
    not a reserved name such as ``admin``, ``root``, ``postgres`` or ``rdsadmin``). Its password
    is generated by RDS and kept in Secrets Manager. Defaults to `"analytics_admin"`."""
    allowed_security_group_ids: NotRequired[Sequence[pulumi.Input[str]]]
    """Security groups admitted on the engine port (more can be added with
    ``Database.allow_from``). Defaults to none: nobody can connect until a service is wired."""
    port: NotRequired[int]
    """Port the engine listens on, 1150 to 65535. Defaults to `3306` (MySQL) or `5432`
    (PostgreSQL)."""
    multi_az: NotRequired[bool]
    """Keep a synchronous standby in a second availability zone. Defaults to `True`."""
    backup_retention_days: NotRequired[int]
    """Days of automated backups and point-in-time recovery, 0 to 35 (0 turns automated backups
    off and rules out read replicas). Defaults to `7`."""
    backup_window: NotRequired[str]
    """Daily UTC backup window ``hh:mm-hh:mm`` (at least 30 minutes, not overlapping the
    maintenance window). Defaults to a window RDS picks in the region."""
    maintenance_window: NotRequired[str]
    """Weekly UTC maintenance window ``ddd:hh:mm-ddd:hh:mm``, e.g. ``"sun:05:00-sun:06:00"``.
    Defaults to a window RDS picks in the region."""
    deletion_protection: NotRequired[bool]
    """Refuse to delete the instance until this is turned off. A final snapshot is taken on
    deletion either way. Defaults to `True`."""
    identifier: NotRequired[str]
    """DB instance identifier (lowercase letters, digits and hyphens, at most 63 characters); it
    also names the log groups and the final snapshot (``<identifier>-final-<8 hex digits>``, the
    suffix random per instance lifetime). Defaults to ``"<name>-<stack>"`` made valid
    (lowercased, other characters replaced by hyphens)."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key for storage, Performance Insights and (unless
    ``master_user_secret_kms_key_arn`` is given) the master user secret. Defaults to the
    AWS-managed keys (``aws/rds``, ``aws/secretsmanager``)."""
    master_user_secret_kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key for the RDS-managed master user secret. Defaults to ``kms_key_arn`` when given,
    else the AWS-managed ``aws/secretsmanager`` key."""
    allocated_storage: NotRequired[int]
    """Initial gp3 storage in GiB, 20 to 65536. Defaults to `20`."""
    max_allocated_storage: NotRequired[int]
    """Ceiling for storage autoscaling in GiB, at least ``allocated_storage``. Defaults to
    `100`."""
    performance_insights_kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key encrypting Performance Insights data. RDS cannot change this key
    once Performance Insights has used one, so set it before first enabling Performance
    Insights. Defaults to ``kms_key_arn`` when given, else the AWS-managed ``aws/rds`` key."""
    performance_insights: NotRequired[bool]
    """Turn on Performance Insights (7 days retention, encrypted with
    ``performance_insights_kms_key_arn`` or ``kms_key_arn`` if given).
    Not available on db.t2/t3/t4g micro and small classes for MySQL: set it to ``False`` there.
    Defaults to `True`."""
    monitoring_interval: NotRequired[int]
    """Enhanced monitoring granularity in seconds: 0 (off), 1, 5, 10, 15, 30 or 60. A monitoring
    role is created when it is not 0. Defaults to `60`."""
    log_exports: NotRequired[Sequence[str]]
    """Logs exported to CloudWatch, each into a log group this component creates: MySQL
    ``error``, ``general``, ``slowquery``; PostgreSQL ``postgresql``, ``upgrade``.
    Defaults to `["error", "slowquery"]` (MySQL) or `["postgresql", "upgrade"]`
    (PostgreSQL)."""
    log_retention_days: NotRequired[int]
    """Retention of the exported log groups in days, one of the values CloudWatch Logs accepts
    (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, ..., 3653).
    Defaults to `365`."""
    log_kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key encrypting the exported log groups (its key policy must admit the CloudWatch
    Logs service). Defaults to none (CloudWatch Logs' own encryption)."""
    iam_auth: NotRequired[bool]
    """Allow IAM database authentication besides passwords. Defaults to `True`."""
    apply_immediately: NotRequired[bool]
    """Apply modifications now instead of in the next maintenance window. Defaults to
    `False`."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to `"platform-team"`."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags for every resource, merged over the standard ones. Defaults to none."""


class WebServiceArgs(TypedDict):
    """Arguments of ``WebService``. Sizes and counts are plain values: they are validated."""

    cluster: pulumi.Input[ClusterRef]
    """The cluster to run on, as a ``ClusterRef`` (a ``Cluster``'s ``ref`` output, or one built
    from another stack's outputs); its ALB listener routes to the service. Required."""
    image: pulumi.Input[str]
    """URI of a prebuilt image (pin a digest); build it with your language's Docker provider.
    Required."""
    image_repository_arn: NotRequired[pulumi.Input[str]]
    """ARN of the private ECR repository holding ``image``, so the execution role may pull
    from it. Only with ``image``. Defaults to none (a public image needs no permission)."""
    container_port: NotRequired[int]
    """Port the container listens on (1-65535). Defaults to ``8080``."""
    cpu: NotRequired[int]
    """Task CPU units, a Fargate size (256, 512, 1024, ...). Defaults to ``512``."""
    memory: NotRequired[int]
    """Task memory in MiB, valid for ``cpu`` on Fargate. Defaults to ``1024``."""
    cpu_architecture: NotRequired[str]
    """CPU architecture of the task: ``"X86_64"`` or ``"ARM64"``. Defaults to ``"X86_64"``."""
    user: NotRequired[str]
    """User (``uid`` or ``uid:gid``) the container runs as; never root. Defaults to
    ``"10001"``, the non-root user of the service image."""
    desired_count: NotRequired[int]
    """Tasks at creation; autoscaling owns the count afterwards. Defaults to ``2``."""
    min_count: NotRequired[int]
    """Autoscaling minimum number of tasks. Defaults to ``2``."""
    max_count: NotRequired[int]
    """Autoscaling maximum number of tasks. Defaults to ``10``."""
    cpu_target: NotRequired[float]
    """Average CPU utilisation (percent, 1-100) autoscaling keeps. Defaults to ``60``."""
    requests_per_target: NotRequired[int]
    """ALB requests per task per minute autoscaling keeps. Defaults to ``1000``."""
    health_check_path: NotRequired[str]
    """HTTP path the target group (and the default container health check) probes.
    Defaults to ``"/healthz"``."""
    health_check_command: NotRequired[Sequence[str]]
    """Container health check command (``["CMD", ...]`` or ``["CMD-SHELL", "..."]``).
    Defaults to a curl-free ``python -c`` request to ``health_check_path`` on the port: set it
    for an image without Python."""
    health_check_grace_period_seconds: NotRequired[int]
    """Seconds ECS ignores load balancer health checks after a task starts (0-3600; also the
    container health check's start period, capped at 300). Defaults to ``60``."""
    deregistration_delay: NotRequired[int]
    """Seconds the target group drains a stopping task (0-3600). Defaults to ``30``."""
    path_patterns: NotRequired[Sequence[str]]
    """Listener rule path patterns routed to the service. Defaults to ``["/*"]``."""
    host_headers: NotRequired[Sequence[str]]
    """Listener rule host headers routed to the service. Defaults to none (any host)."""
    listener_rule_priority: NotRequired[int]
    """Priority of the listener rule (1-50000, unique per listener). Defaults to ``100``."""
    database: NotRequired[pulumi.Input[DatabaseRef]]
    """A database to wire, as a ``DatabaseRef`` (a ``Database``'s ``ref`` output): network
    access, ``DB_*`` variables and the master secret. Defaults to none."""
    environment_variables: NotRequired[Mapping[str, pulumi.Input[str]]]
    """Plain environment variables; secret-looking names are rejected (use ``secrets``).
    Defaults to none."""
    secrets: NotRequired[Mapping[str, pulumi.Input[str]]]
    """Environment variables read from Secrets Manager or SSM Parameter Store: name → ARN
    (a Secrets Manager ARN may end in ``:json-key::``). Defaults to none."""
    secrets_kms_key_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Customer managed KMS keys encrypting ``secrets``; the execution role may decrypt with
    them. Defaults to none (AWS managed keys need no grant)."""
    task_role_statements: NotRequired[Sequence[Mapping[str, Any]]]
    """Extra IAM policy statements (JSON form) for the task role; ``*`` actions are rejected.
    Defaults to none: the application gets no AWS permissions."""
    alarm_email: NotRequired[str]
    """E-mail address subscribed to the alarm topic. Defaults to none (no subscription)."""
    alarm_5xx_percent: NotRequired[float]
    """Target 5xx responses, as a percentage of requests, that raise an alarm. Defaults to ``5``."""
    alarm_p99_latency_seconds: NotRequired[float]
    """p99 target response time (seconds) that raises an alarm. Defaults to ``2``."""
    alarm_cpu_percent: NotRequired[float]
    """Average service CPU (percent) that raises an alarm. Defaults to ``85``."""
    log_retention_days: NotRequired[int]
    """Days CloudWatch keeps container logs; one of CloudWatch's allowed values.
    Defaults to ``365``."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to ``platform-team``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags merged over the standard ones on every resource. Defaults to none."""


class ScheduledTaskArgs(TypedDict):
    """Arguments of ``ScheduledTask``."""

    cluster_arn: pulumi.Input[str]
    """ARN of the ECS cluster to run the task on. Required."""
    task_definition_arn: pulumi.Input[str]
    """ARN of the task definition (a revision) to run, e.g. a ``WebService``'s
    ``task_definition_arn``. Required."""
    container_name: str
    """Container of the task definition whose command is replaced. Required."""
    command: Sequence[str]
    """The command to run instead of the image's, as an argument list. Required."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets for the task's network interface (private ones: no public IP is assigned).
    Required."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Security groups of the task (those letting it reach what the command needs). Required."""
    task_role_arn: pulumi.Input[str]
    """The task definition's task role, which the schedule must be allowed to pass. Required."""
    execution_role_arn: pulumi.Input[str]
    """The task definition's execution role, which the schedule must be allowed to pass.
    Required."""
    schedule_expression: NotRequired[str]
    """When to run: ``cron(...)``, ``rate(...)`` or ``at(...)`` in EventBridge Scheduler's
    syntax. Defaults to ``cron(0 3 * * ? *)`` (03:00 every day)."""
    schedule_timezone: NotRequired[str]
    """IANA time zone of ``schedule_expression``. Defaults to ``UTC``."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed KMS key encrypting the schedule's target input (the command); the
    scheduler's role may decrypt with it. Defaults to none: an AWS-owned key."""
    retry_attempts: NotRequired[int]
    """Times a failed ``RunTask`` call (not a failed command) is retried, 0-185. Defaults to
    ``2``."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to ``platform-team``."""
