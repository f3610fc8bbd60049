"""The Docker build context of a built image: checked, and hashed into the image's tag.

The repository's tags are immutable, so the tag must change exactly when the image can:
it is a hash of the files Docker would send, the Dockerfile and the target platform.
Settings only check the paths and the platform (``check_build``); the context is read and
hashed (``content_tag``) when the image is created, not while arguments are validated.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from platformkit.validation import ArgumentReader
from platformkit.web_service.args import DockerBuild


def check_build(read: ArgumentReader, build: DockerBuild, architecture: str) -> str:
    """Return the build's platform, once its context and Dockerfile are found to exist."""
    given = build.get("context")
    if not given or not isinstance(given, str) or not Path(given).is_dir():
        raise read.fail("build.context", given, "an existing directory")
    dockerfile = build.get("dockerfile")
    if dockerfile is not None and not isinstance(dockerfile, str):
        raise read.fail("build.dockerfile", dockerfile, "a path (a string)")
    if _dockerfile_path(Path(given), dockerfile) is None:
        raise read.fail(
            "build.dockerfile", build.get("dockerfile", "Dockerfile"), "an existing file"
        )
    expected = "linux/arm64" if architecture == "ARM64" else "linux/amd64"
    platform = build.get("platform", expected)
    if platform != expected:
        raise read.fail("build.platform", platform, f"{expected!r} to match cpu_architecture")
    return platform


def content_tag(build: DockerBuild, platform: str) -> str:
    """A tag unique to the content of ``build``'s context (checked by ``check_build``)."""
    context = Path(build["context"])
    dockerfile = _dockerfile_path(context, build.get("dockerfile"))
    assert dockerfile is not None  # check_build found it while the settings were read
    return "sha-" + _content_hash(context, dockerfile, platform)[:20]


def _dockerfile_path(context: Path, dockerfile: str | None) -> Path | None:
    if dockerfile is None:
        candidate = context / "Dockerfile"
        return candidate if candidate.is_file() else None
    for candidate in (Path(dockerfile), context / dockerfile):
        if candidate.is_file():
            return candidate
    return None


def _content_hash(context: Path, dockerfile: Path, platform: str) -> str:
    """SHA-256 over the files Docker would send, the Dockerfile and the platform."""
    patterns: list[str] = []
    ignore_file = context / ".dockerignore"
    if ignore_file.is_file():
        lines = [line.strip() for line in ignore_file.read_text().splitlines()]
        patterns = [p.strip("/") for p in lines if p and not p.startswith("#")]
    # Negations (`!keep`) re-include files; rather than re-implement Docker's matcher, hash
    # everything then: an extra rebuild is harmless, a stale tag is not.
    if any(p.startswith("!") for p in patterns):
        patterns = []
    digest = hashlib.sha256(f"platform={platform}\n".encode())
    for path in sorted(_context_files(context, patterns)):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(b"dockerfile\0" + dockerfile.read_bytes())
    return digest.hexdigest()


def _context_files(context: Path, patterns: Sequence[str]) -> list[Path]:
    def ignored(relative: str) -> bool:
        return relative == ".git" or any(
            fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(relative, p + "/*") for p in patterns
        )

    files: list[Path] = []
    for root, dirs, names in os.walk(context):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if not ignored((base / d).relative_to(context).as_posix()))
        files.extend(
            base / n for n in names if not ignored((base / n).relative_to(context).as_posix())
        )
    return files
