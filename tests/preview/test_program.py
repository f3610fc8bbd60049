"""Running programs in-process: failures, isolation between runs, the program's environment."""

from __future__ import annotations

import os
import sys

import pytest

from platformkit.preview.errors import ProgramError
from platformkit.preview.result import run_preview
from tests.preview.conftest import PROGRAMS


def test_a_raising_program_reports_the_users_frames_only() -> None:
    with pytest.raises(ProgramError) as caught:
        run_preview(PROGRAMS / "raises", "dev")
    error = caught.value
    assert error.summary == (
        "error: program __main__.py raised ValueError: azCount must be at least 2 for an ALB, got 1"
    )
    trace = error.traceback_text
    assert trace.startswith("Traceback (most recent call last):")
    assert 'raises/__main__.py", line 7, in <module>' in trace
    assert 'raises/helpers.py", line 6, in subnet_count' in trace
    for machinery in ("runpy", "pulumi/", "asyncio", "grpc", "platformkit/preview"):
        assert machinery not in trace
    assert trace.rstrip().endswith("ValueError: azCount must be at least 2 for an ALB, got 1")
    # The summary is the last line a user sees.
    assert error.message.splitlines()[-1] == error.summary


def test_runs_restore_the_interpreter_and_do_not_share_program_modules() -> None:
    path, cwd = list(sys.path), os.getcwd()
    basic = run_preview(PROGRAMS / "basic", "dev")
    # Both programs import a module named ``components``; each must get its own.
    subdir = run_preview(PROGRAMS / "subdir_main", "prod")
    assert "components" not in sys.modules
    assert (sys.path, os.getcwd()) == (path, cwd)
    assert basic.recording.one("basic:index:Logs").name == "app"
    # The program read ``name.txt`` relative to its working directory, ``main: app/``.
    topic = subdir.recording.one("aws:sns/topic:Topic")
    assert topic.inputs["name"] == "from-the-program-directory"


def test_a_failed_run_does_not_leak_into_the_next() -> None:
    with pytest.raises(ProgramError):
        run_preview(PROGRAMS / "raises", "dev")
    result = run_preview(PROGRAMS / "file_main", "dev")
    assert result.resources == []
    assert result.outputs == {"message": "hello"}
    assert result.stack_urn == "urn:pulumi:dev::file-main::pulumi:pulumi:Stack::file-main-dev"


def test_config_reaches_pulumi_config(basic_up) -> None:
    assert basic_up.outputs["azCount"] == 3
    assert basic_up.outputs["zones"] == ["eu-west-1a", "eu-west-1b"]
    bucket = basic_up.recording.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["tags"] == {
        "owner": "data-platform",
        "team": "analytics",
        "cost-center": "42",
    }
    log_group = basic_up.recording.one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["retentionInDays"] == 14


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (
            "import pulumi\nraise pulumi.RunError('Pulumi.dev.yaml: app:size must be 1-3, got 9')",
            "error: Pulumi.dev.yaml: app:size must be 1-3, got 9",
        ),
        (
            "from platformkit import Network\nNetwork('core', {'az_count': 7})",
            "error: Network 'core': az_count=7 is invalid; expected an integer from 2 to 6.",
        ),
    ],
    ids=["run-error", "component-argument"],
)
def test_errors_the_program_raises_for_the_user_print_as_one_line(
    tmp_path, program: str, expected: str
) -> None:
    # pulumi.RunError is how a program says "this message is the whole story": the Pulumi CLI
    # prints no traceback for it, and neither does the engine.
    (tmp_path / "Pulumi.yaml").write_text("name: oneline\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n", encoding="utf-8"
    )
    (tmp_path / "__main__.py").write_text(program + "\n", encoding="utf-8")
    with pytest.raises(ProgramError) as caught:
        run_preview(tmp_path, "dev")
    assert caught.value.message == expected
