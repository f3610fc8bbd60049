"""The text report: what ``pulumi preview`` prints, for a stack previewed offline.

A resource tree (the root stack first, children indented under their parent with the
type and name columns aligned), the diagnostics the program logged, the stack outputs
(``output<string>`` when unknown, ``[unknown]`` inside a value, ``[secret]`` for secrets, never
the value) and a summary with the count per type. When policy packs ran, their verdicts
follow: violations grouped by severity (rule, level, resource, message, remediation), the
waivers (waived and expired) and one summary line.
"""

from __future__ import annotations

import json
from typing import Any

from platformkit.preview.recording import Computed
from platformkit.preview.result import STACK_TYPE, PreviewResult, Secret
from platformkit.preview.verdicts import SEVERITY_ORDER, GateReport

_INDENT = "    "


def render_text(result: PreviewResult) -> str:
    """The whole report, ending with a newline."""
    sections = [_header(result), _tree(result)]
    if result.diagnostics:
        sections.append(_diagnostics(result))
    if result.outputs:
        sections.append(_outputs(result))
    sections.append(_summary(result))
    if result.policy is not None:
        sections.extend(_policy_sections(result, result.policy))
    return "\n\n".join(s.rstrip("\n") for s in sections) + "\n"


def _header(result: PreviewResult) -> str:
    known = "computed outputs known" if result.mode == "up" else "computed outputs unknown"
    return (
        f"Previewing update ({result.stack}) of project {result.project.name}: "
        f"offline, under mocks, mode {result.mode} ({known})"
    )


def _tree(result: PreviewResult) -> str:
    rows: list[tuple[str, str]] = [(STACK_TYPE, result.stack_name)]
    entries = result.tree()
    for index, (depth, record) in enumerate(entries):
        prefix = "".join(
            "   " if _is_last(entries, _ancestor_index(entries, index, level)) else "│  "
            for level in range(1, depth)
        )
        branch = "└─ " if _is_last(entries, index) else "├─ "
        rows.append((prefix + branch + record.type, record.name))
    type_width = max(len("Type"), *(len(t) for t, _ in rows))
    name_width = max(len("Name"), *(len(n) for _, n in rows))
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Plan"]
    lines += [f" +   {t:<{type_width}}  {n:<{name_width}}  create" for t, n in rows]
    return "\n".join(lines)


def _ancestor_index(entries: list[tuple[int, Any]], index: int, level: int) -> int:
    """Index of the ancestor at ``level`` of the entry at ``index`` (tree order)."""
    for i in range(index, -1, -1):
        if entries[i][0] == level:
            return i
    return index


def _is_last(entries: list[tuple[int, Any]], index: int) -> bool:
    """Whether no later sibling follows the entry at ``index``."""
    depth = entries[index][0]
    for later, _ in entries[index + 1 :]:
        if later == depth:
            return False
        if later < depth:
            return True
    return True


def _diagnostics(result: PreviewResult) -> str:
    lines = ["Diagnostics:", f"  {STACK_TYPE} ({result.stack_name}):"]
    for diagnostic in result.diagnostics:
        message = diagnostic.message.strip().replace("\n", "\n" + _INDENT + "  ")
        lines.append(f"{_INDENT}{diagnostic.severity}: {message}")
    return "\n".join(lines)


def _outputs(result: PreviewResult) -> str:
    width = max(len(k) for k in result.outputs)
    lines = ["Outputs:"]
    for key, value in result.outputs.items():
        shown = "output<string>" if isinstance(value, Computed) else _value(value, 1)
        lines.append(f"{_INDENT}{key:<{width}}: {shown}")
    return "\n".join(lines)


def _value(value: Any, level: int) -> str:
    if isinstance(value, Computed):
        return "[unknown]"
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        width = max(len(str(k)) for k in value)
        inner = _INDENT * (level + 1)
        body = [f"{inner}{str(k):<{width}}: {_value(v, level + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(body) + "\n" + _INDENT * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = _INDENT * (level + 1)
        body = [f"{inner}[{i}]: {_value(v, level + 1)}" for i, v in enumerate(value)]
        return "[\n" + "\n".join(body) + "\n" + _INDENT * level + "]"
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


def _summary(result: PreviewResult) -> str:
    counts = result.count_by_type()
    width = max(len(t) for t in counts)
    lines = ["Resources:", f"{_INDENT}+ {result.total} to create", "", f"{_INDENT}By type:"]
    lines += [f"{_INDENT}{_INDENT}{t:<{width}}  {n}" for t, n in counts.items()]
    return "\n".join(lines)


def _policy_sections(result: PreviewResult, report: GateReport) -> list[str]:
    packs = ["Policy packs:"] + [
        f"{_INDENT}{p.name} {p.version or '(no version)'} ({p.directory}): "
        f"{len(p.info.policies)} policies"
        for p in report.packs
    ]
    sections = ["\n".join(packs)]
    active = report.active
    if active:
        lines = ["Policy violations:"]
        for severity in SEVERITY_ORDER:
            group = [v for v in active if v.severity == severity]
            if not group:
                continue
            lines.append(f"{_INDENT}{severity}:")
            for violation in group:
                pack = next(p for p in report.packs if p.name == violation.pack)
                policy = pack.policy(violation.rule)
                where = f"{violation.type} {violation.name}".strip()
                lines.append(f"{_INDENT * 2}[{violation.level}] {violation.rule}: {where}")
                lines.append(f"{_INDENT * 3}urn: {violation.urn or result.stack_urn}")
                for text in (violation.message or violation.description).splitlines():
                    lines.append(f"{_INDENT * 3}{text}")
                if policy is not None and policy.remediation:
                    lines.append(f"{_INDENT * 3}remediation: {policy.remediation}")
        sections.append("\n".join(lines))
    waivers = [w for p in report.packs for w in p.waivers]
    if waivers:
        lines = ["Waivers:"]
        for waiver in waivers:
            target = waiver.urn or "(matched no resource)"
            lines.append(f"{_INDENT}{waiver.status:<8}{waiver.rule}: {target}")
            lines.append(
                f"{_INDENT * 3}owner {waiver.owner}, expires {waiver.expires}: {waiver.reason}"
            )
        sections.append("\n".join(lines))
    verdict = "FAILED" if report.mandatory else "passed"
    sections.append(
        f"Policies {verdict}: {len(report.mandatory)} mandatory, {len(report.advisory)} advisory, "
        f"{len(report.waived)} waived"
    )
    return sections
