"""The two distributions as other projects install them (docs/packaging.md).

``platformkit`` (platform/) and ``ecommerce-analytics`` (service/) are built into wheels from a
copy of their source. The quick tests read the wheels. The ``slow`` ones install each wheel
into a fresh venv of its own, never the dev venv, with only what docs/packaging.md tells that
user to install, and use it there: the consumer examples preview and pass the gate of the
policy pack installed with the wheel, and each distribution lacks the other's packages.

Building and installing need a package index (PyPI, or the one pip is configured with); pip's
cache is reused, so only a first run downloads much (about 370 MB of venv for platformkit).
Without an index every test here is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"platformkit": ROOT / "platform", "ecommerce-analytics": ROOT / "service"}
"""Distribution name → the directory holding its pyproject.toml."""
INSTALL_TIMEOUT = 1800
"""Seconds for one `pip install` of a wheel and its dependencies on a cold cache."""


@dataclass(frozen=True)
class Example:
    """A program under examples/ that a platformkit user previews and gates.

    ``directory`` is relative to examples/ (its first component is copied with everything
    under it, so sibling stacks stay reachable); ``profile`` names the shipped policy config
    (``config/<profile>.json`` in the pack) it is gated with; ``args`` are further
    ``platformkit preview`` arguments, paths in them relative to the example's directory;
    ``references`` maps each stack the program references (``StackReference``) to the example
    directory whose same-named stack provides its outputs (previewed first, ``--format
    stack-outputs``, and passed with ``--stack-outputs``).
    """

    directory: str
    stack: str
    profile: str = "dev"
    args: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()


EXAMPLES = [
    Example("platformkit-consumer", "staging"),
    Example("two-stack/network", "dev"),
    Example(
        "two-stack/app",
        "dev",
        references=(("organization/shared-network/dev", "two-stack/network"),),
    ),
]
"""Every consumer example; adding one is adding a line here."""


def _pip(python: Path | str, *args: str, timeout: float = INSTALL_TIMEOUT) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless pip can fetch packages (the wheels' build backend, to start with)."""
    probe = tmp_path_factory.mktemp("probe")
    try:
        _pip(sys.executable, "download", "--no-deps", "--dest", str(probe), "setuptools>=77",
             timeout=300)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = (getattr(exc, "stderr", "") or "").strip().splitlines()
        last = output[-1] if output else str(exc)
        pytest.skip(f"no package index reachable, so no wheel can be built here: {last}")


