"""The AWS region offline: found where pulumi-aws finds it, or the provider's refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main

DEFAULT_PROVIDER = """\
import pulumi
import pulumi_aws as aws

topic = aws.sns.Topic("alerts")
pulumi.export("arn", topic.arn)
"""
EXPLICIT_PROVIDER = """\
import pulumi
import pulumi_aws as aws

eu = aws.Provider("eu", {region})
topic = aws.sns.Topic("alerts", opts=pulumi.ResourceOptions(provider=eu))
pulumi.export("arn", topic.arn)
"""
MISSING = (
    "error: pulumi:providers:aws (default) has a problem: missing region information; set "
    "aws:region in Pulumi.dev.yaml (`pulumi config set aws:region us-west-2 --stack dev`), "
    "or AWS_REGION in the environment\n"
)


@pytest.fixture(autouse=True)
def no_ambient_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region from this machine: no variables, and an AWS config file that does not exist."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))


def project(tmp_path: Path, program: str, stack_config: dict[str, str] | None = None) -> Path:
    directory = tmp_path / "regional"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: regional\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text(json.dumps({"config": stack_config or {}}))
    (directory / "__main__.py").write_text(program)
    return directory


def preview(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(["preview", str(directory), "--stack", "dev", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["outputs"] if out else None, err


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_no_region_fails_as_the_provider_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    directory = project(tmp_path, DEFAULT_PROVIDER)
    assert main(["preview", str(directory), "--stack", "dev", "--mode", mode]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", MISSING)


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_the_region_may_come_from_the_environment(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    monkeypatch.setenv(variable, "ap-southeast-2")
    code, outputs, err = preview(project(tmp_path, DEFAULT_PROVIDER), capsys)
    assert code == 0, err
    assert outputs["arn"].startswith("arn:aws:sns:ap-southeast-2:")


def test_the_stack_region_wins_over_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    directory = project(tmp_path, DEFAULT_PROVIDER, {"aws:region": "eu-central-1"})
    code, outputs, err = preview(directory, capsys)
    assert code == 0, err
    assert outputs["arn"].startswith("arn:aws:sns:eu-central-1:")


def test_the_region_may_come_from_the_aws_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[default]\nregion = us-east-2\n[profile ops]\nregion = ca-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    directory = project(tmp_path, DEFAULT_PROVIDER, {"aws:profile": "ops"})
    code, outputs, err = preview(directory, capsys)
    assert code == 0, err
    assert outputs["arn"].startswith("arn:aws:sns:ca-central-1:")


def test_an_explicit_provider_with_a_region_needs_no_stack_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = EXPLICIT_PROVIDER.format(region='region="eu-west-1"')
    code, outputs, err = preview(project(tmp_path, program), capsys)
    assert code == 0, err
    assert outputs["arn"].startswith("arn:aws:sns:")


def test_an_explicit_provider_ignores_the_stack_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As with pulumi-aws: an explicit provider is configured by its arguments, not aws:*.
    program = EXPLICIT_PROVIDER.format(region="")
    directory = project(tmp_path, program, {"aws:region": "eu-west-1"})
    code, _, err = preview(directory, capsys)
    assert code == 2
    assert err.startswith("error: pulumi:providers:aws 'eu' has a problem: missing region")
    assert "pass region= to the provider" in err and len(err.splitlines()) == 1


def test_a_program_without_aws_needs_no_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project(tmp_path, "import pulumi\npulumi.export('greeting', 'hello')\n")
    code, outputs, err = preview(directory, capsys)
    assert code == 0, err
    assert outputs == {"greeting": "hello"}
