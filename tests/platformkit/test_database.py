"""Tests of the ``Database`` component under the mock runtime."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import platformkit.database
from platformkit.database import Database, DatabaseArgs
from platformkit.network_ref import NetworkRef
from platformkit.preview.recording import COMPUTED, Recording
from tests.platformkit.conftest import NETWORK, Run, accepts_tags, missing_standard_tags
from tests.platformkit.docstrings import fields_without_default, undocumented_fields

INSTANCE = "aws:rds/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
RANDOM_ID = "random:index/randomId:RandomId"
COMPONENT = "platformkit:index:Database"

# DBSnapshotIdentifier: 1-255 letters, digits and hyphens, first a letter, no "--", no trailing "-".
SNAPSHOT_IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")

CMK = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SECRET_CMK = "arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000"


class FakeNetwork:
    """Stands in for ``Network``: anything with a ``ref``."""

    @property
    def ref(self) -> NetworkRef:
        return NETWORK


def build(run: Run, stack: str = "dev", **overrides: Any) -> tuple[Recording, dict[str, Any]]:
    """Build ``Database("db", ...)``; return the recording and the component's resolved values."""
    seen: dict[str, Any] = {}

    def program() -> None:
        args: DatabaseArgs = {"network": NETWORK, **overrides}  # type: ignore[typeddict-item]
        db = Database("db", args)
        seen["db"] = db
        for attr in ("address", "endpoint", "identifier", "security_group_id", "master_secret_arn"):
            getattr(db, attr).apply(lambda value, attr=attr: seen.__setitem__(attr, value))

    return run(program, stack=stack), seen


def instance(recording: Recording) -> dict[str, Any]:
    return recording.one(INSTANCE).inputs


def parameters(recording: Recording) -> dict[str, str]:
    return {p["name"]: p["value"] for p in recording.one(PARAMETER_GROUP).inputs["parameters"]}


