"""`platformkit dr-drill` against moto: restore, measure, always clean up, refuse strangers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from platformkit.ops.aws import AwsClients
from platformkit.ops.dr_drill import TAG_DRILL, TAG_SOURCE
from tests.ops.conftest import DB_ID, STACK, Override, StackFixture


def instances(stack: StackFixture) -> list[str]:
    return sorted(
        i["DBInstanceIdentifier"] for i in stack.rds.describe_db_instances()["DBInstances"]
    )


def drill(stack: StackFixture, *extra: str, **overrides: Any) -> int:
    return stack.run(["dr-drill", "--stack", STACK, "--poll", "30", *extra], **overrides)


def test_drill_restores_measures_and_deletes(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert drill(stack) == 0
    out = capsys.readouterr().out
    assert "restored automated snapshot rds:analytics-prod-" in out
    assert "in 0.5 min; RTO 60 min met" in out
    assert instances(stack) == [DB_ID]
    assert stack.time.sleeps == [30.0]


def test_drill_restores_into_the_stacks_subnet_group_and_security_group(
    stack: StackFixture,
) -> None:
    seen: dict[str, Any] = {}
    rds = stack.rds
    database = stack.outputs["operations"]["database"]

    def look(_count: int) -> None:
        (temp,) = [
            i
            for i in rds.describe_db_instances()["DBInstances"]
            if i["DBInstanceIdentifier"] != DB_ID
        ]
        seen.update(temp)

    stack.time.on_sleep = look
    assert drill(stack) == 0
    assert seen["DBInstanceIdentifier"].startswith(f"{DB_ID}-drill-")
    assert seen["DBSubnetGroup"]["DBSubnetGroupName"] == database["subnetGroupName"]
    assert [g["VpcSecurityGroupId"] for g in seen["VpcSecurityGroups"]] == [
        database["securityGroupId"]
    ]
    tags = {t["Key"]: t["Value"] for t in seen["TagList"]}
    assert tags[TAG_DRILL] == STACK
    assert tags[TAG_SOURCE] == DB_ID


def test_interrupted_drill_still_deletes_its_instance(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(_count: int) -> None:
        assert len(instances(stack)) == 2  # the restore is under way
        raise KeyboardInterrupt

    stack.time.on_sleep = interrupt
    assert drill(stack) == 130
    assert instances(stack) == [DB_ID]
    assert "interrupted; the temporary instance was deleted" in capsys.readouterr().err


def test_missed_rto_fails_and_deletes(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.outputs["operations"]["rtoMinutes"] = 1
    assert drill(stack, "--poll", "90") == 1
    assert "RTO 1 min MISSED" in capsys.readouterr().out
    assert instances(stack) == [DB_ID]


def test_timeout_fails_and_deletes(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    rds = stack.rds

    def never_available(**kwargs: Any) -> Any:
        response = rds.describe_db_instances(**kwargs)
        for instance in response["DBInstances"]:
            if instance["DBInstanceIdentifier"] != DB_ID:
                instance["DBInstanceStatus"] = "creating"
        return response

    def clients(region: str | None) -> AwsClients:
        real = stack.clients(region)
        fake: Any = Override(real.rds, describe_db_instances=never_available)
        return replace(real, rds=fake)

    assert drill(stack, "--timeout", "2", make_clients=clients) == 1
    assert "not available before the timeout (status creating)" in capsys.readouterr().err
    assert instances(stack) == [DB_ID]


def test_keep_then_cleanup(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    assert drill(stack, "--keep") == 0
    assert "dr-drill --cleanup --stack prod" in capsys.readouterr().out
    assert len(instances(stack)) == 2
    assert drill(stack, "--cleanup") == 0
    assert "deleted 1 drill leftover(s)" in capsys.readouterr().out
    assert instances(stack) == [DB_ID]


def test_cleanup_leaves_untagged_look_alikes(stack: StackFixture) -> None:
    database = stack.outputs["operations"]["database"]
    stack.rds.create_db_instance(
        DBInstanceIdentifier=f"{DB_ID}-drill-handmade",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        MasterUsername="x",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        DBSubnetGroupName=database["subnetGroupName"],
    )
    assert drill(stack, "--cleanup") == 0
    assert instances(stack) == [DB_ID, f"{DB_ID}-drill-handmade"]


def test_new_snapshot_is_taken_and_deleted(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert drill(stack, "--new-snapshot") == 0
    assert "restored manual snapshot analytics-prod-drill-" in capsys.readouterr().out
    manual = stack.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert manual == []


def test_refuses_a_database_outside_the_declared_subnet_group(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.outputs["operations"]["database"]["subnetGroupName"] = "someone-elses"
    assert drill(stack) == 2
    assert "refusing to drill" in capsys.readouterr().err
    assert instances(stack) == [DB_ID]


def test_missing_database_output_refuses(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    del stack.outputs["operations"]["database"]
    assert drill(stack) == 2
    assert "operations.database is missing" in capsys.readouterr().err
