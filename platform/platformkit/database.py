"""``Database``: an RDS MySQL (default) or PostgreSQL instance with production defaults.

The instance lives in the network's isolated subnets, is reachable only on its engine port
from the security groups it is given, encrypts storage, keeps its master password in Secrets
Manager (RDS generates and rotates it; it never appears in code, config or state), forces TLS
through its parameter group, exports its logs to CloudWatch log groups with a finite retention,
and is protected against deletion with a final snapshot as the last line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_random

from platformkit.iam import service_trust_policy
from platformkit.network_ref import HasNetworkRef, NetworkRef, as_network_ref
from platformkit.tags import standard_tags
from platformkit.validation import invalid, require_choice, require_range

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

DEFAULT_ALLOCATED_STORAGE_GIB = 20
"""Smallest gp3 volume RDS accepts for MySQL and PostgreSQL."""
DEFAULT_MAX_ALLOCATED_STORAGE_GIB = 100
MAX_STORAGE_GIB = 65536
STORAGE_TYPE = "gp3"

MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
"""Enhanced monitoring granularities RDS accepts, in seconds (0 turns it off)."""
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

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
"""Retention periods CloudWatch Logs accepts, in days."""
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


@dataclass(frozen=True)
class _Settings:
    """The validated, defaulted plain arguments."""

    network: NetworkRef
    engine: str
    engine_version: str
    family: str
    instance_class: str
    database_name: str
    master_username: str
    port: int
    backup_retention_days: int
    backup_window: str | None
    maintenance_window: str | None
    identifier: str
    allocated_storage: int
    max_allocated_storage: int
    performance_insights: bool
    monitoring_interval: int
    log_exports: tuple[str, ...]
    log_retention_days: int


class Database(pulumi.ComponentResource):
    """An RDS MySQL or PostgreSQL instance in isolated subnets; see the module docstring."""

    network: NetworkRef
    """The network the instance runs in."""
    instance: aws.rds.Instance
    """The RDS instance."""
    engine: str
    """``"mysql"`` or ``"postgres"``."""
    port: int
    """Port the engine listens on."""
    database_name: str
    """Name of the database created with the instance."""
    address: pulumi.Output[str]
    """Host name of the instance."""
    endpoint: pulumi.Output[str]
    """``host:port`` of the instance."""
    identifier: pulumi.Output[str]
    """DB instance identifier (the ``DBInstanceIdentifier`` CloudWatch dimension)."""
    security_group_id: pulumi.Output[str]
    """Security group of the instance; admits the engine port from allowed groups only."""
    master_secret_arn: pulumi.Output[str]
    """ARN of the RDS-managed secret, a JSON object with ``username`` and ``password``."""
    kms_key_arn: pulumi.Input[str] | None
    """Customer-managed key encrypting the master secret, if any: readers of the secret also
    need ``kms:Decrypt`` on it."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate before registering, so a bad argument leaves no half-built component.
        settings = _settings(name, args)
        super().__init__("platformkit:index:Database", name, {}, opts)
        self._name = name
        self._tags = standard_tags(
            environment=args.get("environment"), owner=args.get("owner"), extra=args.get("tags")
        )
        self.network = settings.network
        self.engine = settings.engine
        self.port = settings.port
        self.database_name = settings.database_name
        self.kms_key_arn = args.get("master_user_secret_kms_key_arn") or args.get("kms_key_arn")

        security_group = self._create_security_group(settings)
        self.security_group_id = security_group.id
        for index, group_id in enumerate(args.get("allowed_security_group_ids") or ()):
            self._ingress_rule(f"{name}-allowed-{index}", group_id)

        subnet_group = self._create_subnet_group(settings)
        parameter_group = self._create_parameter_group(settings)
        log_groups = self._create_log_groups(settings, args.get("log_kms_key_arn"))
        monitoring = self._create_monitoring_role(settings)
        monitoring_role = monitoring[0] if monitoring else None
        snapshot_suffix = self._create_snapshot_suffix(settings, args.get("kms_key_arn"))

        self.instance = self._create_instance(
            settings,
            args,
            # A valid DBSnapshotIdentifier: the identifier's rules hold for the whole name, and
            # at most 63 + 7 + 8 characters stay far below the 255 allowed.
            final_snapshot_identifier=pulumi.Output.concat(
                settings.identifier, "-final-", snapshot_suffix.hex
            ),
            security_group=security_group,
            subnet_group=subnet_group,
            parameter_group=parameter_group,
            monitoring_role=monitoring_role,
            # RDS would create missing log groups without retention, and rejects a monitoring
            # role whose policy is not attached yet.
            depends_on=[*log_groups, *(monitoring or ())],
        )
        self.address = self.instance.address
        self.endpoint = self.instance.endpoint
        self.identifier = self.instance.identifier
        self.master_secret_arn = self.instance.master_user_secrets.apply(_secret_arn)

        self.register_outputs(
            {
                "address": self.address,
                "endpoint": self.endpoint,
                "identifier": self.identifier,
                "port": self.port,
                "securityGroupId": self.security_group_id,
                "masterSecretArn": self.master_secret_arn,
            }
        )

    def allow_from(
        self, name: str, security_group_id: pulumi.Input[str]
    ) -> aws.vpc.SecurityGroupIngressRule:
        """Admit ``security_group_id`` on the engine port.

        ``name`` identifies the client (such as the service's name); the rule is named
        ``<database>-from-<name>``, so it must be unique per database.
        """
        return self._ingress_rule(f"{self._name}-from-{name}", security_group_id)

    @property
    def ref(self) -> DatabaseRef:
        """This database as a ``DatabaseRef``, e.g. to export for a service in another stack."""
        return DatabaseRef(
            address=self.address,
            port=self.port,
            engine=self.engine,
            database_name=self.database_name,
            identifier=self.identifier,
            security_group_id=self.security_group_id,
            master_secret_arn=self.master_secret_arn,
            kms_key_arn=self.kms_key_arn,
        )

    # --- children ------------------------------------------------------------------------

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))

    def _create_security_group(self, settings: _Settings) -> aws.ec2.SecurityGroup:
        # No egress rules: the provider removes AWS's default allow-all egress rule, and the
        # database never opens connections itself (replies to clients are allowed statefully).
        # Rules are standalone resources, never inline, so the two styles cannot fight.
        return aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            description=f"{settings.engine} database {self._name}: engine port from allowed groups",
            vpc_id=settings.network.vpc_id,
            tags={**self._tags, "Name": f"{self._name}-sg"},
            opts=self._child(),
        )

    def _ingress_rule(
        self, resource_name: str, source_group_id: pulumi.Input[str]
    ) -> aws.vpc.SecurityGroupIngressRule:
        return aws.vpc.SecurityGroupIngressRule(
            resource_name,
            security_group_id=self.security_group_id,
            referenced_security_group_id=source_group_id,
            ip_protocol="tcp",
            from_port=self.port,
            to_port=self.port,
            description=f"{self.engine} clients on port {self.port}",
            tags={**self._tags, "Name": resource_name},
            opts=self._child(),
        )

    def _create_subnet_group(self, settings: _Settings) -> aws.rds.SubnetGroup:
        return aws.rds.SubnetGroup(
            f"{self._name}-subnets",
            description=f"Isolated subnets of database {self._name}",
            subnet_ids=settings.network.isolated_subnet_ids,
            tags=self._tags,
            opts=self._child(),
        )

    def _create_parameter_group(self, settings: _Settings) -> aws.rds.ParameterGroup:
        return aws.rds.ParameterGroup(
            f"{self._name}-params",
            description=f"TLS-only {settings.engine} parameters of database {self._name}",
            family=settings.family,
            parameters=_parameters(settings.engine, settings.log_exports),
            tags=self._tags,
            # Auto-named, so a family change (major upgrade) can create the new group first.
            opts=self._child(),
        )

    def _create_log_groups(
        self, settings: _Settings, kms_key_arn: pulumi.Input[str] | None
    ) -> list[aws.cloudwatch.LogGroup]:
        # Created before the instance: otherwise RDS creates them itself, with no retention.
        return [
            aws.cloudwatch.LogGroup(
                f"{self._name}-log-{log}",
                name=f"/aws/rds/instance/{settings.identifier}/{log}",
                retention_in_days=settings.log_retention_days,
                kms_key_id=kms_key_arn,
                tags=self._tags,
                opts=self._child(),
            )
            for log in settings.log_exports
        ]

    def _create_monitoring_role(
        self, settings: _Settings
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment] | None:
        if settings.monitoring_interval == 0:
            return None
        role = aws.iam.Role(
            f"{self._name}-monitoring",
            description=f"Lets RDS publish enhanced monitoring metrics of database {self._name}",
            assume_role_policy=service_trust_policy(
                "monitoring.rds.amazonaws.com",
                account_id=aws.get_caller_identity_output(
                    opts=pulumi.InvokeOutputOptions(parent=self)
                ).account_id,
            ),
            tags=self._tags,
            opts=self._child(),
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-monitoring-policy",
            role=role.name,
            policy_arn=partition.partition.apply(
                lambda p: f"arn:{p}:iam::aws:policy/service-role/{ENHANCED_MONITORING_POLICY}"
            ),
            opts=self._child(),
        )
        return role, attachment

    def _create_snapshot_suffix(
        self, settings: _Settings, kms_key_arn: pulumi.Input[str] | None
    ) -> pulumi_random.RandomId:
        # A fixed ``<identifier>-final`` exists after the first delete, so the next delete of the
        # same identifier (destroy and recreate, or a replacement) would fail with
        # DBSnapshotAlreadyExists and leave the stack stuck. The RandomId is created once per
        # instance lifetime and its value kept in state, so updates show no diff; ``keepers``
        # are the instance's replace-forcing inputs this component sets, so a replacing change
        # also draws a new suffix for the new instance's own final snapshot.
        keepers: dict[str, pulumi.Input[str]] = {
            "identifier": settings.identifier,
            "engine": settings.engine,
            "db_name": settings.database_name,
            "username": settings.master_username,
        }
        if kms_key_arn is not None:
            keepers["kms_key_id"] = kms_key_arn
        return pulumi_random.RandomId(
            f"{self._name}-final-snapshot-suffix",
            byte_length=SNAPSHOT_SUFFIX_BYTES,
            keepers=keepers,
            opts=self._child(),
        )

    def _create_instance(
        self,
        settings: _Settings,
        args: DatabaseArgs,
        *,
        final_snapshot_identifier: pulumi.Input[str],
        security_group: aws.ec2.SecurityGroup,
        subnet_group: aws.rds.SubnetGroup,
        parameter_group: aws.rds.ParameterGroup,
        monitoring_role: aws.iam.Role | None,
        depends_on: Sequence[pulumi.Resource],
    ) -> aws.rds.Instance:
        kms_key_arn = args.get("kms_key_arn")
        return aws.rds.Instance(
            f"{self._name}-instance",
            identifier=settings.identifier,
            engine=settings.engine,
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            db_name=settings.database_name,
            username=settings.master_username,
            # RDS generates the password and keeps it in Secrets Manager; none passes through
            # Pulumi, so there is nothing to leak from code, config or state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=self.kms_key_arn,
            port=settings.port,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            multi_az=args.get("multi_az", True),
            storage_type=STORAGE_TYPE,
            allocated_storage=settings.allocated_storage,
            max_allocated_storage=settings.max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=kms_key_arn,
            parameter_group_name=parameter_group.name,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            iam_database_authentication_enabled=args.get("iam_auth", True),
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=args.get("deletion_protection", True),
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_identifier,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=args.get("apply_immediately", False),
            enabled_cloudwatch_logs_exports=list(settings.log_exports),
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if settings.performance_insights else None
            ),
            performance_insights_kms_key_id=(
                (args.get("performance_insights_kms_key_arn") or kms_key_arn)
                if settings.performance_insights
                else None
            ),
            monitoring_interval=settings.monitoring_interval,
            monitoring_role_arn=monitoring_role.arn if monitoring_role is not None else None,
            tags=self._tags,
            # The identifier is fixed, so Pulumi replaces by deleting first: deletion protection
            # is what stops a replacing change, the final snapshot what keeps the data if off.
            opts=self._child(depends_on),
        )


