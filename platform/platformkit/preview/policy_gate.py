"""The offline policy gate: run policy packs over a preview's resources, collect verdicts.

``load_config_file`` reads a ``--policy-pack-config`` file exactly as the Pulumi CLI parses it;
``reconcile_config`` fills every policy's level and schema defaults and validates the result
against the ``configSchema`` each policy declared in ``GetAnalyzerInfo`` (so any pack works),
stricter than the CLI: unknown policies and unknown keys are errors too. ``prepare_gate``
checks packs and config files before anything starts; ``started_packs`` spawns the packs;
``run_gate`` checks each pack's config, sends ``Analyze`` for every resource and
``AnalyzeStack`` once, and returns the ``GateReport`` (``verdicts``) that
``run_policy_preview`` stores as ``PreviewResult.policy`` for the reporters.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from platformkit.policy import parse_waiver_message
from platformkit.preview import wire
from platformkit.preview.analyzer import (
    AnalyzeDiagnostic,
    AnalyzerInfo,
    AnalyzerResource,
    PackError,
    PolicyConfig,
    PolicyInfo,
    PolicyPackProcess,
)
from platformkit.preview.answers import Answers
from platformkit.preview.errors import PreviewError
from platformkit.preview.fake_cloud import Mode
from platformkit.preview.recording import Computed, ResourceRecord
from platformkit.preview.result import STACK_TYPE, PreviewResult, load_stack, run_loaded
from platformkit.preview.verdicts import SEVERITY_ORDER, GateReport, PackReport, Violation
from platformkit.preview.watchdog import DEFAULT_TIMEOUT

LEVEL_KEY = "enforcementLevel"
ALL_KEY = "all"
VALID_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_SIG_KEY = wire.SIG_KEY
_SECRET_SIG = wire.SECRET_SIG


class PolicyConfigError(PreviewError):
    """A ``--policy-pack-config`` file is unreadable or invalid for its pack."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"error: invalid policy config {source}: {p}" for p in problems))


@dataclass(frozen=True)
class ConfigFile:
    """A parsed ``--policy-pack-config`` file: per policy, an optional level and properties."""

    path: Path
    entries: dict[str, tuple[str | None, dict[str, Any]]]


# -- config ----------------------------------------------------------------------------


