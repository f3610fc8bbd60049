"""`platformkit verify` against a prod stack in moto: a healthy stack passes, each fault fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto import mock_aws

from platformkit.ops.aws import make_clients
from platformkit.ops.checks import Unreachable
from tests.ops.conftest import STACK, StackFixture, build_stack


def verify(stack: StackFixture, *extra: str) -> int:
    return stack.run(["verify", "--stack", STACK, *extra])


def test_healthy_stack_passes(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(stack) == 0
    out = capsys.readouterr().out
    for name in ("ecs-service", "ecs-task-spread", "target-health", "listeners", "database",
                 "database-recovery-point", "alarms", "readyz"):  # fmt: skip
        assert f"PASS  {name}" in out
    assert "OK: 8 passed, 0 failed, 0 skipped" in out
    assert stack.http_calls == ["https://analytics-alb-1234.us-east-1.elb.amazonaws.com/readyz"]
    assert stack.time.sleeps == []


def test_json_report(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(stack, "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    assert document["region"] == "us-east-1"
    assert {check["status"] for check in document["checks"]} == {"pass"}


def test_outputs_file_is_read(
    stack: StackFixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack.write_outputs(tmp_path / "prod.json")
    assert verify(stack, "--outputs", str(path)) == 0


def test_a_task_short_fails_after_retrying(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        stack = build_stack(monkeypatch, running=1, desired=2)
        assert verify(stack, "--attempts", "4") == 1
    out = capsys.readouterr().out
    assert "FAIL  ecs-service" in out
    assert "1 of 2 desired tasks running" in out
    assert "(after 4 tries)" in out
    assert stack.time.sleeps == [5.0, 10.0, 20.0]


def test_tasks_in_one_az_fail_in_prod(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.task_zones = ["us-east-1a", "us-east-1a"]
    assert verify(stack, "--attempts", "1") == 1
    assert "2 running task(s) in 1 AZ(s) (us-east-1a); prod needs at least 2" in (
        capsys.readouterr().out
    )


def test_an_unhealthy_target_fails(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    stack.target_health = [
        {"Target": {"Id": "10.0.10.5", "Port": 8080}, "TargetHealth": {"State": "healthy"}},
        {
            "Target": {"Id": "10.0.11.5", "Port": 8080},
            "TargetHealth": {"State": "unhealthy", "Reason": "Target.FailedHealthChecks"},
        },
    ]
    assert verify(stack, "--attempts", "2") == 1
    out = capsys.readouterr().out
    assert (
        "FAIL  target-health            1 of 2 targets not healthy: "
        "10.0.11.5:8080 unhealthy (Target.FailedHealthChecks) (after 2 tries)"
    ) in out


def test_a_target_that_becomes_healthy_passes_on_retry(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.target_health = [
        {"Target": {"Id": "10.0.10.5", "Port": 8080}, "TargetHealth": {"State": "initial"}}
    ]

    def heal(_count: int) -> None:
        stack.target_health = None

    stack.time.on_sleep = heal
    assert verify(stack) == 0
    assert "PASS  target-health            2 of 2 targets healthy (after 2 tries)" in (
        capsys.readouterr().out
    )


def test_a_non_multi_az_prod_database_fails(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        stack = build_stack(monkeypatch, multi_az=False)
        assert verify(stack) == 1
    out = capsys.readouterr().out
    assert "FAIL  database " in out
    assert "Multi-AZ is off but the stack declares multiAz: true" in out
    assert stack.time.sleeps == []  # a configuration finding is not retried


def test_a_firing_alarm_fails(stack: StackFixture, capsys: pytest.CaptureFixture[str]) -> None:
    stack.session.client("cloudwatch").set_alarm_state(
        AlarmName="analytics-5xx-rate-1", StateValue="ALARM", StateReason="5xx above 5%"
    )
    assert verify(stack) == 1
    assert (
        "1 alarm(s) notifying the stack's alarm topic in ALARM: analytics-5xx-rate-1 (5xx above 5%)"
    ) in capsys.readouterr().out


def test_a_plain_http_listener_fails_when_https_is_declared(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        stack = build_stack(monkeypatch, https=False)
        stack.outputs["operations"]["https"] = True
        assert verify(stack) == 1
    assert "no HTTPS listener on 443 (the stack declares https: true)" in capsys.readouterr().out


def test_readyz_not_200_fails_and_unreachable_skips(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.http_status = 503
    assert verify(stack, "--attempts", "1") == 1
    assert "GET https://analytics-alb-1234.us-east-1.elb.amazonaws.com/readyz answered 503" in (
        capsys.readouterr().out
    )
    stack.http_status = Unreachable("timed out")
    assert verify(stack) == 0
    assert "SKIP  readyz" in capsys.readouterr().out


def test_a_missing_output_cannot_verify(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    del stack.outputs["operations"]["targetGroupArn"]
    del stack.outputs["operations"]["database"]["subnetGroupName"]
    assert verify(stack) == 2
    err = capsys.readouterr().err
    assert "operations.targetGroupArn is missing (a non-empty string)" in err
    assert "operations.database.subnetGroupName is missing" in err


def test_no_operations_output_names_the_fix(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    del stack.outputs["operations"]
    assert verify(stack) == 2
    assert "the stack has no 'operations' output" in capsys.readouterr().err


def test_no_credentials(
    stack: StackFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    # The real client factory: a fresh session that finds no credentials anywhere.
    assert stack.run(["verify", "--stack", STACK], make_clients=make_clients) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err
    assert "aws-actions/configure-aws-credentials" in err


def test_a_region_other_than_the_stacks_is_refused(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(stack, "--region", "eu-west-1") == 2
    assert "--region eu-west-1 but the stack's resources are in us-east-1" in (
        capsys.readouterr().err
    )


def test_resources_missing_in_the_region_say_so(
    stack: StackFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    del stack.outputs["operations"]["region"]
    assert verify(stack, "--region", "eu-west-1", "--skip-http", "--attempts", "1") == 1
    out = capsys.readouterr().out
    assert "not found in region eu-west-1" in out
    assert "is --region the stack's region" in out
