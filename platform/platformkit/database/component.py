"""``Database``: an RDS MySQL (default) or PostgreSQL instance with production defaults.

The instance lives in the network's isolated subnets, is reachable only on its engine port
from the security groups it is given, encrypts storage, keeps its master password in Secrets
Manager (RDS generates and rotates it; it never appears in code, config or state), forces TLS
through its parameter group, exports its logs to CloudWatch log groups with a finite retention,
and is protected against deletion with a final snapshot as the last line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random

from platformkit.component_base import Component
from platformkit.database.args import (
    CA_CERT_IDENTIFIER,
    ENHANCED_MONITORING_POLICY,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    SLOW_QUERY_SECONDS,
    SNAPSHOT_SUFFIX_BYTES,
    STORAGE_TYPE,
    DatabaseArgs,
    DatabaseRef,
)
from platformkit.database.settings import DatabaseSettings, read_settings
from platformkit.iam import service_trust_policy
from platformkit.network_ref import NetworkRef


class Database(Component):
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
        settings = read_settings(name, args)
        super().__init__("platformkit:index:Database", name, settings.tags, opts)
        self.network = settings.network
        self.engine = settings.engine
        self.port = settings.port
        self.database_name = settings.database_name
        self.kms_key_arn = settings.master_user_secret_kms_key_arn

        security_group = self._create_security_group(settings)
        self.security_group_id = security_group.id
        for index, group_id in enumerate(settings.allowed_security_group_ids):
            self._ingress_rule(f"{name}-allowed-{index}", group_id)

        subnet_group = self._create_subnet_group(settings)
        parameter_group = self._create_parameter_group(settings)
        log_groups = self._create_log_groups(settings)
        monitoring = self._create_monitoring_role(settings)
        monitoring_role = monitoring[0] if monitoring else None
        snapshot_suffix = self._create_snapshot_suffix(settings)

        self.instance = self._create_instance(
            settings,
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

    def _create_security_group(self, settings: DatabaseSettings) -> aws.ec2.SecurityGroup:
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

    def _create_subnet_group(self, settings: DatabaseSettings) -> aws.rds.SubnetGroup:
        return aws.rds.SubnetGroup(
            f"{self._name}-subnets",
            description=f"Isolated subnets of database {self._name}",
            subnet_ids=settings.network.isolated_subnet_ids,
            tags=self._tags,
            opts=self._child(),
        )

    def _create_parameter_group(self, settings: DatabaseSettings) -> aws.rds.ParameterGroup:
        return aws.rds.ParameterGroup(
            f"{self._name}-params",
            description=f"TLS-only {settings.engine} parameters of database {self._name}",
            family=settings.family,
            parameters=_parameters(settings.engine, settings.log_exports),
            tags=self._tags,
            # Auto-named, so a family change (major upgrade) can create the new group first.
            opts=self._child(),
        )

    def _create_log_groups(self, settings: DatabaseSettings) -> list[aws.cloudwatch.LogGroup]:
        # Created before the instance: otherwise RDS creates them itself, with no retention.
        return [
            aws.cloudwatch.LogGroup(
                f"{self._name}-log-{log}",
                name=f"/aws/rds/instance/{settings.identifier}/{log}",
                retention_in_days=settings.log_retention_days,
                kms_key_id=settings.log_kms_key_arn,
                tags=self._tags,
                opts=self._child(),
            )
            for log in settings.log_exports
        ]

    def _create_monitoring_role(
        self, settings: DatabaseSettings
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

    def _create_snapshot_suffix(self, settings: DatabaseSettings) -> pulumi_random.RandomId:
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
        if settings.kms_key_arn is not None:
            keepers["kms_key_id"] = settings.kms_key_arn
        return pulumi_random.RandomId(
            f"{self._name}-final-snapshot-suffix",
            byte_length=SNAPSHOT_SUFFIX_BYTES,
            keepers=keepers,
            opts=self._child(),
        )

    def _create_instance(
        self,
        settings: DatabaseSettings,
        *,
        final_snapshot_identifier: pulumi.Input[str],
        security_group: aws.ec2.SecurityGroup,
        subnet_group: aws.rds.SubnetGroup,
        parameter_group: aws.rds.ParameterGroup,
        monitoring_role: aws.iam.Role | None,
        depends_on: Sequence[pulumi.Resource],
    ) -> aws.rds.Instance:
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
            multi_az=settings.multi_az,
            storage_type=STORAGE_TYPE,
            allocated_storage=settings.allocated_storage,
            max_allocated_storage=settings.max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=settings.kms_key_arn,
            parameter_group_name=parameter_group.name,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            iam_database_authentication_enabled=settings.iam_auth,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_identifier,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=settings.apply_immediately,
            enabled_cloudwatch_logs_exports=list(settings.log_exports),
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if settings.performance_insights else None
            ),
            performance_insights_kms_key_id=settings.performance_insights_kms_key_arn,
            monitoring_interval=settings.monitoring_interval,
            monitoring_role_arn=monitoring_role.arn if monitoring_role is not None else None,
            tags=self._tags,
            # The identifier is fixed, so Pulumi replaces by deleting first: deletion protection
            # is what stops a replacing change, the final snapshot what keeps the data if off.
            opts=self._child(depends_on=list(depends_on)),
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
