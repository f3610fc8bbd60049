"""`--format dot`: the resource graph as `pulumi stack graph` writes it, read back by Graphviz."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main
from platformkit.preview.report_dot import (
    DEPENDENCY_EDGE_COLOR,
    PARENT_EDGE_COLOR,
    render_dot,
)
from platformkit.preview.result import PreviewResult, run_preview
from tests.preview.conftest import PROGRAMS, REPO

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(
    DOT is None, reason="Graphviz `dot` is absent (apt-get install graphviz)"
)


def graphviz(text: str, fmt: str = "json") -> str:
    """What ``dot -T<fmt>`` makes of ``text``; fails the test when Graphviz rejects it."""
    assert DOT is not None
    done = subprocess.run(
        [DOT, f"-T{fmt}"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Error" not in done.stderr, done.stderr
    return done.stdout


class Graph:
    """A graph as Graphviz parsed it: nodes by URN (their tooltip), edges as URN pairs."""

    def __init__(self, text: str) -> None:
        parsed: dict[str, Any] = json.loads(graphviz(text))
        assert parsed["strict"] and parsed["directed"]
        objects = parsed.get("objects", [])
        # Graphviz keeps escString attributes as written (``\\`` for a backslash).
        urn_of = {node["_gvid"]: node["tooltip"].replace("\\\\", "\\") for node in objects}
        self.nodes = {urn_of[node["_gvid"]]: node for node in objects}
        self.edges = {
            (urn_of[edge["tail"]], urn_of[edge["head"]]): edge for edge in parsed.get("edges", [])
        }

    def lines(self, urn: str) -> list[str]:
        """The text lines Graphviz draws in the node of ``urn``."""
        return [op["text"] for op in self.nodes[urn]["_ldraw_"] if op["op"] == "T"]

    def colored(self, color: str) -> set[tuple[str, str]]:
        return {pair for pair, edge in self.edges.items() if edge["color"] == color}


def urn(result: PreviewResult, name: str) -> str:
    return next(r.urn for r in result.resources if r.name == name)


@needs_dot
def test_every_resource_is_a_node_labelled_by_type_and_name(basic_up: PreviewResult) -> None:
    graph = Graph(render_dot(basic_up))
    assert set(graph.nodes) == {basic_up.stack_urn, *(r.urn for r in basic_up.resources)}
    assert graph.lines(urn(basic_up, "app-group")) == [
        "aws:cloudwatch/logGroup:LogGroup",
        "app-group",
    ]
    assert graph.lines(basic_up.stack_urn) == ["pulumi:pulumi:Stack", "basic-dev"]


@needs_dot
def test_parent_edges_run_from_child_to_parent(basic_up: PreviewResult) -> None:
    graph = Graph(render_dot(basic_up))
    stack = basic_up.stack_urn
    top_level = ("data", "db-password", "api-token", "data-policy", "app")
    assert graph.colored(PARENT_EDGE_COLOR) == {
        *((urn(basic_up, name), stack) for name in top_level),
        (urn(basic_up, "app-group"), urn(basic_up, "app")),
        (urn(basic_up, "app-topic"), urn(basic_up, "app")),
    }
    assert PARENT_EDGE_COLOR == "#AA6639"  # pulumi stack graph's default


@needs_dot
def test_dependency_edges_run_from_dependency_to_dependent_labelled_by_property(
    basic_up: PreviewResult,
) -> None:
    # The bucket policy takes `bucket=bucket.id` and a policy built from `bucket.arn`.
    graph = Graph(render_dot(basic_up))
    edge = (urn(basic_up, "data"), urn(basic_up, "data-policy"))
    assert graph.colored(DEPENDENCY_EDGE_COLOR) == {edge}
    assert graph.edges[edge]["label"] == "bucket, policy"
    assert DEPENDENCY_EDGE_COLOR == "#246C60"  # pulumi stack graph's default


@needs_dot
def test_names_with_quotes_backslashes_and_markup_survive() -> None:
    result = run_preview(PROGRAMS / "hostile_names", "test", "up")
    graph = Graph(render_dot(result))
    assert set(graph.nodes) == {result.stack_urn, *(r.urn for r in result.resources)}
    names = {line for node in graph.nodes for line in graph.lines(node)}
    assert '<script>document.title="pwned"</script>' in names
    assert 'say "hi" \\ <img src=x onerror=alert(1)>' in names
    # depends_on a component: the engine receives the component's children as dependencies.
    topic = urn(result, 'say "hi" \\ <img src=x onerror=alert(1)>-topic')
    edge = (topic, urn(result, '<script>document.title="pwned"</script>'))
    assert graph.colored(DEPENDENCY_EDGE_COLOR) == {edge}
    assert graph.edges[edge].get("label", "") == ""  # depends_on carries no property


@needs_dot
def test_the_dev_stack_renders_to_svg_with_every_resource() -> None:
    result = run_preview(REPO, "dev", "up")
    text = render_dot(result)
    svg = graphviz(text, "svg")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    graph = Graph(text)
    assert set(graph.nodes) == {result.stack_urn, *(r.urn for r in result.resources)}
    components = {r.urn for r in result.resources if not r.custom}
    assert all(
        parent in components | {result.stack_urn} for _, parent in graph.colored(PARENT_EDGE_COLOR)
    )
    assert len(graph.colored(PARENT_EDGE_COLOR)) == len(result.resources)


def test_dot_goes_to_standard_output_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["preview", str(PROGRAMS / "basic"), "--stack", "dev", "--format", "dot"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("strict digraph {\n") and out.endswith("}\n")
    target = tmp_path / "graphs" / "basic.dot"
    assert main([*argv, "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == out
