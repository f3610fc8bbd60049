"""ESC environments a stack file imports: opened from `--environment` files, or refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main

PROJECT = """\
name: shop
runtime: python
config:
  greeting: {type: string, default: hello}
  dbPassword: {type: string, secret: true}
"""
PROGRAM = """\
import os

import pulumi

config = pulumi.Config()
pulumi.export("greeting", config.require("greeting"))
pulumi.export("password", config.require_secret("dbPassword"))
pulumi.export("passwordLength", config.require_secret("dbPassword").apply(len))
pulumi.export("region", pulumi.Config("aws").get("region"))
pulumi.export("variable", os.environ.get("SHOP_FEATURE"))
"""
OPENED = {
    "pulumiConfig": {
        "greeting": "from the environment",
        "dbPassword": "correct-horse-battery",
        "aws:region": "eu-north-1",
    },
    "environmentVariables": {"SHOP_FEATURE": "on"},
    "app": {"anything": "else"},
}


def project(tmp_path: Path, stack_file: str) -> Path:
    directory = tmp_path / "shop"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(PROJECT)
    (directory / "Pulumi.dev.yaml").write_text(stack_file)
    (directory / "__main__.py").write_text(PROGRAM)
    return directory


def opened(tmp_path: Path, values: dict[str, Any], name: str = "dev-env.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(values))
    return path


def preview(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(["preview", *argv, "--stack", "dev", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["outputs"] if out else None, err


def test_an_imported_environment_without_its_values_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project(tmp_path, "environment:\n  - shop/dev\n")
    code, _, err = preview([str(directory)], capsys)
    assert code == 2
    # One line: the missing dbPassword is not blamed, the environment may well set it.
    assert err == (
        "error: Pulumi.dev.yaml: environment: ESC environment 'shop/dev' cannot be opened "
        "offline; pass --environment shop/dev=FILE with what `esc env open shop/dev` prints\n"
    )


def test_the_environment_supplies_config_and_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_FEATURE", raising=False)
    directory = project(tmp_path, "environment:\n  - shop/dev\n")
    spec = f"shop/dev={opened(tmp_path, OPENED)}"
    code, outputs, err = preview([str(directory), "--environment", spec], capsys)
    assert code == 0, err
    assert outputs["greeting"] == "from the environment"
    assert outputs["region"] == "eu-north-1"
    assert outputs["variable"] == "on"
    # Declared secret: the value from the environment is used and stays secret.
    assert outputs["password"] == "[secret]" and outputs["passwordLength"] == "[secret]"
    assert "SHOP_FEATURE" not in os.environ  # set for the run only


def test_the_stack_file_wins_and_later_environments_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = (
        "environment:\n  imports: [shop/common, shop/dev]\n"
        "config:\n  shop:greeting: from the stack file\n"
    )
    directory = project(tmp_path, stack_file)
    common = opened(tmp_path, {"pulumiConfig": {"aws:region": "us-west-2", "dbPassword": "a"}})
    dev = opened(tmp_path, {"pulumiConfig": {"aws:region": "eu-west-3"}}, "dev.json")
    argv = [str(directory), "--environment", f"shop/common={common}"]
    code, outputs, err = preview([*argv, "--environment", f"shop/dev={dev}"], capsys)
    assert code == 0, err
    assert outputs["greeting"] == "from the stack file"
    assert outputs["region"] == "eu-west-3"


def test_environment_config_is_checked_like_the_stack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project(tmp_path, "environment: [shop/dev]\n")
    values = {"pulumiConfig": {"dbPassword": "x", "greting": "typo"}}
    path = opened(tmp_path, values)
    code, _, err = preview([str(directory), "--environment", f"shop/dev={path}"], capsys)
    assert code == 2
    assert err.startswith(f"error: environment shop/dev ({path}): shop:greting: not declared")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"files": {"KUBECONFIG": "apiVersion: v1"}}, "'files' cannot be emulated offline"),
        ({"environmentVariables": {"NESTED": {"a": 1}}}, "must be text, numbers or booleans"),
        ({"pulumiConfig": ["not", "an", "object"]}, "'pulumiConfig' must be an object"),
    ],
)
def test_what_cannot_be_used_is_refused_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], values: dict[str, Any], message: str
) -> None:
    directory = project(tmp_path, "environment: [shop/dev]\n")
    path = opened(tmp_path, values)
    code, _, err = preview([str(directory), "--environment", f"shop/dev={path}"], capsys)
    assert code == 2
    assert err.startswith(f"error: --environment shop/dev: {path}: ") and message in err


def test_an_inline_environment_definition_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = project(tmp_path, "environment:\n  values:\n    greeting: hi\n")
    code, _, err = preview([str(directory)], capsys)
    assert code == 2
    assert err.startswith("error: Pulumi.dev.yaml: 'environment' must list ESC environment names")
