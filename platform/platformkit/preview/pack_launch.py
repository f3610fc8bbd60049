"""How the Pulumi CLI starts a policy pack, per ``PulumiPolicy.yaml`` runtime.

- *python*: the ``pulumi-analyzer-policy-python`` shim runs ``python -u -m pulumi.policy
  ENGINE_ADDRESS .`` in the pack directory, with the interpreter of the ``virtualenv`` named in
  ``runtime.options``.
- *nodejs* (TypeScript or JavaScript, ``@pulumi/policy``): the ``pulumi-analyzer-policy`` shim,
  in the pack directory, has ``node`` resolve ``@pulumi/pulumi/cmd/run-policy-pack`` (so from the
  pack's own ``node_modules``) and runs it with ``ENGINE_ADDRESS . -key=value...``, the
  ``runtime.options`` formatted as Go's ``%v`` formats them.

Either way the environment carries ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` and
the stack config as JSON in ``PULUMI_CONFIG``, and the pack prints its gRPC port on stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from platformkit.preview.errors import PreviewError

ENGINE_ADDRESS = "127.0.0.1:0"
"""Placeholder for the engine's gRPC address (neither runtime's analyzer connects to it)."""
RUNTIMES = ("python", "nodejs")
"""``PulumiPolicy.yaml`` runtimes the gate can start."""
RUN_POLICY_PACK = "@pulumi/pulumi/cmd/run-policy-pack"
"""The module the CLI's ``pulumi-analyzer-policy`` shim runs a Node.js pack with."""
START_TIMEOUT = 60.0
"""Seconds to wait for a pack to print its port (importing the rules dominates)."""


class PackError(PreviewError):
    """A policy pack is missing, failed to start, crashed or answered with an error."""


def read_pack_project(directory: Path) -> dict[str, Any]:
    """``PulumiPolicy.yaml`` of the pack in ``directory``; raise ``PackError`` when unusable."""
    if not directory.is_dir():
        raise PackError(f"error: policy pack directory {directory} does not exist")
    project_file = directory / "PulumiPolicy.yaml"
    if not project_file.is_file():
        raise PackError(
            f"error: {directory} is not a policy pack: no PulumiPolicy.yaml "
            "(create one with `pulumi policy new`, or point --policy-pack at the pack)"
        )
    try:
        data = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PackError(f"error: cannot read {project_file}: {exc}") from exc
    if not isinstance(data, dict):
        raise PackError(f"error: {project_file}: expected a mapping")
    name = pack_runtime(data)
    if name not in RUNTIMES:
        raise PackError(
            f"error: {project_file}: runtime {name!r} is not supported offline "
            f"(policy packs in {' or '.join(RUNTIMES)} can be run)"
        )
    return data


def pack_runtime(project: Mapping[str, Any]) -> str:
    """``runtime`` (or ``runtime.name``) of a ``PulumiPolicy.yaml``."""
    runtime = project.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    return str(name)


def _runtime_options(project: Mapping[str, Any]) -> dict[str, Any]:
    runtime = project.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return dict(options) if isinstance(options, dict) else {}


def pack_command(directory: Path, project: Mapping[str, Any]) -> list[str]:
    """The argv that starts the pack in ``directory`` (cwd: that directory), per runtime."""
    if pack_runtime(project) == "nodejs":
        return node_pack_command(directory, project)
    return python_pack_command(directory, project)


def node_pack_command(directory: Path, project: Mapping[str, Any]) -> list[str]:
    """What ``pulumi-analyzer-policy`` runs: the pack's own ``run-policy-pack`` under node.

    The module is resolved from the pack directory, so the pack's ``node_modules`` decides
    the ``@pulumi/pulumi`` (and through it the ``@pulumi/policy``) version, as with the CLI.
    """
    node = shutil.which("node")
    if node is None:
        raise PackError(
            f"error: policy pack {directory} needs Node.js (runtime nodejs), and `node` is "
            "not on PATH"
        )
    try:
        resolved = subprocess.run(
            [node, "-e", f"console.log(require.resolve({RUN_POLICY_PACK!r}))"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackError(f"error: policy pack {directory}: node failed: {exc}") from exc
    runner = resolved.stdout.strip()
    if resolved.returncode != 0 or not runner:
        # The CLI's own advice for the same failure.
        raise PackError(
            f"error: it looks like the policy pack's dependencies are not installed; try "
            f"running npm install or yarn install in {directory} ({RUN_POLICY_PACK} not found)"
        )
    options = [
        f"-{key}={_go_format(value)}"
        for key, value in _runtime_options(project).items()
        if _go_format(value) != ""
    ]
    return [node, runner, ENGINE_ADDRESS, ".", *options]


def _go_format(value: Any) -> str:
    """A runtime option as the CLI formats it (Go's ``%v``: ``true``, not ``True``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def python_pack_command(directory: Path, project: Mapping[str, Any]) -> list[str]:
    """The argv the CLI's Python analyzer shim runs (cwd: the pack directory).

    The interpreter is the pack's ``virtualenv`` (``runtime.options``) when it exists, else
    the one running platformkit. ``pulumi.policy`` rejects unknown single-dash options
    (``-virtualenv=x`` parses as ``-v irtualenv=x``), so the options are not passed on.
    """
    options = _runtime_options(project)
    python = sys.executable
    virtualenv = options.get("virtualenv")
    if isinstance(virtualenv, str) and virtualenv:
        scripts = "Scripts" if os.name == "nt" else "bin"
        candidate = (directory / virtualenv / scripts / "python").absolute()
        if candidate.exists():
            python = str(candidate)
    return [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."]


def pack_environment(
    project: str, stack: str, dry_run: bool, config: Mapping[str, str]
) -> dict[str, str]:
    """The pack's environment: ours plus what the CLI sets for a policy pack."""
    env = dict(os.environ)
    if config:
        env["PULUMI_CONFIG"] = json.dumps(dict(config), sort_keys=True)
    env["PULUMI_PROJECT"] = project
    env["PULUMI_STACK"] = stack
    env["PULUMI_DRY_RUN"] = "true" if dry_run else "false"
    return env
