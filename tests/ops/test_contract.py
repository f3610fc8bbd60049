"""The operations contract: parsing, defaults, and reading outputs from a file or the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.ops.contract import (
    DatabaseContract,
    OperationsContract,
    OutputsError,
    load_outputs,
    parse_contract,
)


def minimal(**changes: Any) -> dict[str, Any]:
    operations: dict[str, Any] = {
        "environment": "dev",
        "clusterName": "c",
        "serviceName": "s",
        "loadBalancerArn": "arn:lb",
        "targetGroupArn": "arn:tg",
        "https": False,
        "database": {
            "identifier": "analytics-dev",
            "subnetGroupName": "g",
            "securityGroupId": "sg-1",
            "multiAz": False,
            "backupRetentionDays": 1.0,
            "deletionProtection": False,
        },
    }
    operations.update(changes)
    return {"operations": operations}


def test_defaults() -> None:
    contract = parse_contract(minimal())
    assert contract.min_task_azs == 1
    assert contract.rto_minutes == 60
    assert contract.rpo_minutes == 15
    assert contract.database.backup_retention_days == 1
    assert contract.database.storage_encrypted is True
    assert parse_contract(minimal(environment="prod")).min_task_azs == 2


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(OutputsError) as error:
        parse_contract(minimal(https="yes", clusterName=None, rtoMinutes=True))
    message = str(error.value)
    assert "operations.https must be true or false, got 'yes'" in message
    assert "operations.clusterName is missing" in message
    assert "operations.rtoMinutes must be an integer, got True" in message


def test_a_newer_contract_version_is_refused() -> None:
    with pytest.raises(OutputsError, match="contractVersion 2"):
        parse_contract(minimal(contractVersion=2))


def test_outputs_from_the_pulumi_cli_without_secrets() -> None:
    commands: list[list[str]] = []

    def run(command: Any) -> str:
        commands.append(list(command))
        return json.dumps(minimal())

    outputs = load_outputs("dev", run=run, which=lambda _name: "/usr/bin/pulumi")
    assert parse_contract(outputs).cluster_name == "c"
    assert commands == [["pulumi", "stack", "output", "--json", "--stack", "dev"]]


def test_no_pulumi_cli_and_no_file() -> None:
    with pytest.raises(OutputsError, match="pass --outputs FILE"):
        load_outputs("dev", which=lambda _name: None)


def test_bad_outputs_file(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text("[1]")
    with pytest.raises(OutputsError, match="must hold a JSON object"):
        load_outputs("dev", path)
    with pytest.raises(OutputsError, match="cannot read outputs file"):
        load_outputs("dev", tmp_path / "missing.json")


def test_a_contract_round_trips_through_its_json_shape() -> None:
    contract = OperationsContract(
        environment="prod",
        region="eu-west-1",
        url="https://shop.example.com",
        cluster_name="c",
        service_name="s",
        load_balancer_arn="arn:lb",
        target_group_arn="arn:tg",
        https=True,
        alarm_topic_arn="arn:topic",
        min_task_azs=3,
        database=DatabaseContract(
            identifier="analytics-prod",
            subnet_group_name="g",
            security_group_id="sg-1",
            multi_az=True,
            backup_retention_days=30,
            deletion_protection=True,
            storage_encrypted=True,
        ),
        rto_minutes=45,
        rpo_minutes=5,
    )
    exported = contract.to_json()
    # The keys deployed stacks already export (docs/operations.md): never renamed.
    assert list(exported) == [
        "contractVersion",
        "environment",
        "region",
        "url",
        "clusterName",
        "serviceName",
        "loadBalancerArn",
        "targetGroupArn",
        "https",
        "alarmTopicArn",
        "minTaskAzs",
        "database",
        "rtoMinutes",
        "rpoMinutes",
    ]
    assert exported["contractVersion"] == 1
    assert exported["database"] == {
        "identifier": "analytics-prod",
        "subnetGroupName": "g",
        "securityGroupId": "sg-1",
        "multiAz": True,
        "backupRetentionDays": 30,
        "deletionProtection": True,
        "storageEncrypted": True,
    }
    assert parse_contract(json.loads(json.dumps({"operations": exported}))) == contract


def test_a_missing_database_object_is_named() -> None:
    outputs = minimal()
    outputs["operations"]["database"] = "analytics-dev"
    with pytest.raises(OutputsError, match=r"operations\.database is missing \(an object\)"):
        parse_contract(outputs)


def test_a_mistyped_contract_version_is_named_with_the_other_problems() -> None:
    with pytest.raises(OutputsError) as error:
        parse_contract(minimal(contractVersion="one", clusterName=""))
    message = str(error.value)
    assert "operations.contractVersion must be an integer, got 'one'" in message
    assert "operations.clusterName must be a non-empty string, got ''" in message
