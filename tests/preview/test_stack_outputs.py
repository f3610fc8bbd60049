"""`StackReference` offline: other stacks' outputs from `--stack-outputs` files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main

# Reads every StackReference accessor; `detail` reports what get_output_details returned.
PROGRAM = """\
import pulumi

ref = pulumi.StackReference("network", stack_name="{name}")
password = ref.get_output("dbPassword")


async def details():
    found = await ref.get_output_details("dbPassword")
    return {{"value": found.value, "secretValueSet": found.secret_value is not None}}


pulumi.export("vpcId", ref.require_output("vpcId"))
pulumi.export("subnets", ref.get_output("subnetIds"))
pulumi.export("missing", ref.get_output("noSuchOutput"))
pulumi.export("password", password)
pulumi.export("passwordLength", password.apply(len))
pulumi.export("details", pulumi.Output.from_input(details()))
pulumi.export("outputs", ref.outputs)
pulumi.export("organization", pulumi.get_organization())
"""
PLAIN = {"vpcId": "vpc-0a1b2c3d4e5f60718", "subnetIds": ["subnet-a", "subnet-b"]}


def project(tmp_path: Path, name: str = "organization/network/dev") -> Path:
    """An app project whose program references stack ``name``."""
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: app\nruntime: python\n")
    (directory / "__main__.py").write_text(PROGRAM.format(name=name))
    return directory


def outputs_file(tmp_path: Path, name: str, outputs: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(outputs))
    return path


def preview(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(["preview", *argv, "--stack", "dev", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["outputs"] if out else None, err


def test_outputs_reach_the_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    supplied = outputs_file(tmp_path, "net.json", {**PLAIN, "dbPassword": "pw-value"})
    spec = f"organization/network/dev={supplied}"
    code, outputs, err = preview([str(project(tmp_path)), "--stack-outputs", spec], capsys)
    assert code == 0, err
    assert outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert outputs["subnets"] == ["subnet-a", "subnet-b"]
    assert outputs["missing"] is None  # get_output of an absent name is None, as with the CLI
    assert outputs["password"] == "pw-value"  # nothing marked it secret
    assert outputs["details"] == {"value": "pw-value", "secretValueSet": False}
    assert outputs["organization"] == "organization"


def test_a_secret_output_gets_a_stand_in_and_stays_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `pulumi stack output --json` prints without --show-secrets.
    supplied = outputs_file(tmp_path, "net.json", {**PLAIN, "dbPassword": "[secret]"})
    spec = f"organization/network/dev={supplied}"
    code, outputs, err = preview([str(project(tmp_path)), "--stack-outputs", spec], capsys)
    assert code == 0, err
    assert outputs["password"] == "[secret]"
    # The program computed with a usable stand-in, and what it derived is secret too.
    assert outputs["passwordLength"] == "[secret]"
    assert outputs["details"] == {"value": None, "secretValueSet": True}
    assert outputs["outputs"] == "[secret]"
    assert outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"


def test_show_secrets_file_gives_the_value_and_the_plain_file_the_secrecy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marked = outputs_file(tmp_path, "net.json", {**PLAIN, "dbPassword": "[secret]"})
    shown = outputs_file(tmp_path, "net-secrets.json", {**PLAIN, "dbPassword": "hunter2-hunter2"})
    # Two spellings of one stack: `network/dev` is `organization/network/dev`.
    argv = [str(project(tmp_path)), "--stack-outputs", f"organization/network/dev={marked}"]
    argv += ["--stack-outputs", f"network/dev={shown}"]
    assert main(["preview", *argv, "--stack", "dev"]) == 0
    out, _ = capsys.readouterr()
    assert "hunter2" not in out
    assert "passwordLength: [secret]" in out
    code, outputs, _ = preview(argv, capsys)
    assert code == 0
    assert outputs["details"] == {"value": None, "secretValueSet": True}
    assert outputs["password"] == "[secret]"


def test_a_short_stack_name_means_this_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    supplied = outputs_file(tmp_path, "net.json", {**PLAIN, "dbPassword": "x"})
    directory = project(tmp_path, name="staging")
    spec = f"organization/app/staging={supplied}"
    code, outputs, err = preview([str(directory), "--stack-outputs", spec], capsys)
    assert code == 0, err
    assert outputs["vpcId"] == PLAIN["vpcId"]


def test_a_stack_without_outputs_is_one_line_naming_it_and_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = outputs_file(tmp_path, "other.json", PLAIN)
    argv = [str(project(tmp_path, name="network/dev")), "--stack-outputs", f"acme/x/dev={other}"]
    code, _, err = preview(argv, capsys)
    assert code == 2
    assert err == (
        "error: StackReference 'network/dev' (organization/network/dev): the outputs of this "
        "stack are not supplied; pass --stack-outputs network/dev=FILE with what `pulumi "
        "stack output --json --stack network/dev` prints (stacks supplied: acme/x/dev)\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "must hold a JSON object of outputs"),
        ("{not json", "is not JSON"),
        (None, "cannot read"),
    ],
)
def test_a_bad_outputs_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "net.json"
    if content is not None:
        path.write_text(content)
    spec = f"organization/network/dev={path}"
    code, _, err = preview([str(project(tmp_path)), "--stack-outputs", spec], capsys)
    assert code == 2
    assert err.startswith(f"error: --stack-outputs organization/network/dev: {path}") or (
        err.startswith("error: --stack-outputs organization/network/dev: cannot read")
    )
    assert message in err and "Traceback" not in err


def test_a_spec_without_a_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "-s", "dev", "--stack-outputs", "organization/network/dev"]) == 2
    assert "expected STACK=FILE" in capsys.readouterr().err


def test_stack_outputs_format_feeds_another_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    network = tmp_path / "network"
    network.mkdir()
    (network / "Pulumi.yaml").write_text("name: network\nruntime: python\n")
    (network / "__main__.py").write_text(
        "import pulumi\n"
        "pulumi.export('vpcId', 'vpc-0feedfacecafe0000')\n"
        "pulumi.export('subnetIds', ['subnet-1', 'subnet-2'])\n"
        "pulumi.export('dbPassword', pulumi.Output.secret('never-printed'))\n"
    )
    written = tmp_path / "network-dev.json"
    argv = ["preview", str(network), "-s", "dev", "--format", "stack-outputs", "-o", str(written)]
    assert main(argv) == 0
    assert json.loads(written.read_text()) == {
        "dbPassword": "[secret]",
        "subnetIds": ["subnet-1", "subnet-2"],
        "vpcId": "vpc-0feedfacecafe0000",
    }
    spec = f"network/dev={written}"
    code, outputs, err = preview([str(project(tmp_path)), "--stack-outputs", spec], capsys)
    assert code == 0, err
    assert outputs["vpcId"] == "vpc-0feedfacecafe0000" and outputs["password"] == "[secret]"


def test_the_answers_file_still_supplies_stack_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "stackReferences:\n  organization/network/dev:\n"
        "    vpcId: vpc-0a1b2c3d4e5f60718\n    dbPassword: '[secret]'\n"
    )
    code, outputs, err = preview([str(project(tmp_path)), "--answers", str(answers)], capsys)
    assert code == 0, err
    assert outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718" and outputs["password"] == "[secret]"