@pytest.fixture(scope="session")
def wheels(package_index: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Distribution name → its wheel, built from a clean copy of its source directory."""
    out = tmp_path_factory.mktemp("wheels")
    built: dict[str, Path] = {}
    for name, source in SOURCES.items():
        # A copy: building in place would leave build/ and *.egg-info in the checkout, and
        # stale ones there could leak into the wheel.
        copy = tmp_path_factory.mktemp("src") / source.name
        shutil.copytree(
            source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
        )
        _pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(out), str(copy))
        (built[name],) = out.glob(f"{name.replace('-', '_')}-*.whl")
    return built


def names(wheel: Path) -> set[str]:
    return set(zipfile.ZipFile(wheel).namelist())


def metadata(wheel: Path) -> dict[str, list[str]]:
    """The wheel's METADATA headers, each name → every value it has."""
    (path,) = [n for n in names(wheel) if n.endswith(".dist-info/METADATA")]
    message = HeaderParser().parsestr(zipfile.ZipFile(wheel).read(path).decode("utf-8"))
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def requirement_names(wheel: Path, extra: str | None = None) -> set[str]:
    """Names the wheel requires, unconditionally or (with ``extra``) under that extra only."""
    found = set()
    for line in metadata(wheel).get("Requires-Dist", []):
        requirement = Requirement(line)
        marker = requirement.marker
        if extra is None and marker is None:
            found.add(requirement.name.lower())
        elif extra is not None and marker is not None and marker.evaluate({"extra": extra}):
            found.add(requirement.name.lower())
    return found


def test_platformkit_ships_the_toolkit_and_its_policy_pack_but_not_the_service(wheels):
    contents = names(wheels["platformkit"])
    for expected in (
        "platformkit/__init__.py",
        "platformkit/py.typed",
        "platformkit/preview/schema/preview-v1.json",
        "platformkit/preview/terraform/aws_names.json",
        # The stack page (`--format html`) inlines these.
        "platformkit/preview/assets/stack_page.css",
        "platformkit/preview/assets/stack_page.js",
        "platformkit/policy_pack/PulumiPolicy.yaml",
        "platformkit/policy_pack/__main__.py",
        "platformkit/policy_pack/requirements.txt",
        "platformkit/policy_pack/config/dev.json",
        "platformkit/policy_pack/config/prod.json",
        "platformkit-0.1.0.dist-info/licenses/LICENSE",
    ):
        assert expected in contents, expected
    # The source root must never become a package: it would shadow the stdlib `platform`.
    assert not [n for n in contents if n.startswith(("ecommerce_analytics/", "platform/"))]


def test_the_service_ships_alone_with_its_migrations(wheels):
    contents = names(wheels["ecommerce-analytics"])
    for expected in (
        "ecommerce_analytics/__init__.py",
        "ecommerce_analytics/migrations/env.py",
        "ecommerce_analytics/migrations/alembic.ini",
        "ecommerce_analytics/migrations/script.py.mako",
        "ecommerce_analytics/dashboard/templates/dashboard.html",
        "ecommerce_analytics/dashboard/static/dashboard.js",
        "ecommerce_analytics/dashboard/static/dashboard.css",
        "ecommerce_analytics/dashboard/static/vendor/VERSIONS",
        "ecommerce_analytics/dashboard/static/vendor/uplot/uPlot.iife.min.js",
        "ecommerce_analytics/dashboard/static/vendor/uplot/LICENSE",
        "ecommerce_analytics/dashboard/static/vendor/redoc/redoc.standalone.js",
        "ecommerce_analytics/dashboard/static/vendor/redoc/LICENSE",
        "ecommerce_analytics-0.1.0.dist-info/licenses/LICENSE",
    ):
        assert expected in contents, expected
    assert not [n for n in contents if n.startswith(("platformkit/", "service/", "tests/"))]


def test_each_distribution_requires_what_its_code_imports_and_nothing_of_the_other(wheels):
    toolkit = requirement_names(wheels["platformkit"])
    # `--policy-pack` validates pack configs with jsonschema; the pack itself needs
    # pulumi-policy and PyYAML: all plain dependencies, not an extra's.
    assert {"pulumi", "pulumi-aws", "pulumi-policy", "pyyaml", "jsonschema"} <= toolkit
    assert "flask" not in toolkit
    assert requirement_names(wheels["platformkit"], "ops") == {"boto3"}
    service = requirement_names(wheels["ecommerce-analytics"])
    assert {"flask", "sqlalchemy", "alembic"} <= service
    assert not {n for n in service if n.startswith("pulumi")} and "platformkit" not in service
    for wheel in wheels.values():
        assert metadata(wheel)["License-Expression"] == ["Apache-2.0"]


def test_every_license_file_is_the_repositorys():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    for source in SOURCES.values():
        assert (source / "LICENSE").read_text(encoding="utf-8") == text, source


def test_the_shipped_pack_is_at_the_distributions_version():
    # `pulumi policy publish` versions the pack by PulumiPolicy.yaml; the CLI installs the
    # pack's requirements.txt where the pack is enforced: both must name this release.
    import yaml

    project = tomllib.loads((SOURCES["platformkit"] / "pyproject.toml").read_text("utf-8"))
    release = project["project"]["version"]
    pack = SOURCES["platformkit"] / "platformkit" / "policy_pack"
    assert yaml.safe_load((pack / "PulumiPolicy.yaml").read_text("utf-8"))["version"] == release
    pins = [
        line.strip()
        for line in (pack / "requirements.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert pins == [f"platformkit=={release}"]


def fresh_venv(path: Path, requirement: str) -> Path:
    """A new venv at ``path`` with ``requirement`` installed; returns its bin directory."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    scripts = path / ("Scripts" if os.name == "nt" else "bin")
    _pip(scripts / "python", "install", "--quiet", requirement)
    return scripts


def consumer_env(scripts: Path) -> dict[str, str]:
    """The environment of a shell with only ``scripts``' venv active: nothing of the repo."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(scripts), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(scripts.parent)
    return env


def run(scripts: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=consumer_env(scripts), capture_output=True, text=True, timeout=600
    )


def cannot_import(scripts: Path, module: str, cwd: Path) -> bool:
    result = run(scripts, "python", "-c", f"import {module}", cwd=cwd)
    return result.returncode != 0 and "ModuleNotFoundError" in result.stderr


@pytest.fixture(scope="module")
def toolkit(wheels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install platformkit` (the wheel), as docs/packaging.md says."""
    return fresh_venv(tmp_path_factory.mktemp("toolkit") / "venv", str(wheels["platformkit"]))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.directory)
def test_a_consumer_example_previews_and_passes_the_shipped_pack(
    toolkit: Path, example: Example, tmp_path: Path
) -> None:
    top = example.directory.split("/")[0]
    shutil.copytree(ROOT / "examples" / top, tmp_path / top)
    here = tmp_path / example.directory
    found = run(toolkit, "platformkit", "policy-pack-path", cwd=here)
    pack = Path(found.stdout.strip())
    # The pack the wheel installed, not this repository's policies/.
    assert found.returncode == 0 and pack.is_relative_to(toolkit.parent), found
    supplied: list[str] = []
    for reference, directory in example.references:
        outputs = tmp_path / f"{directory.replace('/', '-')}.json"
        made = run(
            toolkit,
            "platformkit", "preview", str(tmp_path / directory), "--stack", example.stack,
            "--format", "stack-outputs", "--output", str(outputs),
            cwd=here,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        supplied += ["--stack-outputs", f"{reference}={outputs}"]
    result = run(
        toolkit,
        "platformkit", "preview", "--stack", example.stack,
        "--policy-pack", str(pack),
        "--policy-pack-config", str(pack / "config" / f"{example.profile}.json"),
        *example.args,
        *supplied,
        cwd=here,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Policies passed" in result.stdout
    assert "platformkit:index:" in result.stdout


@pytest.mark.slow
def test_the_toolkit_venv_reports_its_version_and_has_no_service(
    toolkit: Path, tmp_path: Path
) -> None:
    version = run(toolkit, "platformkit", "--version", cwd=tmp_path)
    assert version.stdout == "platformkit 0.1.0\n"
    assert cannot_import(toolkit, "ecommerce_analytics", tmp_path)
    assert cannot_import(toolkit, "flask", tmp_path)
    # verify and dr-drill need the `ops` extra: without it, the command says so in one line.
    verify = run(toolkit, "platformkit", "verify", "--stack", "prod", cwd=tmp_path)
    assert verify.returncode == 2
    assert verify.stderr.strip().splitlines() == [
        "error: this command calls AWS through boto3, which is not installed: "
        "pip install 'platformkit[ops]'"
    ]


@pytest.mark.slow
def test_the_service_installs_and_runs_without_pulumi(
    wheels, tmp_path_factory: pytest.TempPathFactory
) -> None:
    service = fresh_venv(
        tmp_path_factory.mktemp("service") / "venv", str(wheels["ecommerce-analytics"])
    )
    here = tmp_path_factory.mktemp("service-run")
    database = f"sqlite:///{here / 'analytics.db'}"
    migrate = subprocess.run(
        [str(service / "flask"), "--app", "ecommerce_analytics", "db", "upgrade"],
        cwd=here,
        env={**consumer_env(service), "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    probe = (
        "from ecommerce_analytics import create_app\n"
        f"client = create_app({{'DATABASE_URL': {database!r}}}).test_client()\n"
        "ready = client.get('/readyz').status_code\n"
        "release = client.get('/api/v1/openapi.json').json['info']['version']\n"
        # The pages and their vendored scripts come from the installed package's data.
        "pages = [client.get(p).status_code for p in ('/dashboard/', '/docs',"
        " '/dashboard/static/vendor/uplot/uPlot.iife.min.js',"
        " '/dashboard/static/vendor/redoc/redoc.standalone.js')]\n"
        "print('ANSWER', ready, release, *pages)\n"
    )
    answered = run(service, "python", "-c", probe, cwd=here)
    # The service logs JSON lines to stdout too: only the probe's own line is read.
    answer = [line.split() for line in answered.stdout.splitlines() if line.startswith("ANSWER")]
    expected = ["ANSWER", "200", "0.1.0", "200", "200", "200", "200"]
    assert answer == [expected], answered.stdout[-2000:] + answered.stderr
    for module in ("pulumi", "platformkit"):
        assert cannot_import(service, module, here), module
