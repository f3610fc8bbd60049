"""The JSON report: the full resource graph of one preview, stable and documented.

The format (version 1) is described in ``docs/preview.md`` and by the JSON Schema shipped at
``platformkit/preview/schema/preview-v1.json``. The same program, stack and mode always give
byte-identical output: keys are sorted, resources are in tree order (see
``PreviewResult.tree``), computed values are the string ``"<computed>"`` and secret values the
string ``"[secret]"`` (the value itself is never written).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from platformkit.preview.recording import Computed, ResourceRecord, SourcePosition
from platformkit.preview.result import STACK_TYPE, PreviewResult, Secret
from platformkit.preview.verdicts import GateReport

FORMAT_VERSION = 1
"""Bumped on any incompatible change to the document's shape."""
COMPUTED_VALUE = "<computed>"
"""How a value known only after the update is written."""
SECRET_VALUE = "[secret]"
"""How a secret value is written."""
SCHEMA_RESOURCE = "preview-v1.json"
"""The JSON Schema of this format, inside the ``platformkit.preview.schema`` package."""


def render_json(result: PreviewResult) -> str:
    """The report as text: indented JSON with sorted keys and a final newline."""
    return json.dumps(to_document(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_document(result: PreviewResult) -> dict[str, Any]:
    """The report as a JSON-ready ``dict`` (see the module docstring)."""
    stack = {
        "urn": result.stack_urn,
        "type": STACK_TYPE,
        "name": result.stack_name,
        "parent": None,
        "custom": False,
        "remote": False,
        "provider": None,
        "inputs": {},
        "secretInputs": [],
        "dependencies": [],
        "propertyDependencies": {},
        "options": {},
        "source": None,
        "id": None,
        "outputs": _encode(result.outputs),
        "secretOutputs": sorted(k for k, v in result.outputs.items() if isinstance(v, Secret)),
    }
    resources_ = [stack] + [_resource(result, record) for _, record in result.tree()]
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "project": result.project.name,
        "stack": result.stack,
        "mode": result.mode,
        "resources": resources_,
        "outputs": _encode(result.outputs),
        "diagnostics": [{"severity": d.severity, "message": d.message} for d in result.diagnostics],
        "summary": {"byType": result.count_by_type(), "total": result.total},
    }
    if result.policy is not None:
        document["policies"] = _policies(result, result.policy)
    return document


def render_stack_outputs(result: PreviewResult) -> str:
    """The stack outputs as ``pulumi stack output --json`` prints them: secrets as
    ``"[secret]"`` (and computed values as ``"<computed>"``, so use mode ``up`` to hand them to
    another stack's ``--stack-outputs``)."""
    return json.dumps(_encode(result.outputs), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the document ``to_document`` returns."""
    schema_package = resources.files("platformkit.preview.schema")
    text = schema_package.joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _resource(result: PreviewResult, record: ResourceRecord) -> dict[str, Any]:
    return {
        "urn": record.urn,
        "type": record.type,
        "name": record.name,
        "parent": record.parent,
        "custom": record.custom,
        "remote": record.remote,
        "provider": record.provider,
        "inputs": _redacted(record.inputs, record.secret_inputs),
        "secretInputs": sorted(record.secret_inputs),
        "dependencies": sorted(set(record.dependencies)),
        "propertyDependencies": {
            key: sorted(set(urns)) for key, urns in record.property_dependencies.items()
        },
        "options": _encode(record.options),
        "source": _source(result, record.source),
        "id": _id(result, record),
        "outputs": _redacted(record.outputs, record.secret_outputs),
        "secretOutputs": sorted(record.secret_outputs),
    }


def _id(result: PreviewResult, record: ResourceRecord) -> str | None:
    # A custom resource always gets an id; during a preview it is not known yet.
    if record.id is None and record.custom and result.mode == "preview":
        return COMPUTED_VALUE
    return record.id


def _redacted(values: dict[str, Any], secret_keys: list[str]) -> dict[str, Any]:
    secret = set(secret_keys)
    return {k: SECRET_VALUE if k in secret else _encode(v) for k, v in values.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, Computed):
        return COMPUTED_VALUE
    if isinstance(value, Secret):
        return SECRET_VALUE
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Anything else a program exports (a dataclass, a Path) is shown as Pulumi would: text.
    return str(value)


def _source(result: PreviewResult, source: SourcePosition | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"uri": relative_uri(result, source.uri), "line": source.line, "column": source.column}


def relative_uri(result: PreviewResult, uri: str) -> str:
    """``uri`` relative to the project directory when it is a file inside it, else as is."""
    # Paths inside the project are written relative to it (``stacks/__main__.py``), so the
    # report does not change with where the repository is checked out.
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = Path(unquote(parsed.path))
    try:
        return path.relative_to(result.project.directory).as_posix()
    except ValueError:
        return uri


def _policies(result: PreviewResult, report: GateReport) -> dict[str, Any]:
    """The gate's verdicts: packs, violations (waived ones carry their waiver), waivers."""
    return {
        "packs": [
            {
                "name": pack.name,
                "version": pack.version,
                "directory": Path(
                    os.path.relpath(pack.directory, result.project.directory)
                ).as_posix(),
                "policies": len(pack.info.policies),
                "enforcementLevels": dict(sorted(pack.levels.items())),
            }
            for pack in report.packs
        ],
        "violations": [
            {
                "pack": v.pack,
                "rule": v.rule,
                "level": v.level,
                "severity": v.severity,
                "urn": v.urn,
                "type": v.type,
                "name": v.name,
                "message": v.message,
                "description": v.description,
                "remediation": _remediation(report, v.pack, v.rule),
                "source": _source(result, v.source),
                "waived": v.waiver is not None,
            }
            for v in report.violations
        ],
        "waivers": [
            {
                "pack": pack.name,
                "status": w.status,
                "rule": w.rule,
                "urn": w.urn,
                "owner": w.owner,
                "reason": w.reason,
                "expires": w.expires,
                "message": w.message,
            }
            for pack in report.packs
            for w in pack.waivers
        ],
        "summary": {
            "mandatory": len(report.mandatory),
            "advisory": len(report.advisory),
            "waived": len(report.waived),
            "passed": not report.mandatory,
        },
    }


def _remediation(report: Any, pack_name: str, rule: str) -> str:
    for pack in report.packs:
        if pack.name == pack_name:
            policy = pack.policy(rule)
            return policy.remediation if policy is not None else ""
    return ""