def keys_in(value: Any) -> set[str]:
    """Every mapping key anywhere in ``value``."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


# --- defaults -----------------------------------------------------------------------------


def test_defaults_are_a_production_mysql_instance(run: Run) -> None:
    recording, _ = build(run)
    props = instance(recording)
    assert props["engine"] == "mysql"
    assert props["engineVersion"] == "8.0"
    assert props["instanceClass"] == "db.t4g.medium"
    assert props["dbName"] == "analytics"
    assert props["username"] == "analytics_admin"
    assert props["port"] == 3306
    assert props["multiAz"] is True
    assert props["backupRetentionPeriod"] == 7
    assert props["publiclyAccessible"] is False
    assert props["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert props["copyTagsToSnapshot"] is True
    assert props["autoMinorVersionUpgrade"] is True
    assert props["allowMajorVersionUpgrade"] is False
    assert props["iamDatabaseAuthenticationEnabled"] is True
    assert props["applyImmediately"] is False
    assert "backupWindow" not in props and "maintenanceWindow" not in props


def test_storage_is_encrypted_gp3_with_autoscaling(run: Run) -> None:
    props = instance(build(run)[0])
    assert props["storageEncrypted"] is True
    assert "kmsKeyId" not in props  # the AWS-managed aws/rds key
    assert props["storageType"] == "gp3"
    assert props["allocatedStorage"] == 20
    assert props["maxAllocatedStorage"] == 100


def test_storage_sizes_can_be_chosen(run: Run) -> None:
    props = instance(build(run, allocated_storage=50, max_allocated_storage=500)[0])
    assert (props["allocatedStorage"], props["maxAllocatedStorage"]) == (50, 500)


def test_customer_managed_key_encrypts_storage_insights_and_secret(run: Run) -> None:
    recording, seen = build(run, kms_key_arn=CMK)
    props = instance(recording)
    assert props["kmsKeyId"] == CMK
    assert props["performanceInsightsKmsKeyId"] == CMK
    assert props["masterUserSecretKmsKeyId"] == CMK
    assert seen["db"].kms_key_arn == CMK


def test_secret_key_can_differ_from_storage_key(run: Run) -> None:
    recording, seen = build(run, kms_key_arn=CMK, master_user_secret_kms_key_arn=SECRET_CMK)
    props = instance(recording)
    assert props["kmsKeyId"] == CMK
    assert props["masterUserSecretKmsKeyId"] == SECRET_CMK
    assert seen["db"].kms_key_arn == SECRET_CMK


def test_without_cmk_the_secret_uses_the_aws_managed_key(run: Run) -> None:
    recording, seen = build(run)
    assert "masterUserSecretKmsKeyId" not in instance(recording)
    assert seen["db"].kms_key_arn is None


def test_password_is_managed_by_rds_and_never_an_input(run: Run) -> None:
    recording, seen = build(run)
    assert instance(recording)["manageMasterUserPassword"] is True
    for record in recording:
        assert not {"password", "passwordWo"} & keys_in(record.inputs), record.name
    assert seen["master_secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:")


def test_outputs_describe_the_instance(run: Run) -> None:
    _, seen = build(run)
    db = seen["db"]
    assert (db.engine, db.port, db.database_name) == ("mysql", 3306, "analytics")
    assert db.network is NETWORK
    assert seen["identifier"] == "db-dev"
    assert seen["endpoint"] == f"{seen['address']}:3306"
    assert seen["security_group_id"].startswith("sg-")


# --- resilience ---------------------------------------------------------------------------


def snapshot_name(recording: Recording) -> str:
    name = instance(recording)["finalSnapshotIdentifier"]
    assert isinstance(name, str)
    return name


def test_deletion_protection_and_a_final_snapshot_with_a_random_suffix(run: Run) -> None:
    recording, _ = build(run, stack="prod")
    props = instance(recording)
    assert props["deletionProtection"] is True
    assert props["skipFinalSnapshot"] is False
    suffix = recording.one(RANDOM_ID)
    assert suffix.inputs["byteLength"] == 4
    assert re.fullmatch(r"[0-9a-f]{8}", suffix.outputs["hex"])
    # The suffix is the RandomId's: a new instance lifetime (new RandomId) gets a new name.
    assert props["finalSnapshotIdentifier"] == f"db-prod-final-{suffix.outputs['hex']}"
    assert SNAPSHOT_IDENTIFIER.match(props["finalSnapshotIdentifier"])


def test_final_snapshot_is_kept_even_without_deletion_protection(run: Run) -> None:
    recording, _ = build(run, deletion_protection=False)
    props = instance(recording)
    assert props["deletionProtection"] is False
    assert props["skipFinalSnapshot"] is False
    assert re.fullmatch(r"db-dev-final-[0-9a-f]{8}", props["finalSnapshotIdentifier"])


@pytest.mark.parametrize(
    "identifier", ["a", "shop-main", "db-2024", "x" * 62 + "9", "a-b-c-d-e-f-g-h-i-j-k"]
)
def test_final_snapshot_name_is_valid_for_any_valid_identifier(run: Run, identifier: str) -> None:
    name = snapshot_name(build(run, identifier=identifier)[0])
    assert name.startswith(f"{identifier}-final-")
    assert SNAPSHOT_IDENTIFIER.match(name), name


def test_final_snapshot_names_differ_between_stacks_and_identifiers(run: Run) -> None:
    names = {
        snapshot_name(build(run, stack="dev")[0]),
        snapshot_name(build(run, stack="prod")[0]),
        snapshot_name(build(run, stack="prod", identifier="shop-main")[0]),
    }
    assert len(names) == 3


def test_snapshot_suffix_keepers_are_the_instance_replace_forcing_inputs(run: Run) -> None:
    # A change of a keeper replaces the RandomId, so a replaced instance gets a new name too.
    recording, _ = build(
        run, identifier="shop-main", database_name="shop", master_username="shop_owner"
    )
    suffix = recording.one(RANDOM_ID)
    assert suffix.inputs["keepers"] == {
        "identifier": "shop-main",
        "engine": "mysql",
        "db_name": "shop",
        "username": "shop_owner",
    }
    assert suffix.parent == recording.one(COMPONENT).urn
    dependencies = recording.one(INSTANCE).property_dependencies
    assert suffix.urn in dependencies["finalSnapshotIdentifier"]


def test_snapshot_suffix_keepers_include_the_storage_key(run: Run) -> None:
    recording, _ = build(run, kms_key_arn=CMK)
    keepers = recording.one(RANDOM_ID).inputs["keepers"]
    assert keepers["identifier"] == "db-dev"
    assert keepers["kms_key_id"] == CMK


@pytest.mark.parametrize(
    ("field", "value", "prop"),
    [
        ("multi_az", False, "multiAz"),
        ("backup_retention_days", 0, "backupRetentionPeriod"),
        ("backup_retention_days", 35, "backupRetentionPeriod"),
        ("iam_auth", False, "iamDatabaseAuthenticationEnabled"),
        ("apply_immediately", True, "applyImmediately"),
        ("backup_window", "03:00-03:30", "backupWindow"),
        ("maintenance_window", "sun:05:00-sun:06:00", "maintenanceWindow"),
        ("instance_class", "db.r7g.2xlarge", "instanceClass"),
        ("database_name", "Shop_2024", "dbName"),
        ("master_username", "shop_owner", "username"),
        ("port", 13306, "port"),
    ],
)
def test_plain_options_reach_the_instance(run: Run, field: str, value: Any, prop: str) -> None:
    assert instance(build(run, **{field: value})[0])[prop] == value


def test_identifier_defaults_to_a_valid_name_per_stack(run: Run) -> None:
    def program() -> None:
        Database("Analytics_DB", {"network": NETWORK})

    recording = run(program, stack="prod")
    props = recording.one(INSTANCE).inputs
    assert props["identifier"] == "analytics-db-prod"
    assert re.fullmatch(r"analytics-db-prod-final-[0-9a-f]{8}", props["finalSnapshotIdentifier"])


def test_identifier_can_be_given(run: Run) -> None:
    recording, _ = build(run, identifier="shop-main")
    assert instance(recording)["identifier"] == "shop-main"
    assert {g.inputs["name"] for g in recording.of_type(LOG_GROUP)} == {
        "/aws/rds/instance/shop-main/error",
        "/aws/rds/instance/shop-main/slowquery",
    }


# --- engines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "version", "family", "port"),
    [
        ("mysql", None, "mysql8.0", 3306),
        ("mysql", "8.4", "mysql8.4", 3306),
        ("postgres", None, "postgres16", 5432),
        ("postgres", "15", "postgres15", 5432),
        ("postgres", "17", "postgres17", 5432),
    ],
)
def test_parameter_group_family_follows_engine_version(
    run: Run, engine: str, version: str | None, family: str, port: int
) -> None:
    overrides: dict[str, Any] = {"engine": engine}
    if version is not None:
        overrides["engine_version"] = version
    recording, seen = build(run, **overrides)
    props = instance(recording)
    assert recording.one(PARAMETER_GROUP).inputs["family"] == family
    assert props["engineVersion"] == family.removeprefix(engine)
    assert props["port"] == port == seen["db"].port
    assert props["parameterGroupName"] == recording.one(PARAMETER_GROUP).outputs["name"]


def test_mysql_parameter_group_requires_tls_and_logs_slow_queries(run: Run) -> None:
    params = parameters(build(run)[0])
    # RDS instance parameter groups take the boolean as 0/1 ("ON" is Aurora's cluster form).
    assert params["require_secure_transport"] == "1"
    assert params["slow_query_log"] == "1"
    assert params["log_output"] == "FILE"
    assert "general_log" not in params


def test_postgres_parameter_group_forces_ssl(run: Run) -> None:
    recording, seen = build(run, engine="postgres")
    params = parameters(recording)
    assert params["rds.force_ssl"] == "1"
    assert params["log_min_duration_statement"] == "2000"
    assert "require_secure_transport" not in params
    assert seen["db"].engine == "postgres"


@pytest.mark.parametrize(
    ("engine", "logs"),
    [("mysql", ["error", "slowquery"]), ("postgres", ["postgresql", "upgrade"])],
)
def test_log_exports_per_engine_go_to_retained_log_groups(
    run: Run, engine: str, logs: list[str]
) -> None:
    recording, _ = build(run, engine=engine)
    record = recording.one(INSTANCE)
    assert record.inputs["enabledCloudwatchLogsExports"] == logs
    groups = recording.of_type(LOG_GROUP)
    assert sorted(g.inputs["name"] for g in groups) == [
        f"/aws/rds/instance/db-dev/{log}" for log in logs
    ]
    assert {g.inputs["retentionInDays"] for g in groups} == {365}
    # The instance waits for them, or RDS would create them without retention first.
    assert {g.urn for g in groups} <= set(record.dependencies)


def test_log_exports_and_retention_can_be_chosen(run: Run) -> None:
    recording, _ = build(
        run, log_exports=["error", "general"], log_retention_days=30, log_kms_key_arn=CMK
    )
    assert instance(recording)["enabledCloudwatchLogsExports"] == ["error", "general"]
    assert parameters(recording)["general_log"] == "1"
    assert "slow_query_log" not in parameters(recording)
    for group in recording.of_type(LOG_GROUP):
        assert group.inputs["retentionInDays"] == 30
        assert group.inputs["kmsKeyId"] == CMK


# --- observability ------------------------------------------------------------------------


def test_performance_insights_on_by_default_with_seven_days(run: Run) -> None:
    props = instance(build(run)[0])
    assert props["performanceInsightsEnabled"] is True
    assert props["performanceInsightsRetentionPeriod"] == 7


def test_performance_insights_can_have_its_own_key_without_moving_storage(run: Run) -> None:
    # Storage keeps the AWS-managed key (changing it would replace the instance); only the
    # Performance Insights data moves under the customer-managed key.
    props = instance(build(run, performance_insights_kms_key_arn=CMK)[0])
    assert props["performanceInsightsKmsKeyId"] == CMK
    assert "kmsKeyId" not in props


def test_performance_insights_can_be_turned_off_on_small_classes(run: Run) -> None:
    props = instance(build(run, instance_class="db.t4g.micro", performance_insights=False)[0])
    assert props["performanceInsightsEnabled"] is False
    assert "performanceInsightsRetentionPeriod" not in props


def test_postgres_keeps_performance_insights_on_small_classes(run: Run) -> None:
    props = instance(build(run, engine="postgres", instance_class="db.t4g.micro")[0])
    assert props["performanceInsightsEnabled"] is True


def test_enhanced_monitoring_uses_a_role_trusted_by_rds_monitoring(run: Run) -> None:
    recording, _ = build(run)
    role = recording.one(ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    attachment = recording.one(ATTACHMENT)
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert attachment.inputs["role"] == role.outputs["name"]
    props = recording.one(INSTANCE)
    assert props.inputs["monitoringInterval"] == 60
    assert props.inputs["monitoringRoleArn"] == role.outputs["arn"]
    assert attachment.urn in props.dependencies


def test_monitoring_interval_zero_creates_no_role(run: Run) -> None:
    recording, _ = build(run, monitoring_interval=0)
    assert recording.of_type(ROLE) == [] and recording.of_type(ATTACHMENT) == []
    props = instance(recording)
    assert props["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in props


# --- network ------------------------------------------------------------------------------


def test_subnet_group_uses_the_isolated_subnets(run: Run) -> None:
    recording, _ = build(run)
    group = recording.one(SUBNET_GROUP)
    assert group.inputs["subnetIds"] == ["subnet-iso-a", "subnet-iso-b"]
    assert instance(recording)["dbSubnetGroupName"] == group.outputs["name"]


def test_accepts_anything_with_a_network_ref(run: Run) -> None:
    def program() -> None:
        Database("db", {"network": FakeNetwork()})

    recording = run(program)
    assert recording.one(SUBNET_GROUP).inputs["subnetIds"] == ["subnet-iso-a", "subnet-iso-b"]


def test_security_group_admits_only_the_given_groups_on_the_engine_port(run: Run) -> None:
    recording, seen = build(run, allowed_security_group_ids=["sg-app", "sg-worker"])
    group = recording.one(SECURITY_GROUP)
    assert group.inputs["vpcId"] == NETWORK.vpc_id
    assert group.inputs["description"]
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert recording.of_type(EGRESS_RULE) == []
    assert instance(recording)["vpcSecurityGroupIds"] == [seen["security_group_id"]]
    rules = recording.of_type(INGRESS_RULE)
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == ["sg-app", "sg-worker"]
    for rule in rules:
        assert rule.inputs["securityGroupId"] == seen["security_group_id"]
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (3306, 3306)
        assert rule.inputs["ipProtocol"] == "tcp"
        assert rule.inputs["description"]
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)


def test_nobody_is_admitted_by_default(run: Run) -> None:
    assert build(run)[0].of_type(INGRESS_RULE) == []


def test_allow_from_adds_a_rule_on_the_engine_port(run: Run) -> None:
    def program() -> None:
        db = Database("db", {"network": NETWORK, "engine": "postgres", "port": 15432})
        db.allow_from("api", "sg-api")

    recording = run(program)
    rule = recording.named("db-from-api")
    assert rule.type == INGRESS_RULE
    assert rule.parent == recording.one(COMPONENT).urn
    assert rule.inputs["referencedSecurityGroupId"] == "sg-api"
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (15432, 15432)
    assert rule.inputs["securityGroupId"] == recording.one(SECURITY_GROUP).outputs["id"]


# --- tags and structure -------------------------------------------------------------------


def _everything(run: Run) -> Recording:
    def program() -> None:
        db = Database(
            "db",
            {
                "network": NETWORK,
                "allowed_security_group_ids": ["sg-app"],
                "environment": "prod",
                "owner": "data-team",
                "tags": {"cost-center": "analytics"},
            },
        )
        db.allow_from("api", "sg-api")

    return run(program)


def test_every_taggable_resource_carries_standard_and_caller_tags(run: Run) -> None:
    recording = _everything(run)
    assert missing_standard_tags(recording) == []
    taggable = [r for r in recording if accepts_tags(r.type)]
    assert {r.type for r in taggable} >= {
        INSTANCE, SECURITY_GROUP, INGRESS_RULE, SUBNET_GROUP, PARAMETER_GROUP, LOG_GROUP, ROLE
    }  # fmt: skip
    for record in taggable:
        tags = record.inputs["tags"]
        assert (tags["environment"], tags["owner"]) == ("prod", "data-team"), record.name
        assert tags["cost-center"] == "analytics", record.name


def test_every_child_is_parented_to_the_component(run: Run) -> None:
    recording = _everything(run)
    component = recording.one(COMPONENT)
    children = [r for r in recording if r is not component]
    assert children
    assert all(r.parent == component.urn for r in children)


def test_every_args_field_is_documented_with_its_default() -> None:
    assert undocumented_fields(platformkit.database, "DatabaseArgs") == []
    assert fields_without_default(platformkit.database, "DatabaseArgs") == ["network"]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "value"),
    [
        ({"engine": "oracle"}, "engine", "oracle"),
        ({"engine_version": "16"}, "engine_version", "16"),
        ({"engine": "postgres", "engine_version": "8.0"}, "engine_version", "8.0"),
        ({"engine_version": "8.0.39"}, "engine_version", "8.0.39"),
        ({"instance_class": "t3.micro"}, "instance_class", "t3.micro"),
        ({"instance_class": "db.large"}, "instance_class", "db.large"),
        ({"database_name": "1shop"}, "database_name", "1shop"),
        ({"database_name": "shop-db"}, "database_name", "shop-db"),
        ({"database_name": "a" * 65}, "database_name", "a" * 65),
        ({"engine": "postgres", "database_name": "a" * 64}, "database_name", "a" * 64),
        ({"master_username": "admin"}, "master_username", "admin"),
        ({"master_username": "Root"}, "master_username", "Root"),
        ({"engine": "postgres", "master_username": "postgres"}, "master_username", "postgres"),
        ({"master_username": "a" * 17}, "master_username", "a" * 17),
        ({"master_username": "app user"}, "master_username", "app user"),
        ({"backup_retention_days": 36}, "backup_retention_days", 36),
        ({"backup_retention_days": -1}, "backup_retention_days", -1),
        ({"allocated_storage": 10}, "allocated_storage", 10),
        ({"allocated_storage": 200}, "max_allocated_storage", 100),
        ({"max_allocated_storage": 70000}, "max_allocated_storage", 70000),
        ({"monitoring_interval": 2}, "monitoring_interval", 2),
        ({"monitoring_interval": True}, "monitoring_interval", True),
        ({"instance_class": "db.t3.micro"}, "performance_insights", True),
        ({"instance_class": "db.t4g.small"}, "performance_insights", True),
        ({"log_exports": ["audit"]}, "log_exports", ["audit"]),
        ({"log_exports": ["postgresql"]}, "log_exports", ["postgresql"]),
        ({"engine": "postgres", "log_exports": ["slowquery"]}, "log_exports", ["slowquery"]),
        ({"log_exports": ["error", "error"]}, "log_exports", ["error", "error"]),
        ({"log_retention_days": 10}, "log_retention_days", 10),
        ({"log_retention_days": True}, "log_retention_days", True),
        ({"multi_az": "yes"}, "multi_az", "yes"),
        ({"engin": "postgres"}, "args", ["engin"]),
        ({"port": 80}, "port", 80),
        ({"backup_window": "3am"}, "backup_window", "3am"),
        (
            {"maintenance_window": "Sun:05:00-Sun:06:00"},
            "maintenance_window",
            "Sun:05:00-Sun:06:00",
        ),
        ({"identifier": "Shop_DB"}, "identifier", "Shop_DB"),
        ({"identifier": "shop--db"}, "identifier", "shop--db"),
    ],
)
def test_bad_arguments_raise_naming_field_and_value(
    run: Run, overrides: dict[str, Any], field: str, value: Any
) -> None:
    with pytest.raises(ValueError, match="Database 'db'") as error:
        build(run, **overrides)
    message = str(error.value)
    assert f"{field}={value!r} is invalid" in message


def test_fewer_than_two_isolated_subnets_is_refused(run: Run) -> None:
    one_subnet = NetworkRef(
        vpc_id="vpc-0abc", vpc_cidr_block="10.20.0.0/16", isolated_subnet_ids=["subnet-iso-a"]
    )

    def program() -> None:
        Database("db", {"network": one_subnet})

    with pytest.raises(ValueError, match=r"isolated_subnet_ids=\['subnet-iso-a'\].*two isolated"):
        run(program)


def test_validation_fails_before_anything_is_registered(run: Run) -> None:
    def program() -> None:
        with pytest.raises(ValueError):
            Database("db", {"network": NETWORK, "engine": "oracle"})

    assert run(program).resources == []


def test_preview_leaves_computed_outputs_unknown_without_failing(run: Run) -> None:
    def program() -> None:
        Database("db", {"network": NETWORK})

    recording = run(program, mode="preview")
    props = recording.one(INSTANCE).inputs
    assert props["manageMasterUserPassword"] is True
    assert props["skipFinalSnapshot"] is False
    # Computed from the RandomId, which a preview of a new stack has not created yet.
    assert props["finalSnapshotIdentifier"] is COMPUTED
    assert recording.one(RANDOM_ID).inputs["keepers"]["identifier"] == "db-dev"
