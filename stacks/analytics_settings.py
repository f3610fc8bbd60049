"""Typed, validated stack configuration of the analytics deployment.

Pulumi.yaml declares every key with its type and default; this module reads them, checks
ranges and choices, and rejects keys nobody reads, all before the program registers a single
resource. Every error names the key and the stack file, e.g.
``Pulumi.prod.yaml: ecommerce-analytics:azCount must be from 2 to 6, got 9``.

(Not named ``config.py``: Pulumi puts this folder first on ``sys.path``, where a generic name
would shadow other modules.)
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi.runtime

from platformkit.cluster import CAPACITY_PROVIDER
from platformkit.database import BACKUP_RETENTION_DAYS, ENGINE
from platformkit.network import AZ_COUNT, NAT_STRATEGY, VPC_ENDPOINT
from platformkit.validation import LOG_RETENTION, IntRange, OneOf
from platformkit.web_service import FARGATE_CPU, FARGATE_MEMORY_MIB

T = TypeVar("T")


# The stack's own bounds, narrower than the components' where the deployment needs it.
_STACK_BACKUP_RETENTION_DAYS = IntRange(1, BACKUP_RETENTION_DAYS.high)
"""At least a day of automated backups: point-in-time recovery is part of the operations
contract (rpoMinutes), so a stack may not turn backups off (the component allows 0)."""
TASK_COUNT = IntRange(1, 100)
"""Task counts this deployment accepts (the component allows up to 1000)."""
MINUTES_OF_A_DAY = IntRange(1, 1440)
STALENESS_SECONDS = IntRange(0, 3600)
KEEP_WARM_SECONDS = IntRange(0, 86400)


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration. ``RunError`` makes Pulumi print the message, no traceback."""


@dataclass(frozen=True)
class Settings:
    """Everything the program reads from config, typed and validated."""

    stack: str
    owner: str
    vpc_cidr: str
    az_count: int
    nat_strategy: str
    vpc_endpoints: list[str]
    flow_log_retention_days: int
    certificate_arn: str | None
    ingress_cidrs: list[str]
    alb_deletion_protection: bool
    waf: bool
    waf_logging: bool
    customer_managed_keys: bool
    capacity_provider: str
    db_engine: str
    db_instance_class: str
    db_multi_az: bool
    db_deletion_protection: bool
    db_backup_retention_days: int
    db_performance_insights: bool
    service_cpu: int
    service_memory: int
    desired_count: int
    min_count: int
    max_count: int
    log_retention_days: int
    alarm_email: str | None
    image_uri: str | None
    ecr_force_delete: bool
    rto_minutes: int
    rpo_minutes: int
    analytics_max_staleness: int
    analytics_ranking_max_staleness: int
    analytics_keep_warm: int


