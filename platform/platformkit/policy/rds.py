"""RDS rules: encryption, exposure, resilience, credentials, TLS and logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError

from ..database.args import MAX_BACKUP_RETENTION_DAYS
from .core import (
    Rule,
    as_int,
    as_list,
    as_mapping,
    depends_on,
    is_false,
    is_set,
    is_true,
    resources_of,
    setting,
    string_list,
)
from .secrets import is_secret

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"

DEFAULT_MIN_BACKUP_DAYS = 7

TLS_PARAMETERS: dict[str, tuple[str, frozenset[str]]] = {
    "mysql": ("require_secure_transport", frozenset({"on", "1", "true"})),
    "mariadb": ("require_secure_transport", frozenset({"on", "1", "true"})),
    "postgres": ("rds.force_ssl", frozenset({"1", "on", "true"})),
    "sqlserver": ("rds.force_ssl", frozenset({"1"})),
}
"""Engine → (parameter that forces TLS, values that mean "on")."""


def _is_replica_or_restore(props: Mapping[str, Any]) -> bool:
    return bool(props.get("replicateSourceDb") or props.get("snapshotIdentifier"))


def validate_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not is_true(props.get("storageEncrypted")):
        report("storageEncrypted is not true.", None)


def validate_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if is_true(props.get("publiclyAccessible")):
        report("publiclyAccessible is true.", None)


def validate_multi_az(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not is_true(props.get("multiAz")):
        report("multiAz is not true: one AZ outage takes the database down.", None)


def validate_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    minimum = int(setting(args.get_config(), "minimumDays", DEFAULT_MIN_BACKUP_DAYS))
    days = as_int(props.get("backupRetentionPeriod"))
    if days is None or days < minimum:
        shown = "unset" if days is None else f"{days} day(s)"
        report(f"backupRetentionPeriod is {shown}; at least {minimum} required.", None)


def validate_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not is_true(props.get("deletionProtection")):
        report("deletionProtection is not true.", None)


def validate_final_snapshot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if is_true(props.get("skipFinalSnapshot")):
        report("skipFinalSnapshot is true: deleting the instance loses its data.", None)
    elif not is_set(props, "finalSnapshotIdentifier"):
        # The provider refuses to delete without it, leaving the stack stuck. An unknown one
        # (computed, e.g. with a random suffix) is set.
        report("finalSnapshotIdentifier is not set, so the delete would fail.", None)


def validate_no_literal_password(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    try:
        password = props.get("password")
    except UnknownValueError:
        return  # computed by another resource (a RandomPassword, say): not a literal
    if password and is_secret(password):
        # A secret input (config.require_secret, Output.secret) is encrypted in config and
        # state: set, not literal. pulumi_aws marks every password input secret, so a literal
        # typed into the program looks the same here; a source scanner must catch that one.
        return
    if password:
        # Never echo the value: it is a secret even when it is wrong to have it here.
        report(
            "A master password arrives in plain text (not a secret): it is stored unencrypted "
            "in state.",
            None,
        )
    elif not is_true(props.get("manageMasterUserPassword")) and not _is_replica_or_restore(props):
        report("manageMasterUserPassword is not true.", None)


def validate_performance_insights_kms(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    props = args.props
    if not is_true(props.get("performanceInsightsEnabled")):
        return
    if not is_set(props, "performanceInsightsKmsKeyId"):
        report(
            "Performance Insights uses the AWS-managed aws/rds key "
            "(performanceInsightsKmsKeyId unset).",
            None,
        )


def validate_log_exports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not string_list(props.get("enabledCloudwatchLogsExports")):
        report("enabledCloudwatchLogsExports is empty: database logs stay on the host.", None)


def validate_auto_minor_upgrade(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if is_false(props.get("autoMinorVersionUpgrade")):
        report("autoMinorVersionUpgrade is false: security patches are not applied.", None)


def validate_iam_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not is_true(props.get("iamDatabaseAuthenticationEnabled")):
        report("iamDatabaseAuthenticationEnabled is not true.", None)


def _group_forces_tls(group: PolicyResource, engine: str) -> bool:
    parameter, on_values = TLS_PARAMETERS[engine]
    for item in as_list(group.props.get("parameters")):
        entry = as_mapping(item) or {}
        if entry.get("name") == parameter and str(entry.get("value")).lower() in on_values:
            return True
    return False


def _linked_group(instance: PolicyResource, groups: list[PolicyResource]) -> PolicyResource | None:
    # Follow the dependency graph first: at preview an auto-named group's name is unknown.
    if instance.property_dependencies.get("parameterGroupName"):
        for group in groups:
            if depends_on(instance, group, "parameterGroupName"):
                return group
    wanted = instance.props.get("parameterGroupName")
    if not wanted:
        return None
    return next((g for g in groups if g.props.get("name") == wanted), None)


def validate_tls_enforced(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = list(resources_of(args, PARAMETER_GROUP))
    for instance in resources_of(args, INSTANCE):
        engine = str(instance.props.get("engine") or "").lower()
        if engine not in TLS_PARAMETERS:
            continue
        parameter, _ = TLS_PARAMETERS[engine]
        group = _linked_group(instance, groups)
        if group is None:
            report(
                f"RDS instance '{instance.name}' uses no parameter group from this stack, so "
                f"nothing sets {parameter}.",
                instance.urn,
            )
        elif not _group_forces_tls(group, engine):
            report(
                f"Parameter group '{group.name}' of RDS instance '{instance.name}' does not set "
                f"{parameter} on.",
                instance.urn,
            )


def _days_schema(default: int, description: str) -> dict[str, dict[str, Any]]:
    return {
        "minimumDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_BACKUP_RETENTION_DAYS,
            "default": default,
            "description": description,
        }
    }


RULES: tuple[Rule, ...] = (
    Rule(
        name="rds-storage-encrypted",
        description="Require encrypted RDS storage.",
        area="rds",
        severity=Severity.HIGH,
        remediation="Set storage_encrypted=True (optionally kms_key_id); requires a new instance.",
        validate=validate_encrypted,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_16",),
        cdk_nag=("AwsSolutions-RDS2",),
        awsguard=("rds-storage-encrypted",),
    ),
    Rule(
        name="rds-not-public",
        description="Forbid publicly accessible RDS instances.",
        area="rds",
        severity=Severity.CRITICAL,
        remediation="Set publicly_accessible=False and place the instance in private subnets.",
        validate=validate_not_public,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_17",),
        cdk_nag=("NIST.800.53.R5-RDSInstancePublicAccess",),
        awsguard=("rds-instance-public-access",),
    ),
    Rule(
        name="rds-multi-az",
        description="Require Multi-AZ RDS deployments.",
        area="rds",
        severity=Severity.MEDIUM,
        remediation="Set multi_az=True (platformkit Database does in prod).",
        validate=validate_multi_az,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_157",),
        cdk_nag=("AwsSolutions-RDS3",),
        awsguard=("rds-instance-multi-az-enabled",),
    ),
    Rule(
        name="rds-backup-retention",
        description="Require automated RDS backups kept for at least the configured days.",
        area="rds",
        severity=Severity.MEDIUM,
        remediation="Set backup_retention_period to at least minimumDays.",
        validate=validate_backups,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_133",),
        cdk_nag=("AwsSolutions-RDS13",),
        awsguard=("rds-instance-backup-enabled",),
        config=_days_schema(DEFAULT_MIN_BACKUP_DAYS, "Minimum backupRetentionPeriod in days."),
    ),
    Rule(
        name="rds-deletion-protection",
        description="Require deletion protection on RDS instances.",
        area="rds",
        severity=Severity.MEDIUM,
        remediation="Set deletion_protection=True.",
        validate=validate_deletion_protection,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_293",),
        cdk_nag=("AwsSolutions-RDS10",),
    ),
    Rule(
        name="rds-final-snapshot",
        description="Require a final snapshot when an RDS instance is deleted.",
        area="rds",
        severity=Severity.MEDIUM,
        remediation="Set skip_final_snapshot=False and final_snapshot_identifier.",
        validate=validate_final_snapshot,
        resource_types=(INSTANCE,),
        cdk_nag=("AwsSolutions-RDS10",),
    ),
    Rule(
        name="rds-no-literal-master-password",
        description="Require RDS master passwords managed by Secrets Manager, never literals.",
        area="rds",
        severity=Severity.CRITICAL,
        remediation=(
            "Remove password and set manage_master_user_password=True; the app reads the "
            "generated secret through the task's 'secrets'."
        ),
        validate=validate_no_literal_password,
        resource_types=(INSTANCE,),
        cdk_nag=("AwsSolutions-SMG4",),
    ),
    Rule(
        name="rds-tls-enforced",
        description="Require RDS instances to use a parameter group that forces TLS.",
        area="rds",
        kind="stack",
        severity=Severity.HIGH,
        remediation=(
            "Attach an aws.rds.ParameterGroup with require_secure_transport=ON (MySQL/MariaDB) "
            "or rds.force_ssl=1 (PostgreSQL) through parameter_group_name."
        ),
        validate=validate_tls_enforced,
        resource_types=(INSTANCE, PARAMETER_GROUP),
        checkov=("CKV2_AWS_69",),
    ),
    Rule(
        name="rds-log-exports",
        description="Require RDS log exports to CloudWatch Logs.",
        area="rds",
        severity=Severity.LOW,
        remediation=(
            "Set enabled_cloudwatch_logs_exports (['error', 'slowquery'] for MySQL, "
            "['postgresql'] for PostgreSQL)."
        ),
        validate=validate_log_exports,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_129",),
        cdk_nag=("NIST.800.53.R5-RDSLoggingEnabled",),
    ),
    Rule(
        name="rds-auto-minor-version-upgrade",
        description="Forbid disabling automatic minor version upgrades on RDS.",
        area="rds",
        severity=Severity.LOW,
        remediation="Leave auto_minor_version_upgrade unset or True.",
        validate=validate_auto_minor_upgrade,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_226",),
    ),
    Rule(
        name="rds-iam-authentication",
        description="Recommend IAM database authentication on RDS instances.",
        area="rds",
        severity=Severity.LOW,
        remediation="Set iam_database_authentication_enabled=True and grant rds-db:connect.",
        validate=validate_iam_auth,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_161",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    Rule(
        name="rds-performance-insights-kms",
        description="Recommend a customer-managed KMS key for Performance Insights data.",
        area="rds",
        severity=Severity.LOW,
        remediation=(
            "Set performance_insights_kms_key_arn on the Database (RDS cannot change the key "
            "later: set it before first enabling Performance Insights)."
        ),
        validate=validate_performance_insights_kms,
        resource_types=(INSTANCE,),
        checkov=("CKV_AWS_354",),
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
)
