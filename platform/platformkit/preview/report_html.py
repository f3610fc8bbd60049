"""The stack page: one self-contained HTML file showing a preview and its policy verdicts.

The page has a summary (resource count; mandatory, advisory and waived violations; the policy
packs that ran, or a note that none did; a table of the violations linking to their
resources), a filter box, and the resource tree grouped by component (``<details>`` elements,
collapsible without script), each resource with its type, name and the verdicts on it: rule,
level, message, remediation, waiver. Violations reported on the stack itself sit on the root.

Its CSS and script (``assets/stack_page.css``, ``assets/stack_page.js``) are inlined; nothing
is loaded from anywhere, so it opens from ``file://``. A Content-Security-Policy allows exactly
those two inline blocks (by hash) and nothing else. Every name, type, URN and message is
untrusted text, escaped on the way in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib.resources import files

from platformkit.preview.result import STACK_TYPE, PreviewResult
from platformkit.preview.verdicts import GateReport, Violation

_ASSETS = files("platformkit.preview") / "assets"
_LEVEL_ORDER = {"mandatory": 0, "remediate": 0, "advisory": 1}


@dataclass(frozen=True)
class _Node:
    """A resource in the page's tree (the root stack included)."""

    index: int
    urn: str
    type: str
    name: str
    children: list[_Node]


