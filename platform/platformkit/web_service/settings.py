"""``WebServiceArgs`` read and checked into ``WebServiceSettings``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from platformkit.cluster.args import CLUSTER_EXPECTED, ClusterRef, as_cluster_ref
from platformkit.database.args import DatabaseRef, HasDatabaseRef, as_database_ref
from platformkit.iam import arn_service
from platformkit.tags import read_tags
from platformkit.validation import ArgumentReader, IntRange, is_ref
from platformkit.web_service.args import (
    COMPONENT,
    CPU_ARCHITECTURE,
    DATABASE_ENV_NAMES,
    DATABASE_SECRET_NAMES,
    DEFAULT_ALARM_5XX_PERCENT,
    DEFAULT_ALARM_CPU_PERCENT,
    DEFAULT_ALARM_P99_LATENCY_SECONDS,
    DEFAULT_CONTAINER_PORT,
    DEFAULT_CPU,
    DEFAULT_CPU_ARCHITECTURE,
    DEFAULT_CPU_TARGET,
    DEFAULT_DEREGISTRATION_DELAY,
    DEFAULT_DESIRED_COUNT,
    DEFAULT_HEALTH_CHECK_GRACE_PERIOD,
    DEFAULT_HEALTH_CHECK_PATH,
    DEFAULT_LISTENER_RULE_PRIORITY,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MAX_COUNT,
    DEFAULT_MEMORY,
    DEFAULT_MIN_COUNT,
    DEFAULT_PATH_PATTERNS,
    DEFAULT_REQUESTS_PER_TARGET,
    DEFAULT_USER,
    FARGATE_MEMORY,
    MAX_TASK_COUNT,
    TASK_COUNT,
    DockerBuild,
    WebServiceArgs,
)
from platformkit.web_service.build_context import check_build

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_LOOKING = re.compile(
    r"PASSW(OR)?D|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)[A-Z]*KEY(_|$)", re.IGNORECASE
)
_ROOT_USERS = ("0", "root")
_SECONDS = IntRange(0, 3600)
_PERCENTAGE = "a percentage"


@dataclass(frozen=True)
class WebServiceSettings:
    """``WebServiceArgs`` validated, with defaults applied.

    Sizes, counts and thresholds are plain values, not ``pulumi.Input`` (STYLE.md's default):
    they are checked against Fargate's and the ALB's rules here, and the image source decides
    which resources exist. Image URIs, ARNs and variable values may be outputs.
    """

    cluster: ClusterRef
    database: DatabaseRef | None
    database_owner: HasDatabaseRef | None
    """The ``Database`` given, which admits the service itself; ``None`` for a bare ref."""
    image: pulumi.Input[str] | None
    image_repository_arn: pulumi.Input[str] | None
    build: DockerBuild | None
    platform: str | None
    """Target platform of ``build``."""
    repository_force_delete: bool
    container_port: int
    cpu: int
    memory: int
    cpu_architecture: str
    user: str
    desired_count: int
    min_count: int
    max_count: int
    cpu_target: float
    requests_per_target: int
    health_check_path: str
    health_check_command: list[str]
    health_check_grace_period_seconds: int
    deregistration_delay: int
    path_patterns: list[str]
    host_headers: list[str]
    listener_rule_priority: int
    environment_variables: Mapping[str, pulumi.Input[str]]
    secrets: Mapping[str, pulumi.Input[str]]
    secrets_kms_key_arns: Sequence[pulumi.Input[str]]
    task_role_statements: Sequence[Mapping[str, Any]]
    alarm_email: str | None
    alarm_5xx_percent: float
    alarm_p99_latency_seconds: float
    alarm_cpu_percent: float
    log_retention_days: int
    tags: dict[str, str]
    """Standard tags merged with ``tags``; every resource gets them."""


def read_settings(name: str, args: WebServiceArgs) -> WebServiceSettings:
    """Apply defaults and check ``args``; raise ``InvalidArgument`` on the first bad one."""
    read = ArgumentReader(COMPONENT, name, args, WebServiceArgs.__annotations__)

    def count(field: str, default: int, allowed: IntRange = TASK_COUNT) -> int:
        return read.integer(field, default, allowed)

    cluster = as_cluster_ref(read.required("cluster", CLUSTER_EXPECTED, is_ref(ClusterRef)), read)
    database_arg = read.get("database")
    database = None
    if database_arg is not None:
        database = as_database_ref(database_arg, read)
    # ``image=None`` counts as no image (a stack passing an optional setting through).
    image = read.string_input("image")
    has_image = image is not None
    build = read.get("build")
    if build is not None:
        build = read.nested("build", build, DockerBuild)
    if has_image == (build is not None):
        raise read.fail(
            "image/build",
            "both" if has_image else "neither",
            "exactly one: `image` (a URI) or `build` (a Docker context)",
        )
    if read.has("repository_force_delete") and build is None:
        raise read.fail(
            "repository_force_delete", read.get("repository_force_delete"), "only with `build`"
        )
    image_repository_arn = read.string_input("image_repository_arn")
    if read.has("image_repository_arn") and not has_image:
        raise read.fail(
            "image_repository_arn", read.get("image_repository_arn"), "only with `image`"
        )

    container_port = count("container_port", DEFAULT_CONTAINER_PORT, IntRange(1, 65535))
    cpu = read.get("cpu", DEFAULT_CPU)
    if isinstance(cpu, bool) or cpu not in FARGATE_MEMORY:
        raise read.fail("cpu", cpu, "a Fargate size: " + ", ".join(map(str, FARGATE_MEMORY)))
    memory = read.get("memory", DEFAULT_MEMORY)
    allowed = FARGATE_MEMORY[cpu]
    if not isinstance(memory, int) or memory not in allowed:
        raise read.fail("memory", memory, f"{_describe(allowed)} MiB for cpu={cpu} on Fargate")
    cpu_architecture = read.choice("cpu_architecture", DEFAULT_CPU_ARCHITECTURE, CPU_ARCHITECTURE)
    user = read.string("user", DEFAULT_USER)
    if not user or user.split(":")[0] in _ROOT_USERS:
        raise read.fail("user", user, "a non-root user such as '10001' or '10001:10001'")

    min_count = count("min_count", DEFAULT_MIN_COUNT)
    max_count = count("max_count", DEFAULT_MAX_COUNT, IntRange(1, MAX_TASK_COUNT))
    if min_count > max_count:
        raise read.fail("min_count", min_count, f"at most max_count={max_count}")
    desired_count = read.get("desired_count", DEFAULT_DESIRED_COUNT)
    if not IntRange(min_count, max_count).accepts(desired_count):
        raise read.fail(
            "desired_count",
            desired_count,
            f"an integer between min_count={min_count} and max_count={max_count}",
        )
    cpu_target = read.number("cpu_target", DEFAULT_CPU_TARGET, 1, 100, kind=_PERCENTAGE)
    requests_per_target = count(
        "requests_per_target", DEFAULT_REQUESTS_PER_TARGET, IntRange(1, 1_000_000)
    )

    health_check_path = read.string("health_check_path", DEFAULT_HEALTH_CHECK_PATH) or ""
    if not health_check_path.startswith("/") or len(health_check_path) > 1024:
        raise read.fail("health_check_path", health_check_path, "a path starting with '/'")
    health_check_command = read.strings(
        "health_check_command", _default_health_check(container_port, health_check_path)
    )
    if len(health_check_command) < 2 or health_check_command[0] not in ("CMD", "CMD-SHELL"):
        raise read.fail(
            "health_check_command",
            read.get("health_check_command"),
            '["CMD", executable, ...] or ["CMD-SHELL", "command"]',
        )
    path_patterns = read.strings("path_patterns", DEFAULT_PATH_PATTERNS)
    host_headers = read.strings("host_headers")
    values = len(path_patterns) + len(host_headers)
    if not 1 <= values <= 5:
        raise read.fail(
            "path_patterns/host_headers",
            path_patterns + host_headers,
            "1 to 5 values in all (an ALB rule limit)",
        )
    for pattern in path_patterns:
        if not pattern.startswith("/"):
            raise read.fail("path_patterns", pattern, "patterns starting with '/'")

    alarm_p99_latency_seconds = read.number(
        "alarm_p99_latency_seconds", DEFAULT_ALARM_P99_LATENCY_SECONDS, 0, above=True
    )
    email = read.string("alarm_email")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise read.fail("alarm_email", email, "an e-mail address")

    environment_variables = read.mapping("environment_variables", values=(str, pulumi.Output))
    secrets = read.mapping("secrets", values=(str, pulumi.Output))
    _check_variables(read, environment_variables, secrets)
    statements = read.items("task_role_statements", read.get("task_role_statements", ()), Mapping)
    _check_statements(read, statements)
    platform = None if build is None else check_build(read, build, cpu_architecture)

    return WebServiceSettings(
        cluster=cluster,
        database=database,
        database_owner=None if isinstance(database_arg, DatabaseRef) else database_arg,
        image=image,
        image_repository_arn=image_repository_arn,
        build=build,
        platform=platform,
        repository_force_delete=read.boolean("repository_force_delete", False),
        container_port=container_port,
        cpu=cpu,
        memory=memory,
        cpu_architecture=cpu_architecture,
        user=user,
        desired_count=desired_count,
        min_count=min_count,
        max_count=max_count,
        cpu_target=cpu_target,
        requests_per_target=requests_per_target,
        health_check_path=health_check_path,
        health_check_command=health_check_command,
        health_check_grace_period_seconds=count(
            "health_check_grace_period_seconds", DEFAULT_HEALTH_CHECK_GRACE_PERIOD, _SECONDS
        ),
        deregistration_delay=count("deregistration_delay", DEFAULT_DEREGISTRATION_DELAY, _SECONDS),
        path_patterns=path_patterns,
        host_headers=host_headers,
        listener_rule_priority=count(
            "listener_rule_priority", DEFAULT_LISTENER_RULE_PRIORITY, IntRange(1, 50000)
        ),
        environment_variables=environment_variables,
        secrets=secrets,
        secrets_kms_key_arns=read.strings("secrets_kms_key_arns", outputs=True),
        task_role_statements=list(statements),
        alarm_email=email,
        alarm_5xx_percent=read.number(
            "alarm_5xx_percent", DEFAULT_ALARM_5XX_PERCENT, 0, 100, above=True, kind=_PERCENTAGE
        ),
        alarm_p99_latency_seconds=alarm_p99_latency_seconds,
        alarm_cpu_percent=read.number(
            "alarm_cpu_percent", DEFAULT_ALARM_CPU_PERCENT, 0, 100, above=True, kind=_PERCENTAGE
        ),
        log_retention_days=read.retention("log_retention_days", DEFAULT_LOG_RETENTION_DAYS),
        tags=read_tags(read),
    )


def _describe(allowed: Sequence[int]) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start} to {allowed[-1]} in steps of {allowed.step}"
    return ", ".join(map(str, allowed))


def _default_health_check(container_port: int, health_check_path: str) -> list[str]:
    # Exec form with the interpreter the service image already has: no curl, no shell needed.
    # urlopen raises on a non-2xx/3xx answer or a timeout, which exits non-zero.
    url = f"http://127.0.0.1:{container_port}{health_check_path}"
    return [
        "CMD",
        "python",
        "-c",
        f"import urllib.request; urllib.request.urlopen({url!r}, timeout=3)",
    ]


def _check_variables(
    read: ArgumentReader,
    env: Mapping[str, pulumi.Input[str]],
    secrets: Mapping[str, pulumi.Input[str]],
) -> None:
    reserved = DATABASE_ENV_NAMES + DATABASE_SECRET_NAMES if read.has("database") else ()
    for field, names in (("environment_variables", env), ("secrets", secrets)):
        for key in names:
            if not _ENV_NAME.match(key):
                raise read.fail(
                    field, key, "names of letters, digits and '_', not starting with a digit"
                )
            if key in reserved:
                raise read.fail(
                    field, key, f"a name other than {', '.join(reserved)} (set by `database`)"
                )
    for key in env:
        if _SECRET_LOOKING.search(key):
            raise read.fail(
                "environment_variables",
                key,
                "no secret-looking names (PASSWORD, SECRET, TOKEN, KEY...); pass it in `secrets` "
                "as a Secrets Manager or SSM parameter ARN",
            )
        if key in secrets:
            raise read.fail("environment_variables", key, "a name not also given in `secrets`")
    for key, ref in secrets.items():
        if isinstance(ref, str) and arn_service(ref) not in ("secretsmanager", "ssm"):
            raise read.fail(
                f"secrets[{key!r}]", ref, "a Secrets Manager secret or SSM parameter ARN"
            )


def _check_statements(read: ArgumentReader, statements: Sequence[Mapping[str, Any]]) -> None:
    for statement in statements:
        actions = statement.get("Action", statement.get("NotAction"))
        if "NotAction" in statement or not actions:
            raise read.fail("task_role_statements", statement, "statements with an explicit Action")
        for action in [actions] if isinstance(actions, str) else actions:
            if action == "*" or str(action).endswith(":*"):
                raise read.fail(
                    "task_role_statements", action, "named actions, not `*` or `service:*`"
                )
