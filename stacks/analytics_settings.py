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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi.runtime

from platformkit.validation import CLOUDWATCH_RETENTION_DAYS

T = TypeVar("T")


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
    """Reads one project's config keys, remembering which it read and failing with context."""

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

    def string(self, key: str, choices: Sequence[str] = ()) -> str:
        value = self._get(key, self._config.require)
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) or None

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key, self._config.require_int)
        if not low <= value <= high:
            raise self.fail(key, f"must be from {low} to {high}, got {value}")
        return value

    def retention(self, key: str) -> int:
        value = self._get(key, self._config.require_int)
        if value not in CLOUDWATCH_RETENTION_DAYS:
            allowed = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
            raise self.fail(key, f"must be a CloudWatch retention ({allowed}), got {value}")
        return value

    def boolean(self, key: str) -> bool:
        return self._get(key, self._config.require_bool)

    def string_list(self, key: str) -> list[str]:
        value: Any = self._get(key, self._config.require_object)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, got {json.dumps(value)}")
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
        az_count=read.integer("azCount", 2, 6),
        nat_strategy=read.string("natStrategy", ("none", "single", "per_az")),
        vpc_endpoints=read.string_list("vpcEndpoints"),
        flow_log_retention_days=read.retention("flowLogRetentionDays"),
        certificate_arn=read.optional_string("certificateArn"),
        ingress_cidrs=read.cidr_list("ingressCidrs"),
        alb_deletion_protection=read.boolean("albDeletionProtection"),
        waf=read.boolean("waf"),
        waf_logging=read.boolean("wafLogging"),
        customer_managed_keys=read.boolean("customerManagedKeys"),
        capacity_provider=read.string("capacityProvider", ("FARGATE", "FARGATE_SPOT")),
        db_engine=read.string("dbEngine", ("mysql", "postgres")),
        db_instance_class=read.string("dbInstanceClass"),
        db_multi_az=read.boolean("dbMultiAz"),
        db_deletion_protection=read.boolean("dbDeletionProtection"),
        db_backup_retention_days=read.integer("dbBackupRetentionDays", 1, 35),
        db_performance_insights=read.boolean("dbPerformanceInsights"),
        service_cpu=read.integer("serviceCpu", 256, 16384),
        service_memory=read.integer("serviceMemory", 512, 122880),
        desired_count=read.integer("desiredCount", 1, 100),
        min_count=read.integer("minCount", 1, 100),
        max_count=read.integer("maxCount", 1, 100),
        log_retention_days=read.retention("logRetentionDays"),
        alarm_email=read.optional_string("alarmEmail"),
        image_uri=read.optional_string("imageUri"),
        ecr_force_delete=read.boolean("ecrForceDelete"),
        rto_minutes=read.integer("rtoMinutes", 1, 1440),
        rpo_minutes=read.integer("rpoMinutes", 1, 1440),
        analytics_max_staleness=read.integer("analyticsMaxStaleness", 0, 3600),
        analytics_ranking_max_staleness=read.integer("analyticsRankingMaxStaleness", 0, 3600),
        analytics_keep_warm=read.integer("analyticsKeepWarm", 0, 86400),
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
