"""The service image's lock file (``service/requirements.lock``) agrees with the service's
``service/pyproject.toml``.

The Dockerfile installs only what the lock pins, each file checked against its hashes, so two
builds of one commit get the same packages. This keeps the lock honest: every dependency of the
``ecommerce-analytics`` distribution (and its build backend) is pinned at a version its
specifier allows, nothing else is direct, and every pin carries hashes. ``make lock`` fixes it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "service"
LOCK = SERVICE / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ \\]+)")


def pins() -> dict[str, tuple[str, list[str], int]]:
    """Name → (version, what it is there for, number of hashes)."""
    found: dict[str, tuple[str, list[str], int]] = {}
    current: str | None = None
    for line in LOCK.read_text("utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            found[current] = (match.group(2), [], 0)
            continue
        if current is None:
            continue
        version, via, hashes = found[current]
        stripped = line.strip()
        if stripped.startswith("--hash=sha256:"):
            found[current] = (version, via, hashes + 1)
        elif stripped.startswith("#"):
            via.append(stripped.lstrip("# ").removeprefix("via ").strip())
    return found


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((SERVICE / "pyproject.toml").read_text("utf-8"))
    return data


def required() -> dict[str, Requirement]:
    data = project()
    dependencies = data["project"]["dependencies"]  # type: ignore[index]
    build = data["build-system"]["requires"]  # type: ignore[index]
    found = [Requirement(r) for r in [*dependencies, *build]]
    return {canonicalize_name(r.name): r for r in found}


def test_every_service_requirement_is_pinned_within_its_specifier() -> None:
    locked = pins()
    for name, requirement in required().items():
        assert name in locked, f"{name} is in pyproject.toml but not in the lock: run `make lock`"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in the lock is outside {requirement}: run `make lock`"
        )


def test_the_lock_has_no_direct_requirement_pyproject_lacks() -> None:
    direct = {
        n for n, (_, via, _) in pins().items() if any("service/pyproject.toml" in v for v in via)
    }
    assert direct == set(required()), "the lock is stale: run `make lock`"


def test_every_pin_carries_hashes() -> None:
    locked = pins()
    assert locked
    assert [name for name, (_, _, hashes) in locked.items() if hashes == 0] == []


def test_the_image_installs_only_from_the_lock_with_hashes() -> None:
    dockerfile = (ROOT / "service" / "Dockerfile").read_text("utf-8")
    assert "--require-hashes" in dockerfile and "service/requirements.lock" in dockerfile
    # The service goes in without resolving anything the lock does not pin, and alone:
    # nothing of the toolkit (platform/) is copied into the image.
    assert "pip install --no-deps --no-build-isolation ./service" in dockerfile
    assert "COPY platform" not in dockerfile