class _Reader:
    """Reads one project's config keys, remembering which it read and failing with context.

    Ranges and choices are the components' own constraints (``platformkit.validation``'s
    ``IntRange`` and ``OneOf`` values), so a key and the argument it feeds accept the same
    values; this reader words the errors for a stack file.
    """

    def __init__(self, config: pulumi.Config, stack_file: str) -> None:
        self._config = config
        self._stack_file = stack_file
        self.read: set[str] = set()

    def fail(self, key: str, problem: str) -> StackConfigError:
        return StackConfigError(f"{self._stack_file}: {self._config.full_key(key)} {problem}")

    def _get(self, key: str, getter: Callable[[str], T]) -> T:
        self.read.add(key)
        try:
            return getter(key)
        except pulumi.ConfigMissingError:
            raise self.fail(key, "is not set (declare a default in Pulumi.yaml)") from None
        except pulumi.ConfigTypeError as error:
            raise self.fail(key, f"has the wrong type: {error}") from None

    def string(self, key: str, choices: OneOf | None = None) -> str:
        value = self._get(key, self._config.require)
        if choices is not None and not choices.accepts(value):
            raise self.fail(key, f"must be one of {', '.join(choices.values)}, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) or None

    def integer(self, key: str, allowed: IntRange) -> int:
        value = self._get(key, self._config.require_int)
        if not allowed.accepts(value):
            raise self.fail(key, f"must be from {allowed.low} to {allowed.high}, got {value}")
        return value

    def retention(self, key: str) -> int:
        value = self._get(key, self._config.require_int)
        if not LOG_RETENTION.accepts(value):
            raise self.fail(
                key, f"must be a CloudWatch retention ({LOG_RETENTION.listed}), got {value}"
            )
        return value

    def boolean(self, key: str) -> bool:
        return self._get(key, self._config.require_bool)

    def string_list(self, key: str, choices: OneOf | None = None) -> list[str]:
        value: Any = self._get(key, self._config.require_object)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, got {json.dumps(value)}")
        for item in value:
            if choices is not None and not choices.accepts(item):
                raise self.fail(key, f"has {item!r}, not one of {choices.listed}")
        return list(value)

    def cidr_list(self, key: str) -> list[str]:
        values = self.string_list(key)
        for value in values:
            try:
                ipaddress.IPv4Network(value)
            except ValueError:
                raise self.fail(key, f"has {value!r}, which is not an IPv4 network") from None
        return values


def load_settings() -> Settings:
    """Read and validate the current stack's configuration; raise ``StackConfigError``."""
    stack = pulumi.get_stack()
    config = pulumi.Config()
    read = _Reader(config, f"Pulumi.{stack}.yaml")
    settings = Settings(
        stack=stack,
        owner=read.string("owner"),
        vpc_cidr=read.string("vpcCidr"),
        az_count=read.integer("azCount", AZ_COUNT),
        nat_strategy=read.string("natStrategy", NAT_STRATEGY),
        vpc_endpoints=read.string_list("vpcEndpoints", VPC_ENDPOINT),
        flow_log_retention_days=read.retention("flowLogRetentionDays"),
        certificate_arn=read.optional_string("certificateArn"),
        ingress_cidrs=read.cidr_list("ingressCidrs"),
        alb_deletion_protection=read.boolean("albDeletionProtection"),
        waf=read.boolean("waf"),
        waf_logging=read.boolean("wafLogging"),
        customer_managed_keys=read.boolean("customerManagedKeys"),
        capacity_provider=read.string("capacityProvider", CAPACITY_PROVIDER),
        db_engine=read.string("dbEngine", ENGINE),
        db_instance_class=read.string("dbInstanceClass"),
        db_multi_az=read.boolean("dbMultiAz"),
        db_deletion_protection=read.boolean("dbDeletionProtection"),
        db_backup_retention_days=read.integer(
            "dbBackupRetentionDays", _STACK_BACKUP_RETENTION_DAYS
        ),
        db_performance_insights=read.boolean("dbPerformanceInsights"),
        service_cpu=read.integer("serviceCpu", FARGATE_CPU),
        service_memory=read.integer("serviceMemory", FARGATE_MEMORY_MIB),
        desired_count=read.integer("desiredCount", TASK_COUNT),
        min_count=read.integer("minCount", TASK_COUNT),
        max_count=read.integer("maxCount", TASK_COUNT),
        log_retention_days=read.retention("logRetentionDays"),
        alarm_email=read.optional_string("alarmEmail"),
        image_uri=read.optional_string("imageUri"),
        ecr_force_delete=read.boolean("ecrForceDelete"),
        rto_minutes=read.integer("rtoMinutes", MINUTES_OF_A_DAY),
        rpo_minutes=read.integer("rpoMinutes", MINUTES_OF_A_DAY),
        analytics_max_staleness=read.integer("analyticsMaxStaleness", STALENESS_SECONDS),
        analytics_ranking_max_staleness=read.integer(
            "analyticsRankingMaxStaleness", STALENESS_SECONDS
        ),
        analytics_keep_warm=read.integer("analyticsKeepWarm", KEEP_WARM_SECONDS),
    )
    _check_task_counts(read, settings)
    if not settings.db_instance_class.startswith("db."):
        raise read.fail(
            "dbInstanceClass", f"must be an RDS class such as db.t4g.micro, got "
            f"{settings.db_instance_class!r}"
        )  # fmt: skip
    _reject_unknown_keys(config, read)
    return settings


def _check_task_counts(read: _Reader, settings: Settings) -> None:
    # minCount <= desiredCount <= maxCount. The bounds are checked against each other first:
    # when they cross, no desiredCount could be right, and blaming it would send the user to
    # the wrong line of the stack file.
    low, desired, high = settings.min_count, settings.desired_count, settings.max_count
    if low > high:
        raise read.fail("minCount", f"must not exceed maxCount ({high}), got {low}")
    if not low <= desired <= high:
        raise read.fail(
            "desiredCount",
            f"must lie between minCount ({low}) and maxCount ({high}), got {desired}",
        )


def _reject_unknown_keys(config: pulumi.Config, read: _Reader) -> None:
    # A misspelt key would otherwise be silently ignored and its default used instead.
    prefix = f"{config.name}:"
    given = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.get_config_env())
    for full_key in sorted(given):
        key = full_key.removeprefix(prefix)
        if full_key.startswith(prefix) and key not in read.read:
            known = ", ".join(sorted(read.read))
            raise read.fail(key, f"is not a setting this program reads (known: {known})")
