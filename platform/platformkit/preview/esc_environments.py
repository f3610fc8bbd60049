"""Pulumi ESC environments a stack file imports, opened from local files.

A stack file may import ESC environments (``environment: [acme/dev]``, or ``environment:
{imports: [...]}``); the Pulumi CLI opens them in Pulumi Cloud before the program starts,
which cannot happen offline. ``platformkit preview --environment NAME=FILE`` (repeatable)
supplies what ``esc env open NAME`` (or ``pulumi env open NAME``) prints: the environment's
evaluated values as JSON (YAML is accepted too). Of those values, the ones the CLI uses are
read as it reads them:

- ``pulumiConfig``: stack config (a key without namespace belongs to the project); the
  stack file's own ``config:`` wins over it, and a later environment over an earlier one;
- ``environmentVariables``: set in the program's environment for the run (so
  ``AWS_REGION`` counts as the provider's region, as it does for the CLI).

``files`` (written to temporary files by the CLI) is not emulated: an environment that has
it is refused with a message saying so. An imported environment without a file is refused
before anything runs, naming it and the flag to pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from platformkit.preview.errors import PreviewError


class EscEnvironmentError(PreviewError):
    """An ``--environment`` file is unreadable or malformed."""


@dataclass(frozen=True)
class OpenedEnvironment:
    """The values of one ESC environment, as ``esc env open`` printed them."""

    name: str
    source: Path
    pulumi_config: dict[str, Any] = field(default_factory=dict)
    """``values.pulumiConfig``: config key → value."""
    environment_variables: dict[str, str] = field(default_factory=dict)
    """``values.environmentVariables``: name → value (as text)."""

    @property
    def label(self) -> str:
        """How messages name it: ``environment acme/dev (dev-env.json)``."""
        return f"environment {self.name} ({self.source})"


def parse_spec(text: str) -> tuple[str, Path]:
    """Split a ``NAME=FILE`` argument; raises ``ValueError`` naming what is wrong."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ValueError(
            f"expected NAME=FILE (e.g. acme/dev=dev-env.json, the output of "
            f"`esc env open acme/dev`), got {text!r}"
        )
    return name.strip(), Path(path.strip())


def load_environments(specs: Iterable[tuple[str, Path]]) -> dict[str, OpenedEnvironment]:
    """Read each ``(name, file)``; raises ``EscEnvironmentError`` naming the file and problem."""
    opened: dict[str, OpenedEnvironment] = {}
    for name, path in specs:
        opened[name] = _load(name, path)
    return opened


def _load(name: str, path: Path) -> OpenedEnvironment:
    where = f"--environment {name}: {path}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise EscEnvironmentError(f"error: {where}: cannot read it: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EscEnvironmentError(f"error: {where}: not JSON or YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise EscEnvironmentError(
            f"error: {where}: expected the object `esc env open {name}` prints"
        )
    if data.get("files"):
        raise EscEnvironmentError(
            f"error: {where}: 'files' cannot be emulated offline (the Pulumi CLI writes them "
            "to temporary files); remove them from the file, or move what the program needs "
            "into pulumiConfig"
        )
    config = data.get("pulumiConfig") or {}
    variables = data.get("environmentVariables") or {}
    for key, section in (("pulumiConfig", config), ("environmentVariables", variables)):
        if not isinstance(section, dict):
            raise EscEnvironmentError(f"error: {where}: '{key}' must be an object")
    bad = sorted(k for k, v in variables.items() if isinstance(v, dict | list) or v is None)
    if bad:
        raise EscEnvironmentError(
            f"error: {where}: environmentVariables must be text, numbers or booleans "
            f"({', '.join(bad)} are not)"
        )
    return OpenedEnvironment(
        name=name,
        source=path,
        pulumi_config={str(k): v for k, v in config.items()},
        environment_variables={str(k): _text(v) for k, v in variables.items()},
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
