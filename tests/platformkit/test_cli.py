"""The ``platformkit`` command itself: its version and the installed policy pack's directory."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from platformkit.cli import main
from platformkit.preview.pack_launch import read_pack_project

REPO = Path(__file__).resolve().parents[2]
CONSUMER = REPO / "examples" / "platformkit-consumer"


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"platformkit {version('platformkit')}\n"


def test_policy_pack_path_gates_a_consumer_program(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy-pack-path"]) == 0
    pack = Path(capsys.readouterr().out.strip())
    assert read_pack_project(pack)["runtime"] == "python"
    argv = ["preview", str(CONSUMER), "--stack", "staging", "--policy-pack", str(pack)]
    # The shipped dev profile relaxes what a staging environment may lack (advisories only);
    # without a config every rule is at its default level and several are mandatory.
    assert main([*argv, "--policy-pack-config", str(pack / "config" / "dev.json")]) == 0
    assert "Policies passed" in capsys.readouterr().out
    assert main(argv) == 1
