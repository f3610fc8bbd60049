"""The outcome of one offline preview, handed to every reporter.

``run_preview`` loads the project and the stack config (``load_stack``), runs the program
under the mock runtime and resolves the stack outputs (``run_loaded``). Reporters (text, JSON,
SARIF, JUnit, DOT, HTML) only read a ``PreviewResult``, the policy gate's verdicts included
(``policy``), so adding a format or a policy pass never touches how the program runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from inspect import isawaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime.sync_await import _sync_await

from platformkit.preview.answers import Answers
from platformkit.preview.fake_cloud import Mode
from platformkit.preview.program import program_error, run_program
from platformkit.preview.project import Project, load_project
from platformkit.preview.recording import COMPUTED, Computed, Diagnostic, Recording, ResourceRecord
from platformkit.preview.stack_config import StackConfig, load_stack_config
from platformkit.preview.watchdog import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    # Only the annotation: a preview without packs never loads the gate's modules.
    from platformkit.preview.verdicts import GateReport

STACK_TYPE = "pulumi:pulumi:Stack"


class Secret:
    """Stands for a secret value; the value itself is never kept (shown as ``[secret]``)."""

    _instance: Secret | None = None

    def __new__(cls) -> Secret:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "[secret]"


SECRET = Secret()
"""The single ``Secret`` marker used in resolved stack outputs."""


@dataclass
class PreviewResult:
    """Everything a reporter may show about one run of one stack."""

    project: Project
    stack: str
    mode: Mode
    config: StackConfig
    recording: Recording
    outputs: dict[str, Any]
    """Stack outputs resolved to plain values; ``COMPUTED`` when unknown, ``SECRET`` when
    secret (the value is dropped), resources as their URN."""
    policy: GateReport | None = None
    """The policy gate's verdicts (``run_policy_preview``); ``None`` when no pack ran."""

    @property
    def resources(self) -> list[ResourceRecord]:
        """Registered resources (the root stack excluded), in registration order."""
        return self.recording.resources

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.recording.diagnostics

    @property
    def stack_name(self) -> str:
        """The root stack's logical name, ``<project>-<stack>``."""
        return f"{self.project.name}-{self.stack}"

    @property
    def stack_urn(self) -> str:
        return (
            self.recording.stack_urn
            or f"urn:pulumi:{self.stack}::{self.project.name}::{STACK_TYPE}::{self.stack_name}"
        )

    def tree(self) -> list[tuple[int, ResourceRecord]]:
        """Resources depth-first under the root stack, as (depth, record); depth 1 = top level.

        Siblings are ordered by where the program created them (file, line, column), then by
        type and name: registration order depends on asyncio scheduling, this does not.
        A resource whose parent was never registered is shown at the top level.
        """
        urns = {r.urn for r in self.resources}
        children: dict[str | None, list[ResourceRecord]] = {}
        for record in self.resources:
            parent = record.parent if record.parent in urns else None
            children.setdefault(parent, []).append(record)
        ordered: list[tuple[int, ResourceRecord]] = []

        def visit(parent: str | None, depth: int) -> None:
            for record in sorted(children.get(parent, []), key=_sibling_order):
                ordered.append((depth, record))
                visit(record.urn, depth + 1)

        visit(None, 1)
        return ordered

    def count_by_type(self) -> dict[str, int]:
        """Resources to create per type token, the root stack included, sorted by type."""
        counts = Counter(r.type for r in self.resources)
        counts[STACK_TYPE] += 1
        return dict(sorted(counts.items()))

    @property
    def total(self) -> int:
        """How many resources a real ``pulumi up`` would create (the root stack included)."""
        return len(self.resources) + 1


def _sibling_order(record: ResourceRecord) -> tuple[str, int, int, str, str]:
    source = record.source
    if source is None:
        return ("\uffff", 0, 0, record.type, record.name)
    return (source.uri, source.line, source.column, record.type, record.name)


def run_preview(
    directory: str | Path,
    stack: str,
    mode: Mode = "up",
    *,
    answers: Answers | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> PreviewResult:
    """Preview ``stack`` of the Pulumi project in ``directory`` offline.

    ``mode`` defaults to ``"up"`` (computed outputs known); ``answers`` (default: none) supplies
    what cannot be derived offline (see ``answers``); ``timeout`` (default
    ``DEFAULT_TIMEOUT`` seconds) bounds the program's run. Raises ``ProjectError``,
    ``ConfigError``, ``ProgramError``, ``ProgramTimeout``, ``MissingStackOutputs`` or
    ``MissingRegion`` (all ``PreviewError``) on failure; nothing runs when the project or its
    config is invalid.
    """
    project, config = load_stack(directory, stack, answers)
    return run_loaded(project, stack, config, mode, answers=answers, timeout=timeout)


def load_stack(
    directory: str | Path, stack: str, answers: Answers | None = None
) -> tuple[Project, StackConfig]:
    """The project in ``directory`` and ``stack``'s checked config (``ProjectError``,
    ``ConfigError`` when invalid); ``answers`` (default: none) fill ``secure:`` values."""
    project = load_project(directory)
    return project, load_stack_config(project, stack, answers)


def run_loaded(
    project: Project,
    stack: str,
    config: StackConfig,
    mode: Mode = "up",
    *,
    answers: Answers | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> PreviewResult:
    """``run_preview`` for a project and config already loaded by ``load_stack``.

    For callers that need the config before the program runs (the policy gate hands it to
    the packs it starts), so it is loaded once. Same defaults and errors as ``run_preview``.
    """
    recording = run_program(project, stack, config, mode, answers=answers, timeout=timeout)
    try:
        outputs = resolve_outputs(recording.outputs)
    except Exception as exc:  # noqa: BLE001 - an output's apply() failing is the program's fault
        raise program_error(project, exc) from exc
    return PreviewResult(project, stack, mode, config, recording, outputs)


def resolve_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve exported values after the run (their futures are done by then)."""
    return {name: _sync_await(_resolve(value)) for name, value in sorted(outputs.items())}


async def _resolve(value: Any) -> Any:
    resolved, known, secret = await _walk(value)
    if secret:
        return SECRET
    return resolved if known else COMPUTED


async def _walk(value: Any) -> tuple[Any, bool, bool]:
    """Return (plain value with nested markers, known?, secret?)."""
    if isinstance(value, pulumi.Output):
        known = await value.is_known()
        secret = await value.is_secret()
        if secret:
            return SECRET, known, True
        if not known:
            return COMPUTED, False, False
        inner = await value.future(with_unknowns=True)
        return await _walk(inner)
    if isinstance(value, pulumi.Resource):
        urn = await _walk(value.urn)
        return urn
    if isawaitable(value):
        return await _walk(await value)
    if isinstance(value, Computed | Unknown):
        return COMPUTED, False, False
    if isinstance(value, Mapping):
        items = {
            str(k): await _walk(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
        return (
            {k: _mark(v) for k, v in items.items()},
            True,
            False,
        )
    if isinstance(value, list | tuple):
        walked = [await _walk(v) for v in value]
        return [_mark(v) for v in walked], True, False
    return value, True, False


def _mark(walked: tuple[Any, bool, bool]) -> Any:
    value, known, secret = walked
    if secret:
        return SECRET
    return value if known else COMPUTED
