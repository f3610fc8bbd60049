"""``Database``'s arguments, its ``DatabaseRef`` and the constants they are checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired, Protocol, TypedDict

import pulumi

from platformkit.network_ref import HasNetworkRef, NetworkRef
from platformkit.validation import ArgumentReader, IntRange, OneOf, resolve_ref

COMPONENT = "Database"

DEFAULT_ENGINE = "mysql"
"""Engine used when none is given."""

DEFAULT_ENGINE_VERSIONS = {"mysql": "8.0", "postgres": "16"}
"""Major version per engine when none is given; RDS picks (and upgrades) the minor version."""

PARAMETER_GROUP_FAMILIES = {
    "mysql": {"8.0": "mysql8.0", "8.4": "mysql8.4"},
    "postgres": {"15": "postgres15", "16": "postgres16", "17": "postgres17"},
}
"""Supported engine → major version → parameter group family."""

ENGINE = OneOf(tuple(PARAMETER_GROUP_FAMILIES))
"""The engines (the stack's ``dbEngine`` is checked against it)."""

DEFAULT_PORTS = {"mysql": 3306, "postgres": 5432}
"""The engine's standard port, used when no ``port`` is given."""

DEFAULT_INSTANCE_CLASS = "db.t4g.medium"
"""Smallest Graviton class that supports every default here (Performance Insights on MySQL
included) with 4 GiB of memory; RDS runs T4g in unlimited mode, so it is never CPU-throttled.
Size up to ``db.m7g.large`` or bigger for sustained load."""

DEFAULT_DATABASE_NAME = "analytics"
DEFAULT_MASTER_USERNAME = "analytics_admin"

RESERVED_USERNAMES = frozenset(
    {"admin", "root", "postgres", "rdsadmin", "rdsrepladmin", "rds_superuser", "mysql", "sys"}
)
"""Master user names refused: reserved by the engine or RDS, or the first ones attackers try."""

MAX_NAME_LENGTHS = {"mysql": 64, "postgres": 63}
"""Longest database name per engine."""
MAX_USERNAME_LENGTHS = {"mysql": 16, "postgres": 63}
"""Longest master user name per engine (RDS limits)."""

DEFAULT_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35
BACKUP_RETENTION_DAYS = IntRange(0, MAX_BACKUP_RETENTION_DAYS)
"""Days of automated backups RDS accepts (0 turns them off)."""

DEFAULT_ALLOCATED_STORAGE_GIB = 20
"""Smallest gp3 volume RDS accepts for MySQL and PostgreSQL."""
DEFAULT_MAX_ALLOCATED_STORAGE_GIB = 100
MAX_STORAGE_GIB = 65536
ALLOCATED_STORAGE_GIB = IntRange(DEFAULT_ALLOCATED_STORAGE_GIB, MAX_STORAGE_GIB)
PORT = IntRange(1150, 65535)
"""Ports RDS lets MySQL and PostgreSQL listen on."""
STORAGE_TYPE = "gp3"

MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
"""Enhanced monitoring granularities RDS accepts, in seconds (0 turns it off)."""
MONITORING_INTERVAL = OneOf(MONITORING_INTERVALS, ordered=True)
DEFAULT_MONITORING_INTERVAL = 60

PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
"""The free tier of Performance Insights retention."""

PERFORMANCE_INSIGHTS_UNSUPPORTED = {
    "mysql": frozenset(
        {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
    ),
    "postgres": frozenset(),
}
"""Instance classes on which RDS refuses to enable Performance Insights, per engine."""

DEFAULT_LOG_EXPORTS = {"mysql": ("error", "slowquery"), "postgres": ("postgresql", "upgrade")}
"""Logs exported to CloudWatch per engine."""

SUPPORTED_LOG_EXPORTS = {
    # ``audit`` is left out: on MySQL it needs an option group with the MariaDB audit plugin,
    # which this component does not create, so the export would stay empty.
    "mysql": frozenset({"error", "general", "slowquery"}),
    "postgres": frozenset({"postgresql", "upgrade"}),
}

DEFAULT_LOG_RETENTION_DAYS = 365

SLOW_QUERY_SECONDS = 2
"""Statements slower than this are logged (MySQL slow query log, PostgreSQL statement log)."""

CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
"""Current RDS certificate authority (the 2019 CA expired in August 2024)."""

ENHANCED_MONITORING_POLICY = "AmazonRDSEnhancedMonitoringRole"
"""AWS managed policy that lets RDS publish OS metrics to CloudWatch Logs."""

SNAPSHOT_SUFFIX_BYTES = 4
"""Random bytes in the final snapshot name (8 hex digits): a name no earlier instance of the same
identifier has used."""


@dataclass(frozen=True)
class DatabaseRef:
    """What a ``WebService`` needs of a database: ``Database(...).ref``, or built by hand from
    another stack's outputs. Any field may be an output (as a reference arriving from another
    stack or Pulumi language is).
    """

    address: pulumi.Input[str]
    """Host name of the instance."""
    port: pulumi.Input[int]
    """Port the engine listens on."""
    engine: pulumi.Input[str]
    """``"mysql"`` or ``"postgres"``."""
    database_name: pulumi.Input[str]
    """Name of the database created with the instance."""
    identifier: pulumi.Input[str]
    """DB instance identifier (the ``DBInstanceIdentifier`` CloudWatch dimension)."""
    security_group_id: pulumi.Input[str]
    """Security group of the instance; a service adds its ingress rule to it."""
    master_secret_arn: pulumi.Input[str]
    """ARN of the RDS-managed secret, a JSON object with ``username`` and ``password``."""
    kms_key_arn: pulumi.Input[str | None] = None
    """Customer-managed key encrypting the master secret, if any (an output may resolve to
    none). Defaults to none."""


class HasDatabaseRef(Protocol):
    """A database a service can use: it exposes a ``DatabaseRef`` and admits a client's
    security group itself (``Database`` is one), so the rule is its child, named after it.

    A bare ``DatabaseRef`` (a database owned by another stack) cannot: a service then adds
    the ingress rule to the database's group on its own.
    """

    @property
    def ref(self) -> DatabaseRef: ...

    def allow_from(
        self, name: str, security_group_id: pulumi.Input[str]
    ) -> pulumi.CustomResource: ...


DATABASE_EXPECTED = "a Database or a DatabaseRef"


def as_database_ref(
    database: DatabaseRef | HasDatabaseRef, read: ArgumentReader | None = None
) -> DatabaseRef:
    """Return ``database`` itself or, for a ``Database``, its ``ref``; anything else is an
    error on the ``database`` field (through ``read`` when given)."""
    return resolve_ref(database, DatabaseRef, DATABASE_EXPECTED, read, "database")


class DatabaseArgs(TypedDict):
    """Arguments of ``Database``. Plain (non-``Input``) fields are validated at construction."""

    network: NetworkRef | HasNetworkRef
    """Network to run in: a ``NetworkRef`` or a ``Network``. The instance goes into its isolated
    subnets (at least two, one per availability zone). Required."""
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
