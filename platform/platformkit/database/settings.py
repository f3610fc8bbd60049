"""``DatabaseArgs`` read and checked into ``DatabaseSettings``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from platformkit.database.args import (
    ALLOCATED_STORAGE_GIB,
    BACKUP_RETENTION_DAYS,
    COMPONENT,
    DEFAULT_ALLOCATED_STORAGE_GIB,
    DEFAULT_BACKUP_RETENTION_DAYS,
    DEFAULT_DATABASE_NAME,
    DEFAULT_ENGINE,
    DEFAULT_ENGINE_VERSIONS,
    DEFAULT_INSTANCE_CLASS,
    DEFAULT_LOG_EXPORTS,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MASTER_USERNAME,
    DEFAULT_MAX_ALLOCATED_STORAGE_GIB,
    DEFAULT_MONITORING_INTERVAL,
    DEFAULT_PORTS,
    ENGINE,
    MAX_NAME_LENGTHS,
    MAX_STORAGE_GIB,
    MAX_USERNAME_LENGTHS,
    MONITORING_INTERVAL,
    PARAMETER_GROUP_FAMILIES,
    PERFORMANCE_INSIGHTS_UNSUPPORTED,
    PORT,
    RESERVED_USERNAMES,
    SUPPORTED_LOG_EXPORTS,
    DatabaseArgs,
)
from platformkit.network_ref import NETWORK_EXPECTED, NetworkRef, as_network_ref
from platformkit.tags import read_tags
from platformkit.validation import ArgumentReader, IntRange, is_ref

_IDENTIFIER_MAX_LENGTH = 63
_DB_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INSTANCE_CLASS_PATTERN = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
_IDENTIFIER_PATTERN = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
_BACKUP_WINDOW_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_MAINTENANCE_WINDOW_PATTERN = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$"
)


@dataclass(frozen=True)
class DatabaseSettings:
    """``DatabaseArgs`` validated, with defaults applied.

    Sizes, names and switches are plain values, not ``pulumi.Input`` (STYLE.md's default):
    they are checked against RDS's rules here, and some decide which resources exist (log
    groups, the monitoring role). KMS keys and security groups may be outputs.
    """

    network: NetworkRef
    engine: str
    engine_version: str
    family: str
    instance_class: str
    database_name: str
    master_username: str
    allowed_security_group_ids: Sequence[pulumi.Input[str]]
    port: int
    multi_az: bool
    backup_retention_days: int
    backup_window: str | None
    maintenance_window: str | None
    deletion_protection: bool
    identifier: str
    kms_key_arn: pulumi.Input[str] | None
    master_user_secret_kms_key_arn: pulumi.Input[str] | None
    """The key of the master secret: the one given for it, else ``kms_key_arn``."""
    allocated_storage: int
    max_allocated_storage: int
    performance_insights: bool
    performance_insights_kms_key_arn: pulumi.Input[str] | None
    """The key of Performance Insights when it is on: the one given, else ``kms_key_arn``."""
    monitoring_interval: int
    log_exports: tuple[str, ...]
    log_retention_days: int
    log_kms_key_arn: pulumi.Input[str] | None
    iam_auth: bool
    apply_immediately: bool
    tags: dict[str, str]
    """Standard tags merged with ``tags``; every resource gets them."""


def _default_identifier(name: str) -> str:
    """``<name>-<stack>`` as a valid DB instance identifier."""
    raw = re.sub(r"[^a-z0-9]+", "-", f"{name}-{pulumi.get_stack()}".lower()).strip("-")
    if not raw[:1].isalpha():
        raw = f"db-{raw}"
    return raw[:_IDENTIFIER_MAX_LENGTH].rstrip("-")


def read_settings(name: str, args: DatabaseArgs) -> DatabaseSettings:
    """Apply defaults and check ``args``; raise ``InvalidArgument`` on the first bad one."""
    read = ArgumentReader(COMPONENT, name, args, DatabaseArgs.__annotations__)

    def require_name(field: str, default: str, max_length: int) -> str:
        value = read.string(field, default) or ""
        if not _DB_NAME_PATTERN.match(value) or len(value) > max_length:
            raise read.fail(
                field,
                value,
                f"1 to {max_length} letters, digits or underscores, starting with a letter",
            )
        return value

    network = as_network_ref(read.required("network", NETWORK_EXPECTED, is_ref(NetworkRef)), read)
    isolated = network.isolated_subnet_ids
    # An output's length is unknown until deployment, when AWS checks it.
    if isinstance(isolated, Sequence) and len(isolated) < 2:
        raise read.fail(
            "network.isolated_subnet_ids",
            list(isolated),
            "at least two isolated subnets in different availability zones "
            "(an RDS subnet group spans two AZs or more)",
        )

    engine = read.choice("engine", DEFAULT_ENGINE, ENGINE)
    families = PARAMETER_GROUP_FAMILIES[engine]
    engine_version = read.get("engine_version", DEFAULT_ENGINE_VERSIONS[engine])
    if engine_version not in families:
        raise read.fail(
            "engine_version",
            engine_version,
            f"a major {engine} version, one of {', '.join(families)} "
            "(RDS picks the minor version and upgrades it automatically)",
        )

    instance_class = read.string("instance_class", DEFAULT_INSTANCE_CLASS) or ""
    if not _INSTANCE_CLASS_PATTERN.match(instance_class):
        raise read.fail("instance_class", instance_class, "an RDS class such as 'db.m7g.large'")

    database_name = require_name("database_name", DEFAULT_DATABASE_NAME, MAX_NAME_LENGTHS[engine])
    master_username = require_name(
        "master_username", DEFAULT_MASTER_USERNAME, MAX_USERNAME_LENGTHS[engine]
    )
    if master_username.lower() in RESERVED_USERNAMES:
        raise read.fail(
            "master_username",
            master_username,
            "a name that is not reserved (" + ", ".join(sorted(RESERVED_USERNAMES)) + ")",
        )

    port = read.integer("port", DEFAULT_PORTS[engine], PORT)
    backup_retention_days = read.integer(
        "backup_retention_days", DEFAULT_BACKUP_RETENTION_DAYS, BACKUP_RETENTION_DAYS
    )
    backup_window = read.string("backup_window")
    if backup_window is not None and not _BACKUP_WINDOW_PATTERN.match(backup_window):
        raise read.fail(
            "backup_window", backup_window, "a UTC window 'hh:mm-hh:mm', e.g. '03:00-04:00'"
        )
    maintenance_window = read.string("maintenance_window")
    if maintenance_window is not None and not _MAINTENANCE_WINDOW_PATTERN.match(maintenance_window):
        raise read.fail(
            "maintenance_window",
            maintenance_window,
            "a UTC window 'ddd:hh:mm-ddd:hh:mm' in lowercase, e.g. 'sun:05:00-sun:06:00'",
        )

    identifier = read.string("identifier") or _default_identifier(name)
    if not _IDENTIFIER_PATTERN.match(identifier):
        raise read.fail(
            "identifier",
            identifier,
            "1 to 63 lowercase letters, digits or hyphens, starting with a letter, "
            "without '--' or a trailing hyphen",
        )

    allocated_storage = read.integer(
        "allocated_storage", DEFAULT_ALLOCATED_STORAGE_GIB, ALLOCATED_STORAGE_GIB
    )
    max_allocated_storage = read.get("max_allocated_storage", DEFAULT_MAX_ALLOCATED_STORAGE_GIB)
    if not IntRange(allocated_storage, MAX_STORAGE_GIB).accepts(max_allocated_storage):
        raise read.fail(
            "max_allocated_storage",
            max_allocated_storage,
            f"an integer at least allocated_storage ({allocated_storage}) and at most "
            f"{MAX_STORAGE_GIB} GiB",
        )

    performance_insights = read.boolean("performance_insights", True)
    if performance_insights and instance_class in PERFORMANCE_INSIGHTS_UNSUPPORTED[engine]:
        raise read.fail(
            "performance_insights",
            performance_insights,
            f"False on {instance_class}, where {engine} has no Performance Insights "
            "(or choose a medium or larger class)",
        )

    monitoring_interval = read.get("monitoring_interval", DEFAULT_MONITORING_INTERVAL)
    if not MONITORING_INTERVAL.accepts(monitoring_interval):
        raise read.fail(
            "monitoring_interval",
            monitoring_interval,
            f"one of {MONITORING_INTERVAL.listed} seconds (0 turns it off)",
        )

    log_exports = tuple(read.strings("log_exports", DEFAULT_LOG_EXPORTS[engine]))
    unsupported = [log for log in log_exports if log not in SUPPORTED_LOG_EXPORTS[engine]]
    if unsupported or len(set(log_exports)) != len(log_exports):
        raise read.fail(
            "log_exports",
            list(log_exports),
            f"distinct {engine} logs among " + ", ".join(sorted(SUPPORTED_LOG_EXPORTS[engine])),
        )

    kms_key_arn = read.string_input("kms_key_arn")
    return DatabaseSettings(
        network=network,
        engine=engine,
        engine_version=engine_version,
        family=families[engine_version],
        instance_class=instance_class,
        database_name=database_name,
        master_username=master_username,
        allowed_security_group_ids=read.strings("allowed_security_group_ids", outputs=True),
        port=port,
        multi_az=read.boolean("multi_az", True),
        backup_retention_days=backup_retention_days,
        backup_window=backup_window,
        maintenance_window=maintenance_window,
        deletion_protection=read.boolean("deletion_protection", True),
        identifier=identifier,
        kms_key_arn=kms_key_arn,
        master_user_secret_kms_key_arn=read.string_input("master_user_secret_kms_key_arn")
        or kms_key_arn,
        allocated_storage=allocated_storage,
        max_allocated_storage=max_allocated_storage,
        performance_insights=performance_insights,
        performance_insights_kms_key_arn=(
            (read.string_input("performance_insights_kms_key_arn") or kms_key_arn)
            if performance_insights
            else None
        ),
        monitoring_interval=monitoring_interval,
        log_exports=log_exports,
        log_retention_days=read.retention("log_retention_days", DEFAULT_LOG_RETENTION_DAYS),
        log_kms_key_arn=read.string_input("log_kms_key_arn"),
        iam_auth=read.boolean("iam_auth", True),
        apply_immediately=read.boolean("apply_immediately", False),
        tags=read_tags(read),
    )