def render_html(result: PreviewResult) -> str:
    """The whole page, ending with a newline."""
    css = _ASSETS.joinpath("stack_page.css").read_text(encoding="utf-8")
    script = _ASSETS.joinpath("stack_page.js").read_text(encoding="utf-8")
    report = result.policy
    verdicts = _verdicts_by_urn(result, report)
    root = _tree(result)
    title = f"{result.project.name} / {result.stack}: offline preview"
    policy = (
        f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(script)}; img-src data:"
    )
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_e(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="subtitle">Stack <code>{_e(result.stack_urn)}</code>, mode '
        f"{_e(result.mode)}: computed offline under Pulumi's mock runtime by "
        "<code>platformkit preview</code>.</p>",
        "</header>",
        _summary(result, report, verdicts, root),
        _toolbar(),
        '<ul class="tree" id="tree">',
        _resource(root, verdicts, report),
        "</ul>",
        f"<script>{script}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _hash(content: str) -> str:
    digest = base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def _tree(result: PreviewResult) -> _Node:
    root = _Node(0, result.stack_urn, STACK_TYPE, result.stack_name, [])
    # ``tree()`` is depth-first with depths; the open path maps each depth to its node.
    path = [root]
    for index, (depth, record) in enumerate(result.tree(), start=1):
        node = _Node(index, record.urn, record.type, record.name, [])
        del path[depth:]
        path[-1].children.append(node)
        path.append(node)
    return root


def _verdicts_by_urn(
    result: PreviewResult, report: GateReport | None
) -> dict[str, list[Violation]]:
    known = {record.urn for record in result.resources}
    verdicts: dict[str, list[Violation]] = {}
    for violation in report.violations if report else []:
        # A stack-level verdict (AnalyzeStack) or one on an unknown URN belongs to the root.
        urn = violation.urn if violation.urn in known else result.stack_urn
        verdicts.setdefault(urn, []).append(violation)
    for entries in verdicts.values():
        entries.sort(key=lambda v: (v.waiver is not None, _LEVEL_ORDER.get(v.level, 2), v.rule))
    return verdicts


def _kind(violation: Violation) -> str:
    """``mandatory``, ``advisory`` or ``waived``: how the page marks a verdict."""
    if violation.waiver is not None:
        return "waived"
    return "mandatory" if _LEVEL_ORDER.get(violation.level) == 0 else "advisory"


def _summary(
    result: PreviewResult,
    report: GateReport | None,
    verdicts: dict[str, list[Violation]],
    root: _Node,
) -> str:
    counts = [("resources", "Resources", result.total)]
    if report is not None:
        counts += [
            ("mandatory", "Mandatory violations", len(report.mandatory)),
            ("advisory", "Advisory violations", len(report.advisory)),
            ("waived", "Waived", len(report.waived)),
        ]
    cells = "".join(
        f'<div class="{key}" data-count="{key}"><dt>{label}</dt><dd>{value}</dd></div>'
        for key, label, value in counts
    )
    parts = ['<section id="summary">', "<h2>Summary</h2>", f'<dl class="counts">{cells}</dl>']
    if report is None:
        parts.append(
            '<p class="verdict-line">No policy pack ran: run with <code>--policy-pack</code> '
            "to see policy verdicts on each resource.</p>"
        )
    else:
        failed = bool(report.mandatory)
        packs = ", ".join(
            f"{_e(p.name)} {_e(p.version or '(no version)')} ({len(p.info.policies)} policies)"
            for p in report.packs
        )
        parts.append(
            f'<p class="verdict-line {"failed" if failed else "passed"}">Policies '
            f"{'FAILED' if failed else 'passed'}</p>"
        )
        parts.append(f"<p>Policy packs: {packs}</p>")
        parts.append(_violation_table(root, verdicts))
    parts.append("</section>")
    return "\n".join(parts)


def _violation_table(root: _Node, verdicts: dict[str, list[Violation]]) -> str:
    rows = []
    for node in _walk(root):
        for violation in verdicts.get(node.urn, []):
            if violation.waiver is None:
                kind = _kind(violation)
                rows.append(
                    (
                        _LEVEL_ORDER.get(violation.level, 2),
                        f'<tr class="{kind}"><td><span class="badge {kind}">{kind}</span></td>'
                        f"<td><code>{_e(violation.rule)}</code></td>"
                        f'<td><a class="jump" href="#r-{node.index}">{_e(node.name)}</a></td>'
                        f"<td>{_e(violation.message or violation.description)}</td></tr>",
                    )
                )
    if not rows:
        return "<p>No active violations.</p>"
    rows.sort(key=lambda row: row[0])
    head = "<tr><th>Level</th><th>Rule</th><th>Resource</th><th>Message</th></tr>"
    body = "".join(row for _, row in rows)
    return (
        '<div class="table-scroll"><table class="violations">'
        f"<thead>{head}</thead><tbody>{body}</tbody></table></div>"
    )


def _walk(node: _Node) -> list[_Node]:
    return [node] + [n for child in node.children for n in _walk(child)]


def _toolbar() -> str:
    return (
        '<div class="toolbar">'
        '<input type="search" id="filter" placeholder="Filter by type, name, rule or message" '
        'aria-label="Filter resources">'
        '<label><input type="checkbox" id="only-violations"> only resources with violations'
        "</label>"
        '<button type="button" id="expand-all">Expand all</button>'
        '<button type="button" id="collapse-all">Collapse all</button>'
        '<span id="filter-status" role="status"></span>'
        "</div>"
    )


def _resource(node: _Node, verdicts: dict[str, list[Violation]], report: GateReport | None) -> str:
    own = verdicts.get(node.urn, [])
    kinds = [_kind(v) for v in own]
    classes = ["resource"]
    if node.children:
        classes.append("component")
    classes += [f"has-{kind}" for kind in ("mandatory", "advisory", "waived") if kind in kinds]
    if "mandatory" in kinds or "advisory" in kinds:
        classes.append("violating")
    search = " ".join(
        [node.type, node.name, node.urn]
        + [f"{v.rule} {v.level} {v.message or v.description}" for v in own]
    ).lower()
    badges = "".join(
        f'<span class="badge {kind}">{kinds.count(kind)} {kind}</span>'
        for kind in ("mandatory", "advisory", "waived")
        if kind in kinds
    )
    if node.children:
        badges += f'<span class="badge count">{len(node.children)} children</span>'
    label = f'<span class="kind">{_e(node.type)}</span><span class="name">{_e(node.name)}</span>'
    items = _verdict_list(own, report)
    opening = (
        f'<li class="{" ".join(classes)}" id="r-{node.index}" data-urn="{_e(node.urn)}" '
        f'data-search="{_e(search)}">'
    )
    if not node.children:
        return f'{opening}<div class="row">{label}{badges}</div>{items}</li>'
    children = "\n".join(_resource(child, verdicts, report) for child in node.children)
    return (
        f"{opening}<details open><summary>{label}{badges}</summary>{items}"
        f'<ul class="children">\n{children}\n</ul></details></li>'
    )


def _verdict_list(violations: Sequence[Violation], report: GateReport | None) -> str:
    if not violations:
        return ""
    items = []
    for violation in violations:
        kind = _kind(violation)
        level = f"waived ({violation.level})" if kind == "waived" else violation.level
        notes = []
        remediation = _remediation(violation, report)
        if remediation:
            notes.append(f'<p class="note">Remediation: {_e(remediation)}</p>')
        if violation.waiver is not None:
            waiver = violation.waiver
            notes.append(
                f'<p class="note">Waiver: {_e(waiver.reason)} (owner {_e(waiver.owner)}, '
                f"expires {_e(waiver.expires)})</p>"
            )
        items.append(
            f'<li class="verdict {kind}" data-rule="{_e(violation.rule)}">'
            f'<span class="level">{_e(level)}</span><code class="rule">{_e(violation.rule)}'
            f'</code> <span class="message">{_e(violation.message or violation.description)}'
            f'</span> <span class="note">({_e(violation.pack)}, severity '
            f"{_e(violation.severity)})</span>{''.join(notes)}</li>"
        )
    return f'<ul class="verdicts">{"".join(items)}</ul>'


def _remediation(violation: Violation, report: GateReport | None) -> str:
    if report is None:
        return ""
    for pack in report.packs:
        if pack.name == violation.pack:
            policy = pack.policy(violation.rule)
            return policy.remediation if policy is not None and policy.remediation else ""
    return ""