# --- helpers ------------------------------------------------------------------------------


def _secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("RDS returned no master user secret although it manages the password.")
    return arn


def _parameters(
    engine: str, log_exports: Sequence[str]
) -> list[aws.rds.ParameterGroupParameterArgs]:
    parameter = aws.rds.ParameterGroupParameterArgs
    if engine == "mysql":
        # MySQL logs reach CloudWatch only when written, and only when written to files.
        logging = [parameter(name="log_output", value="FILE")]
        if "slowquery" in log_exports:
            logging.append(parameter(name="slow_query_log", value="1"))
            logging.append(parameter(name="long_query_time", value=str(SLOW_QUERY_SECONDS)))
        if "general" in log_exports:
            logging.append(parameter(name="general_log", value="1"))
        return [parameter(name="require_secure_transport", value="1"), *logging]
    return [
        # pending-reboot is accepted whether the engine version treats it as static or
        # dynamic; a new instance starts with it in force.
        parameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
        parameter(name="log_min_duration_statement", value=str(SLOW_QUERY_SECONDS * 1000)),
    ]


def _default_identifier(name: str) -> str:
    """``<name>-<stack>`` as a valid DB instance identifier."""
    raw = re.sub(r"[^a-z0-9]+", "-", f"{name}-{pulumi.get_stack()}".lower()).strip("-")
    if not raw[:1].isalpha():
        raw = f"db-{raw}"
    return raw[:_IDENTIFIER_MAX_LENGTH].rstrip("-")


