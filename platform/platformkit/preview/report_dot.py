"""The resource graph in Graphviz DOT, shaped as ``pulumi stack graph`` writes it.

A ``strict digraph`` with one node per resource (the root stack included), ids ``Resource0``,
``Resource1``, ... in tree order (the root stack first), each node followed by its outgoing
edges, as Pulumi's ``dotconv`` prints them:

- a **dependency edge** runs from the resource depended on to the dependent, coloured
  ``DEPENDENCY_EDGE_COLOR`` (``pulumi stack graph``'s default, ``#246C60``) and labelled with
  the dependent's input properties that carry the dependency, sorted (none for ``depends_on``);
- a **parent edge** runs from a child to its parent, coloured ``PARENT_EDGE_COLOR`` (default
  ``#AA6639``), without label.

Where Pulumi labels a node with its full URN, this labels it ``type`` and ``name`` on two
lines (readable at a glance) and keeps the URN as the node's ``tooltip`` (SVG ``title``).
Default providers are not resources of the recording, so they are not nodes (Pulumi's
snapshot has them). An edge to a URN that is not a recorded resource is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from platformkit.preview.result import STACK_TYPE, PreviewResult

DEPENDENCY_EDGE_COLOR = "#246C60"
"""``pulumi stack graph --dependency-edge-color``'s default."""
PARENT_EDGE_COLOR = "#AA6639"
"""``pulumi stack graph --parent-edge-color``'s default."""
_INDENT = "    "


@dataclass(frozen=True)
class _Node:
    urn: str
    type: str
    name: str
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, list[str]]


def render_dot(result: PreviewResult) -> str:
    """The DOT text of ``result``'s resource graph, ending with a newline."""
    nodes = _nodes(result)
    ids = {node.urn: f"Resource{index}" for index, node in enumerate(nodes)}
    outgoing: dict[str, list[str]] = {node.urn: [] for node in nodes}
    for node in nodes:
        for dependency in dict.fromkeys(node.dependencies):
            if dependency in ids and dependency != node.urn:
                label = ", ".join(_blame(node, dependency))
                attributes = _attributes(color=DEPENDENCY_EDGE_COLOR, label=label)
                outgoing[dependency].append(f"{ids[dependency]} -> {ids[node.urn]}{attributes}")
    for node in nodes:
        if node.parent in ids:
            attributes = _attributes(color=PARENT_EDGE_COLOR)
            outgoing[node.urn].append(f"{ids[node.urn]} -> {ids[node.parent]}{attributes}")
    lines = ["strict digraph {"]
    for node in nodes:
        label = f"{_quote(node.type)}\\n{_quote(node.name)}"
        lines.append(f'{_INDENT}{ids[node.urn]} [label="{label}", tooltip="{_quote(node.urn)}"];')
        lines.extend(f"{_INDENT}{edge};" for edge in outgoing[node.urn])
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(result: PreviewResult) -> list[_Node]:
    stack = _Node(result.stack_urn, STACK_TYPE, result.stack_name, None, (), {})
    return [stack] + [
        _Node(
            record.urn,
            record.type,
            record.name,
            record.parent,
            tuple(record.dependencies),
            record.property_dependencies,
        )
        for _, record in result.tree()
    ]


def _blame(node: _Node, dependency: str) -> list[str]:
    """The properties of ``node`` whose values come from ``dependency``, sorted."""
    return sorted(key for key, urns in node.property_dependencies.items() if dependency in urns)


def _attributes(*, color: str, label: str = "") -> str:
    pairs: Iterable[tuple[str, str]] = (("color", color), ("label", label))
    shown = [f'{key} = "{_quote(value)}"' for key, value in pairs if value]
    return f" [{', '.join(shown)}]" if shown else ""


def _quote(text: str) -> str:
    """``text`` for a DOT double-quoted string: backslashes and quotes escaped, line breaks
    as ``\\n`` (a URN or name is untrusted text: it must not end the string)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