def load_config_file(path: Path) -> ConfigFile:
    """Parse a config file as the CLI does; raise ``PolicyConfigError`` naming each entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError(str(path), [f"cannot read it: {exc.strerror}"]) from exc
    if not text.strip():
        return ConfigFile(path, {})
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PolicyConfigError(str(path), [f"not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PolicyConfigError(str(path), ["expected a JSON object keyed by policy name"])
    problems: list[str] = []
    entries: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name, value in data.items():
        level: Any = None
        properties: dict[str, Any] = {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, dict):
            properties = {k: v for k, v in value.items() if k != LEVEL_KEY}
            level = value.get(LEVEL_KEY)
            if LEVEL_KEY in value and not isinstance(level, str):
                problems.append(f"{name}.{LEVEL_KEY}: {level!r} is not a string")
                continue
        else:
            problems.append(f"{name}: expected an enforcement level or an object, got {value!r}")
            continue
        if level is not None and level not in VALID_LEVELS:
            where = name if isinstance(value, str) else f"{name}.{LEVEL_KEY}"
            problems.append(f"{where}: {level!r} is not one of {list(VALID_LEVELS)}")
            continue
        if name == ALL_KEY and properties:
            problems.append(f"{ALL_KEY}: only {LEVEL_KEY} may be set, got {sorted(properties)}")
            continue
        entries[name] = (level, properties)
    if problems:
        raise PolicyConfigError(str(path), problems)
    return ConfigFile(path, entries)


def reconcile_config(
    info: AnalyzerInfo, config: ConfigFile | None
) -> tuple[dict[str, PolicyConfig], list[str]]:
    """Every policy's effective config (defaults, initial config, file) and the problems.

    Mirrors the CLI's ``ReconcilePolicyPackConfig``; each problem starts with
    ``policy[.key]: ``. Unknown policies and keys a policy's schema does not declare are
    problems too (the CLI ignores them, hiding typos).
    """
    validator_class: Any = importlib.import_module("jsonschema").Draft7Validator
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {
            key: schema["default"]
            for key, schema in policy.config_properties.items()
            if isinstance(schema, dict) and "default" in schema
        }
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults)
    layers: list[dict[str, tuple[str | None, dict[str, Any]]]] = []
    initial = {
        name: (entry.get(LEVEL_KEY), {k: v for k, v in entry.items() if k != LEVEL_KEY})
        for name, entry in info.initial_config.items()
    }
    layers.append(initial)
    if config is not None:
        layers.append(config.entries)
    problems: list[str] = []
    known = {p.name for p in info.policies}
    if config is not None:
        for name in config.entries:
            if name != ALL_KEY and name not in known:
                problems.append(f"{name}: unknown policy (not in pack {info.name})")
    for layer in layers:
        all_level = layer.get(ALL_KEY, (None, {}))[0]
        if all_level:
            result = {n: PolicyConfig(all_level, c.properties) for n, c in result.items()}
        for name, (level, properties) in layer.items():
            if name not in result:
                continue
            current = result[name]
            result[name] = PolicyConfig(
                level or current.enforcement_level, {**current.properties, **properties}
            )
    for policy in info.policies:
        properties = result[policy.name].properties
        schema: dict[str, Any] = {"type": "object", "properties": policy.config_properties}
        if policy.config_required:
            schema["required"] = policy.config_required
        validator = validator_class(schema)
        for error in sorted(validator.iter_errors(properties), key=lambda e: list(e.path)):
            path = "".join(
                f".{part}" if isinstance(part, str) else f"[{part}]" for part in error.path
            )
            problems.append(f"{policy.name}{path}: {error.message}")
        for key in sorted(set(properties) - set(policy.config_properties)):
            problems.append(f"{policy.name}.{key}: unknown config key for this policy")
    return result, problems


# -- resources on the wire ---------------------------------------------------------------


def analyzer_resources(result: PreviewResult) -> tuple[list[AnalyzerResource], list[Any]]:
    """The resources as ``Analyze`` sees them (inputs) and as ``AnalyzeStack`` does (outputs).

    The root stack comes first, as in the engine. ``Analyze`` gets the inputs as the CLI sends
    them: as registered (``raw_inputs``: secrets and unknowns as on the wire) with resource
    references flattened to the resource's id, or its URN when it has none (``wire.flatten``,
    what the CLI does for every analyzer); ``AnalyzeStack`` gets the final outputs, as the
    engine sends them (re-encoded, secret keys marked secret).
    """
    stack = AnalyzerResource(
        urn=result.stack_urn, type=STACK_TYPE, name=result.stack_name, properties=_struct({})
    )
    providers = {r.urn: r for r in result.resources if r.type.startswith("pulumi:providers:")}
    inputs: list[AnalyzerResource] = [stack]
    outputs: list[AnalyzerResource] = [stack]
    for record in result.resources:
        provider = _provider_for(record, providers)
        common: dict[str, Any] = {
            "urn": record.urn,
            "type": record.type,
            "name": record.name,
            "parent": record.parent or "",
            "dependencies": sorted(set(record.dependencies)),
            "property_dependencies": {
                k: sorted(set(v)) for k, v in record.property_dependencies.items()
            },
            "options": record.options,
            "provider": provider,
        }
        inputs.append(AnalyzerResource(properties=_as_sent(record.raw_inputs), **common))
        state = record.outputs or record.inputs
        secrets = set(record.secret_outputs if record.outputs else record.secret_inputs)
        outputs.append(AnalyzerResource(properties=_struct(state, secrets), **common))
    return inputs, outputs


def _provider_for(
    record: ResourceRecord, providers: Mapping[str, ResourceRecord]
) -> AnalyzerResource | None:
    if not record.provider:
        return None
    urn = record.provider.split("::")
    provider = providers.get("::".join(urn[:-1])) if len(urn) > 1 else None
    if provider is None:
        return None
    return AnalyzerResource(
        urn=provider.urn,
        type=provider.type,
        name=provider.name,
        properties=_as_sent(provider.raw_inputs),
    )


def _as_sent(raw: struct_pb2.Struct) -> struct_pb2.Struct:
    """Registered properties as the CLI sends them to a pack (references flattened)."""
    struct = struct_pb2.Struct()
    struct.update(wire.flatten(wire.struct_to_dict(raw)))
    return struct


def _struct(values: Mapping[str, Any], secrets: set[str] | None = None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    for key, value in values.items():
        wire = _wire(value)
        if secrets and key in secrets:
            wire = {_SIG_KEY: _SECRET_SIG, "value": wire}
        struct[key] = wire
    return struct


def _wire(value: Any) -> Any:
    if isinstance(value, Computed):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- running ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GateSetup:
    """Packs and their config files, checked before anything starts."""

    packs: list[Path]
    configs: list[ConfigFile | None]


def prepare_gate(packs: Sequence[Path], configs: Sequence[Path]) -> GateSetup:
    """Pair each pack with its config (the n-th ``--policy-pack-config`` for the n-th pack).

    Raises ``PolicyConfigError``/``PackError`` (exit 2) before any process starts.
    """
    from platformkit.preview.pack_launch import read_pack_project

    if len(configs) > len(packs):
        raise PolicyConfigError(
            str(configs[len(packs)]),
            [
                f"{len(configs)} --policy-pack-config given for {len(packs)} --policy-pack; "
                "each config applies to the --policy-pack in the same position"
            ],
        )
    for pack in packs:
        read_pack_project(pack)
    parsed: list[ConfigFile | None] = [load_config_file(path) for path in configs]
    parsed += [None] * (len(packs) - len(parsed))
    return GateSetup(list(packs), parsed)


@contextmanager
def started_packs(
    setup: GateSetup, result_project: str, stack: str, dry_run: bool, config: Mapping[str, str]
) -> Iterator[list[PolicyPackProcess]]:
    """Spawn every pack (they boot while the program runs); stop them all on exit."""
    with ExitStack() as stack_:
        processes = [
            stack_.enter_context(
                PolicyPackProcess.spawn(
                    pack, project=result_project, stack=stack, dry_run=dry_run, config=config
                )
            )
            for pack in setup.packs
        ]
        yield processes


def run_gate(
    result: PreviewResult,
    setup: GateSetup,
    processes: Sequence[PolicyPackProcess],
) -> GateReport:
    """Configure each pack, analyze every resource, return the verdicts."""
    inputs, outputs = analyzer_resources(result)
    records = {r.urn: r for r in result.resources}
    reports: list[PackReport] = []
    for process, config in zip(processes, setup.configs, strict=True):
        process.handshake()
        info = process.info()
        policy_config, problems = reconcile_config(info, config)
        if problems:
            source = str(config.path) if config is not None else f"(defaults of {info.name})"
            raise PolicyConfigError(source, problems)
        process.configure(policy_config)
        process.configure_stack(
            result.project.name, result.stack, result.config.values, result.mode == "preview"
        )
        diagnostics: list[AnalyzeDiagnostic] = []
        for resource in inputs:
            diagnostics.extend(process.analyze(resource))
        diagnostics.extend(process.analyze_stack(outputs))
        levels = {name: c.enforcement_level for name, c in policy_config.items()}
        reports.append(_pack_report(process.directory, info, levels, diagnostics, records))
    return GateReport(reports)


def _pack_report(
    directory: Path,
    info: AnalyzerInfo,
    levels: dict[str, str],
    diagnostics: Sequence[AnalyzeDiagnostic],
    records: Mapping[str, ResourceRecord],
) -> PackReport:
    report = PackReport(directory, info, levels)
    policies = {p.name: p for p in info.policies}
    for diagnostic in diagnostics:
        waiver = parse_waiver_message(diagnostic.message)
        if waiver is not None:
            report.waivers.append(waiver)
            continue
        report.violations.append(_violation(info, policies, diagnostic, records))
    for record in report.waivers:
        if record.status != "waived":
            continue
        diagnostic = AnalyzeDiagnostic(
            policy_name=record.rule,
            pack_name=info.name,
            pack_version=info.version,
            description=policies[record.rule].description if record.rule in policies else "",
            message=record.message,
            urn=record.urn,
            enforcement_level=levels.get(record.rule, "advisory"),
            severity=policies[record.rule].severity if record.rule in policies else "unspecified",
        )
        violation = _violation(info, policies, diagnostic, records)
        report.violations.append(Violation(**{**violation.__dict__, "waiver": record}))
    report.violations.sort(key=_violation_order)
    report.waivers.sort(key=lambda w: (w.status, w.rule, w.urn))
    return report


def _violation(
    info: AnalyzerInfo,
    policies: Mapping[str, PolicyInfo],
    diagnostic: AnalyzeDiagnostic,
    records: Mapping[str, ResourceRecord],
) -> Violation:
    message = diagnostic.message
    prefix = diagnostic.description
    if prefix and message.startswith(prefix):
        message = message[len(prefix) :].lstrip("\n") or message
    policy = policies.get(diagnostic.policy_name)
    severity = diagnostic.severity
    if severity == "unspecified" and policy is not None:
        severity = policy.severity
    urn = diagnostic.urn
    record = records.get(urn)
    parts = urn.split("::")
    return Violation(
        pack=info.name,
        rule=diagnostic.policy_name,
        level=diagnostic.enforcement_level,
        severity=severity,
        urn=urn,
        type=record.type if record else (parts[2].split("$")[-1] if len(parts) > 3 else ""),
        name=record.name if record else (parts[3] if len(parts) > 3 else ""),
        message=message,
        description=diagnostic.description or (policy.description if policy else ""),
        source=record.source if record else None,
    )


def _violation_order(violation: Violation) -> tuple[int, int, str, str, str]:
    severity = (
        SEVERITY_ORDER.index(violation.severity) if violation.severity in SEVERITY_ORDER else 9
    )
    level = 0 if violation.level in ("mandatory", "remediate") else 1
    return (severity, level, violation.rule, violation.urn, violation.message)


def run_policy_preview(
    directory: str | Path,
    stack: str,
    mode: Mode,
    packs: Sequence[Path],
    configs: Sequence[Path],
    *,
    answers: Answers | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> PreviewResult:
    """``run_preview`` plus the gate: packs boot while the program runs.

    The project and stack config are loaded once: the packs get the config the program runs
    with. Raises ``PreviewError`` (exit 2) for a bad config, a missing or failing pack, or a
    failing program; the verdicts are in ``result.policy``.
    """
    setup = prepare_gate(packs, configs)
    project, config = load_stack(directory, stack, answers)
    with started_packs(setup, project.name, stack, mode == "preview", config.values) as procs:
        result = run_loaded(project, stack, config, mode, answers=answers, timeout=timeout)
        result.policy = run_gate(result, setup, procs)
    return result


__all__ = [
    "PackError",
    "PolicyConfigError",
    "load_config_file",
    "prepare_gate",
    "reconcile_config",
    "run_gate",
    "run_policy_preview",
]