def _settings(name: str, args: DatabaseArgs) -> _Settings:
    """Apply defaults and validate plain arguments; raise ``ValueError`` on the first bad one."""

    def fail(field: str, value: object, expected: str) -> ValueError:
        return invalid(COMPONENT, name, field, value, expected)

    def require_name(field: str, value: str, max_length: int) -> str:
        if not _DB_NAME_PATTERN.match(value) or len(value) > max_length:
            raise fail(
                field,
                value,
                f"1 to {max_length} letters, digits or underscores, starting with a letter",
            )
        return value

    network = as_network_ref(args["network"])
    isolated = network.isolated_subnet_ids
    # An output's length is unknown until deployment, when AWS checks it.
    if isinstance(isolated, Sequence) and len(isolated) < 2:
        raise fail(
            "network.isolated_subnet_ids",
            list(isolated),
            "at least two isolated subnets in different availability zones "
            "(an RDS subnet group spans two AZs or more)",
        )

    engine = require_choice(
        COMPONENT, name, "engine", args.get("engine", DEFAULT_ENGINE), PARAMETER_GROUP_FAMILIES
    )
    families = PARAMETER_GROUP_FAMILIES[engine]
    engine_version = args.get("engine_version", DEFAULT_ENGINE_VERSIONS[engine])
    if engine_version not in families:
        raise fail(
            "engine_version",
            engine_version,
            f"a major {engine} version, one of {', '.join(families)} "
            "(RDS picks the minor version and upgrades it automatically)",
        )

    instance_class = args.get("instance_class", DEFAULT_INSTANCE_CLASS)
    if not _INSTANCE_CLASS_PATTERN.match(instance_class):
        raise fail("instance_class", instance_class, "an RDS class such as 'db.m7g.large'")

    database_name = require_name(
        "database_name", args.get("database_name", DEFAULT_DATABASE_NAME), MAX_NAME_LENGTHS[engine]
    )
    master_username = require_name(
        "master_username",
        args.get("master_username", DEFAULT_MASTER_USERNAME),
        MAX_USERNAME_LENGTHS[engine],
    )
    if master_username.lower() in RESERVED_USERNAMES:
        raise fail(
            "master_username",
            master_username,
            "a name that is not reserved (" + ", ".join(sorted(RESERVED_USERNAMES)) + ")",
        )

    port = require_range(
        COMPONENT, name, "port", args.get("port", DEFAULT_PORTS[engine]), 1150, 65535
    )
    backup_retention_days = require_range(
        COMPONENT,
        name,
        "backup_retention_days",
        args.get("backup_retention_days", DEFAULT_BACKUP_RETENTION_DAYS),
        0,
        MAX_BACKUP_RETENTION_DAYS,
    )
    backup_window = args.get("backup_window")
    if backup_window is not None and not _BACKUP_WINDOW_PATTERN.match(backup_window):
        raise fail("backup_window", backup_window, "a UTC window 'hh:mm-hh:mm', e.g. '03:00-04:00'")
    maintenance_window = args.get("maintenance_window")
    if maintenance_window is not None and not _MAINTENANCE_WINDOW_PATTERN.match(maintenance_window):
        raise fail(
            "maintenance_window",
            maintenance_window,
            "a UTC window 'ddd:hh:mm-ddd:hh:mm' in lowercase, e.g. 'sun:05:00-sun:06:00'",
        )

    identifier = args.get("identifier") or _default_identifier(name)
    if not _IDENTIFIER_PATTERN.match(identifier):
        raise fail(
            "identifier",
            identifier,
            "1 to 63 lowercase letters, digits or hyphens, starting with a letter, "
            "without '--' or a trailing hyphen",
        )

    allocated_storage = require_range(
        COMPONENT,
        name,
        "allocated_storage",
        args.get("allocated_storage", DEFAULT_ALLOCATED_STORAGE_GIB),
        DEFAULT_ALLOCATED_STORAGE_GIB,
        MAX_STORAGE_GIB,
    )
    max_allocated_storage = args.get("max_allocated_storage", DEFAULT_MAX_ALLOCATED_STORAGE_GIB)
    if (
        isinstance(max_allocated_storage, bool)
        or not allocated_storage <= max_allocated_storage <= MAX_STORAGE_GIB
    ):
        raise fail(
            "max_allocated_storage",
            max_allocated_storage,
            f"at least allocated_storage ({allocated_storage}) and at most {MAX_STORAGE_GIB} GiB",
        )

    performance_insights = args.get("performance_insights", True)
    if performance_insights and instance_class in PERFORMANCE_INSIGHTS_UNSUPPORTED[engine]:
        raise fail(
            "performance_insights",
            performance_insights,
            f"False on {instance_class}, where {engine} has no Performance Insights "
            "(or choose a medium or larger class)",
        )

    monitoring_interval = args.get("monitoring_interval", DEFAULT_MONITORING_INTERVAL)
    if isinstance(monitoring_interval, bool) or monitoring_interval not in MONITORING_INTERVALS:
        raise fail(
            "monitoring_interval",
            monitoring_interval,
            "one of " + ", ".join(map(str, MONITORING_INTERVALS)) + " seconds (0 turns it off)",
        )

    log_exports = tuple(args.get("log_exports", DEFAULT_LOG_EXPORTS[engine]))
    unsupported = [log for log in log_exports if log not in SUPPORTED_LOG_EXPORTS[engine]]
    if unsupported or len(set(log_exports)) != len(log_exports):
        raise fail(
            "log_exports",
            list(log_exports),
            f"distinct {engine} logs among " + ", ".join(sorted(SUPPORTED_LOG_EXPORTS[engine])),
        )

    log_retention_days = args.get("log_retention_days", DEFAULT_LOG_RETENTION_DAYS)
    if isinstance(log_retention_days, bool) or log_retention_days not in LOG_RETENTION_DAYS:
        raise fail(
            "log_retention_days",
            log_retention_days,
            "a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )

    return _Settings(
        network=network,
        engine=engine,
        engine_version=engine_version,
        family=families[engine_version],
        instance_class=instance_class,
        database_name=database_name,
        master_username=master_username,
        port=port,
        backup_retention_days=backup_retention_days,
        backup_window=backup_window,
        maintenance_window=maintenance_window,
        identifier=identifier,
        allocated_storage=allocated_storage,
        max_allocated_storage=max_allocated_storage,
        performance_insights=performance_insights,
        monitoring_interval=monitoring_interval,
        log_exports=log_exports,
        log_retention_days=log_retention_days,
    )
