"""``WebService``'s arguments and the defaults, ranges and tables they are checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict

import pulumi

from platformkit.cluster.args import ClusterRef, HasClusterRef
from platformkit.database.args import DatabaseRef, HasDatabaseRef
from platformkit.validation import IntRange, OneOf

COMPONENT = "WebService"
TYPE_TOKEN = "platformkit:index:WebService"

CONTAINER_NAME = "app"
"""Name of the single container in the task definition (targets and logs refer to it)."""
DEFAULT_CONTAINER_PORT = 8080
DEFAULT_CPU = 512
DEFAULT_MEMORY = 1024
DEFAULT_CPU_ARCHITECTURE = "X86_64"
CPU_ARCHITECTURES = ("X86_64", "ARM64")
CPU_ARCHITECTURE = OneOf(CPU_ARCHITECTURES)
DEFAULT_USER = "10001"
"""UID the container runs as; the service image creates this non-root user."""
DEFAULT_DESIRED_COUNT = 2
DEFAULT_MIN_COUNT = 2
DEFAULT_MAX_COUNT = 10
MAX_TASK_COUNT = 1000
TASK_COUNT = IntRange(0, MAX_TASK_COUNT)
DEFAULT_CPU_TARGET = 60.0
DEFAULT_REQUESTS_PER_TARGET = 1000
DEFAULT_HEALTH_CHECK_PATH = "/healthz"
DEFAULT_HEALTH_CHECK_GRACE_PERIOD = 60
DEFAULT_DEREGISTRATION_DELAY = 30
DEFAULT_PATH_PATTERNS = ("/*",)
DEFAULT_LISTENER_RULE_PRIORITY = 100
DEFAULT_LOG_RETENTION_DAYS = 365
DEFAULT_ALARM_5XX_PERCENT = 5.0
DEFAULT_ALARM_P99_LATENCY_SECONDS = 2.0
DEFAULT_ALARM_CPU_PERCENT = 85.0

# Fargate's valid task sizes: CPU units → allowed memory (MiB).
FARGATE_MEMORY: Mapping[int, Sequence[int]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}

FARGATE_CPU = IntRange(min(FARGATE_MEMORY), max(FARGATE_MEMORY))
"""Task CPU units from the smallest Fargate size to the largest (the stack's ``serviceCpu``)."""
FARGATE_MEMORY_MIB = IntRange(
    min(min(sizes) for sizes in FARGATE_MEMORY.values()),
    max(max(sizes) for sizes in FARGATE_MEMORY.values()),
)
"""Task memory from the smallest Fargate size to the largest (the stack's ``serviceMemory``)."""

DATABASE_ENV_NAMES = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_ENGINE", "DB_SECRET_ARN")
DATABASE_SECRET_NAMES = ("DB_USERNAME", "DB_PASSWORD")


class DockerBuild(TypedDict):
    """How to build the service image from source."""

    context: str
    """Directory of the Docker build context (relative to the Pulumi program's directory)."""
    dockerfile: NotRequired[str]
    """Path of the Dockerfile. Defaults to ``Dockerfile`` in ``context``."""
    platform: NotRequired[str]
    """Target platform, e.g. ``linux/arm64``. Defaults to the one matching ``cpu_architecture``."""


class WebServiceArgs(TypedDict):
    """Arguments of ``WebService``. Sizes and counts are plain values: they are validated."""

    cluster: ClusterRef | HasClusterRef
    """The ``Cluster`` (or a ``ClusterRef`` to one, e.g. from another stack) to run on; its ALB
    listener routes to the service. Required."""
    image: NotRequired[pulumi.Input[str]]
    """URI of a prebuilt image (pin a digest). Exclusive with ``build``. Defaults to none."""
    image_repository_arn: NotRequired[pulumi.Input[str]]
    """ARN of the private ECR repository holding ``image``, so the execution role may pull
    from it. Only with ``image``. Defaults to none (a public image needs no permission)."""
    build: NotRequired[DockerBuild]
    """Build the image from a Docker context into an ECR repository this component creates.
    Exclusive with ``image``. Defaults to none."""
    repository_force_delete: NotRequired[bool]
    """Let ``pulumi destroy`` delete the ECR repository with the images still in it (for
    disposable stacks). Only with ``build``. Defaults to ``False``: deleting a repository that
    holds images fails, so images are never lost by accident."""
    container_port: NotRequired[int]
    """Port the container listens on (1-65535). Defaults to ``8080``."""
    cpu: NotRequired[int]
    """Task CPU units, a Fargate size (256, 512, 1024, ...). Defaults to ``512``."""
    memory: NotRequired[int]
    """Task memory in MiB, valid for ``cpu`` on Fargate. Defaults to ``1024``."""
    cpu_architecture: NotRequired[Literal["X86_64", "ARM64"]]
    """CPU architecture of the task (and of a built image). Defaults to ``"X86_64"``."""
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
    database: NotRequired[DatabaseRef | HasDatabaseRef]
    """A ``Database`` (or a ``DatabaseRef`` to one) to wire: network access, ``DB_*`` variables
    and the master secret. Defaults to none."""
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
