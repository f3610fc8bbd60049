"""`platformkit preview` end to end: exit codes, streams, --output, and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from platformkit.cli import main
from tests.preview.conftest import CIPHERTEXT, EXAMPLE, PROGRAMS, REPO

CONSOLE_SCRIPT = Path(sys.executable).with_name("platformkit")


def test_preview_prints_the_tree_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(PROGRAMS / "basic"), "--stack", "dev"]) == 0
    out, err = capsys.readouterr()
    assert " +   pulumi:pulumi:Stack" in out
    assert "+ 8 to create" in out
    assert CIPHERTEXT not in out + err


def test_program_dir_defaults_to_the_current_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROGRAMS / "file_main")
    assert main(["preview", "-s", "dev", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == {"message": "hello"}


def test_json_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "reports" / "preview.json"
    argv = ["preview", str(EXAMPLE), "-s", "dev", "--mode", "preview", "--format", "json"]
    assert main([*argv, "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    doc = json.loads(target.read_text())
    assert doc["mode"] == "preview"
    assert doc["outputs"]["url"] == "<computed>"


def test_a_raising_program_exits_2_with_a_trimmed_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["preview", str(PROGRAMS / "raises"), "--stack", "dev"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert 'helpers.py", line 6, in subnet_count' in err
    assert "runpy" not in err and "site-packages/pulumi" not in err
    assert err.splitlines()[-1] == (
        "error: program __main__.py raised ValueError: azCount must be at least 2 for an ALB, got 1"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["preview", str(PROGRAMS / "basic"), "-s", "wrong-type"],
            'error: Pulumi.wrong-type.yaml: basic:azCount: expected integer, got "three"',
        ),
        (
            ["preview", str(PROGRAMS / "basic"), "-s", "qa"],
            "available stacks: dev, missing-value, plain-secret, unknown-key, wrong-type",
        ),
        (["preview", str(PROGRAMS), "-s", "dev"], "error: no Pulumi.yaml in"),
        (["preview", str(PROGRAMS / "basic")], "the following arguments are required: -s/--stack"),
        (["preview", "-s", "dev", "--format", "yaml"], "invalid choice: 'yaml'"),
        ([], "usage: platformkit"),
    ],
)
def test_failures_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert out == ""


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--help"]) == 0
    assert "--mode {up,preview}" in capsys.readouterr().out


def test_console_script_in_a_subprocess(tmp_path: Path) -> None:
    target = tmp_path / "example.json"
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "preview", "examples/aws-py-static-site", "--stack", "dev"]
        + ["--format", "json", "--output", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    # Nothing on stderr: no engine noise (logging, event loops torn down at exit).
    assert completed.stderr == ""
    assert json.loads(target.read_text())["summary"]["total"] == 12
