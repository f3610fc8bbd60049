"""Load a Pulumi project: ``Pulumi.yaml`` and the ``Pulumi.<stack>.yaml`` stack files beside it.

This follows the Pulumi CLI: ``main`` (default: the project directory) may name a
subdirectory, which then becomes both the working directory and the first ``sys.path`` entry
of the program and must hold a ``__main__.py``, or a ``.py`` file, which runs with the project
directory as working directory. ``main`` must stay inside the project directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from platformkit.preview.errors import ProjectError

PROJECT_FILE = "Pulumi.yaml"
"""The project file name (``Pulumi.yml`` is accepted too, as the CLI does)."""
_PROJECT_FILES = (PROJECT_FILE, "Pulumi.yml")


@dataclass(frozen=True)
class Project:
    """A Pulumi project on disk."""

    name: str
    directory: Path
    """The directory holding ``Pulumi.yaml`` (absolute)."""
    project_file: Path
    runtime: str
    """The runtime name, e.g. ``python``."""
    runtime_options: dict[str, Any]
    """``runtime.options`` (e.g. ``virtualenv``); informational, the program runs in-process."""
    entry_point: Path
    """The ``.py`` file executed as ``__main__``."""
    working_directory: Path
    """The program's cwd and first ``sys.path`` entry."""
    config: dict[str, Any] = field(default_factory=dict)
    """The raw ``config:`` block of ``Pulumi.yaml`` (parsed by ``stack_config``)."""

    def stack_file(self, stack: str) -> Path:
        """The path of ``Pulumi.<stack>.yaml`` (which may not exist)."""
        for suffix in (".yaml", ".yml"):
            candidate = self.directory / f"Pulumi.{stack}{suffix}"
            if candidate.is_file():
                return candidate
        return self.directory / f"Pulumi.{stack}.yaml"

    def available_stacks(self) -> list[str]:
        """Stack names that have a ``Pulumi.<stack>.yaml`` here, sorted."""
        names = set()
        for path in self.directory.glob("Pulumi.*.y*ml"):
            stem = path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
            if path.suffix in (".yaml", ".yml") and stem:
                names.add(stem)
        return sorted(names)

    def display_path(self, path: Path) -> str:
        """``path`` relative to the project directory when inside it (for messages)."""
        try:
            return str(path.relative_to(self.directory))
        except ValueError:
            return str(path)


def load_project(directory: str | Path = ".") -> Project:
    """Read ``Pulumi.yaml`` in ``directory`` (default: the current directory).

    Raises ``ProjectError`` when the file is missing or malformed, when the runtime is not
    Python, or when ``main`` does not lead to a Python program inside the project.
    """
    root = Path(directory).resolve()
    project_file = next((root / n for n in _PROJECT_FILES if (root / n).is_file()), None)
    if project_file is None:
        hint = "" if root.is_dir() else " (the directory does not exist)"
        raise ProjectError(
            f"error: no {PROJECT_FILE} in {root}{hint}; pass the directory of a Pulumi project"
        )
    raw = _read_yaml(project_file, root)
    if not isinstance(raw, dict):
        raise ProjectError(f"error: {project_file.name}: expected a mapping at the top level")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"error: {project_file.name}: missing required field 'name'")
    runtime, options = _runtime(raw.get("runtime"), project_file.name)
    entry_point, working_directory = _main(raw.get("main"), root, project_file.name)
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise ProjectError(f"error: {project_file.name}: 'config' must be a mapping of keys")
    return Project(
        name=name,
        directory=root,
        project_file=project_file,
        runtime=runtime,
        runtime_options=options,
        entry_point=entry_point,
        working_directory=working_directory,
        config=config,
    )


@dataclass(frozen=True)
class StackFile:
    """What ``Pulumi.<stack>.yaml`` holds (empty when it does not exist)."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    """The raw ``config:`` mapping."""
    environments: list[str] = field(default_factory=list)
    """The ESC environments it imports (``environment:``), in order."""


def load_stack_file(project: Project, stack: str) -> StackFile:
    """Read the stack file: its ``config:`` mapping and imported ESC environments.

    As with the Pulumi CLI, a stack needs no file: when ``Pulumi.<stack>.yaml`` does not exist
    its config is empty (the project's defaults apply). ``environment:`` is a list of
    environment names or ``{imports: [...]}``. Raises ``ProjectError`` when the file exists
    but is malformed.
    """
    path = project.stack_file(stack)
    if not path.is_file():
        return StackFile(path)
    raw = _read_yaml(path, project.directory) or {}
    if not isinstance(raw, dict):
        raise ProjectError(f"error: {path.name}: expected a mapping at the top level")
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise ProjectError(f"error: {path.name}: 'config' must be a mapping of keys")
    return StackFile(path, config, _environments(raw.get("environment"), path.name))


def _environments(raw: Any, filename: str) -> list[str]:
    imports = raw.get("imports") if isinstance(raw, dict) and set(raw) == {"imports"} else raw
    if imports is None:
        return []
    if isinstance(imports, list) and all(isinstance(name, str) and name for name in imports):
        return list(imports)
    raise ProjectError(
        f"error: {filename}: 'environment' must list ESC environment names "
        "(an inline environment definition cannot be evaluated offline)"
    )


def missing_stack_note(project: Project, stack: str) -> str:
    """Says the stack has no file, and which stacks have one (for config errors)."""
    available = project.available_stacks()
    listing = ", ".join(available) if available else "none"
    return (
        f"{project.stack_file(stack).name} does not exist, so stack {stack!r} has only the "
        f"project's defaults (available stacks: {listing})"
    )


def _read_yaml(path: Path, root: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProjectError(f"error: {path.relative_to(root)}: invalid YAML: {exc}") from exc
    except OSError as exc:
        raise ProjectError(f"error: cannot read {path}: {exc.strerror}") from exc


def _runtime(raw: Any, filename: str) -> tuple[str, dict[str, Any]]:
    # ``runtime`` is either ``python`` or ``{name: python, options: {...}}``.
    if isinstance(raw, str):
        name, options = raw, {}
    elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
        name, options = raw["name"], dict(raw.get("options") or {})
    else:
        raise ProjectError(
            f"error: {filename}: 'runtime' must be a name or {{name: ..., options: ...}}"
        )
    if name != "python":
        raise ProjectError(
            f"error: {filename}: runtime {name!r} is not supported; "
            "platformkit preview runs Python programs only"
        )
    return name, options


def _main(raw: Any, root: Path, filename: str) -> tuple[Path, Path]:
    if raw is None or raw == "":
        target = root
    elif isinstance(raw, str):
        if Path(raw).is_absolute():
            raise ProjectError(f"error: {filename}: main {raw!r} must be a relative path")
        target = (root / raw).resolve()
        if target != root and root not in target.parents:
            raise ProjectError(f"error: {filename}: main {raw!r} must stay inside {root}")
    else:
        raise ProjectError(f"error: {filename}: 'main' must be a path")
    if target.is_dir():
        entry = target / "__main__.py"
        if not entry.is_file():
            where = "the project directory" if target == root else f"{raw}"
            raise ProjectError(f"error: {filename}: no __main__.py in {where}")
        # The CLI makes a directory ``main`` the program's working directory.
        return entry, target
    if target.is_file():
        return target, root
    raise ProjectError(f"error: {filename}: main {raw!r} does not exist")
