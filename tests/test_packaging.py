"""The distribution as another project installs it: a wheel with the right contents."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("platformkit-*.whl")
    return built


def test_wheel_ships_both_packages_and_their_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "platformkit/__init__.py",
        "platformkit/py.typed",
        "platformkit/preview/schema/preview-v1.json",
        "platformkit/preview/terraform/aws_names.json",
        "ecommerce_analytics/__init__.py",
        "ecommerce_analytics/migrations/env.py",
    ):
        assert expected in names, expected
    # The source root must never become a package: it would shadow the stdlib `platform`.
    assert not any(n.startswith(("platform/", "tests/", "stacks/")) for n in names)


def test_installed_wheel_runs_another_projects_program(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel installs by unpacking
    program = (
        "import sys, platformkit\n"
        "from platformkit import Network, NetworkArgs, Cluster, ClusterArgs, Database, "
        "DatabaseArgs, WebService, WebServiceArgs\n"
        f"assert platformkit.__file__.startswith({str(site)!r}), platformkit.__file__\n"
        "from platformkit.cli import main\n"
        f"sys.exit(main(['preview', {str(ROOT / 'examples' / 'platformkit-consumer')!r}, "
        "'--stack', 'staging']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "platformkit:index:WebService" in result.stdout
    assert "payments-api" in result.stdout
