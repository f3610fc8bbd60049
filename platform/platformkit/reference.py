"""Generate the components reference (``docs/components.md``) from the code itself.

Fields of the ``*Args`` TypedDicts and the public attributes of each component are documented
with a string literal right under their annotation (what Pulumi's component analyzer and
Sphinx read). This module parses those with ``ast`` and renders Markdown tables, so the
reference cannot drift from the code: ``python -m platformkit.reference`` rewrites the
generated part of ``docs/components.md``, and a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m platformkit.reference) -->"
END = "<!-- END GENERATED REFERENCE -->"

COMPONENTS = (
    ("platformkit.network", "Network", ("NetworkArgs", "SubnetCidrs")),
    ("platformkit.cluster", "Cluster", ("ClusterArgs", "CapacityProviderStrategy")),
    ("platformkit.database", "Database", ("DatabaseArgs",)),
    ("platformkit.web_service", "WebService", ("WebServiceArgs", "DockerBuild")),
    ("platformkit.scheduled_task", "ScheduledTask", ("ScheduledTaskArgs",)),
    ("platformkit.network_ref", "NetworkRef", ()),
    ("platformkit.cluster", "ClusterRef", ()),
    ("platformkit.database", "DatabaseRef", ()),
)
"""(module, component class, argument TypedDicts) in the order the reference shows them."""


@dataclass(frozen=True)
class Field:
    """One documented annotation in a class body."""

    name: str
    annotation: str
    doc: str | None


def class_fields(module: ModuleType, class_name: str) -> list[Field]:
    """Every annotated name in ``class_name``'s body with its docstring (``None`` if absent).

    ``module`` may be a package that re-exports the class (``platformkit.web_service``): the
    source read is that of the module defining it. Raise ``LookupError`` when the class does
    not exist, so a typo cannot pass silently.
    """
    exported = getattr(module, class_name, None)
    defined_in = getattr(exported, "__module__", None)
    if isinstance(defined_in, str) and defined_in in sys.modules:
        module = sys.modules[defined_in]
    tree = ast.parse(inspect.getsource(module))
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name),
        None,
    )
    if node is None:
        raise LookupError(f"class {class_name!r} not found in module {module.__name__!r}")
    fields = []
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            following = node.body[index + 1] if index + 1 < len(node.body) else None
            fields.append(
                Field(statement.target.id, ast.unparse(statement.annotation), _doc(following))
            )
    return fields


def _doc(node: ast.stmt | None) -> str | None:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and node.value.value.strip()
    ):
        return inspect.cleandoc(node.value.value)
    return None


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(fields: list[Field], first_column: str) -> list[str]:
    lines = [f"| {first_column} | Type | Description |", "|---|---|---|"]
    for field in fields:
        if field.name.startswith("_"):
            continue
        lines.append(f"| `{field.name}` | `{_cell(field.annotation)}` | {_cell(field.doc or '')} |")
    return lines


def render() -> str:
    """Return the generated Markdown reference for every component."""
    out: list[str] = []
    for module_name, class_name, arg_types in COMPONENTS:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
        out += [f"## `{class_name}`", "", inspect.cleandoc(cls.__doc__ or ""), ""]
        for arg_type in arg_types:
            arg_cls = getattr(module, arg_type)
            out += [f"### `{arg_type}`", ""]
            summary = inspect.cleandoc(arg_cls.__doc__ or "")
            if summary:
                out += [summary, ""]
            out += [*_table(class_fields(module, arg_type), "Field"), ""]
        outputs = [f for f in class_fields(module, class_name) if not f.name.startswith("_")]
        if outputs:
            heading = "Fields" if not arg_types else "Outputs"
            out += [f"### {heading}", "", *_table(outputs, "Attribute"), ""]
    return "\n".join(out).rstrip() + "\n"


def splice(document: str, generated: str) -> str:
    """Replace the text between the BEGIN/END markers of ``document`` with ``generated``."""
    try:
        head, rest = document.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"the document lacks the markers {BEGIN!r} and {END!r}") from None
    return f"{head}{BEGIN}\n\n{generated}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (default) or ``--check`` the generated part of the reference document."""
    parser = argparse.ArgumentParser(prog="python -m platformkit.reference")
    parser.add_argument("document", nargs="?", default="docs/components.md", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the document is stale")
    args = parser.parse_args(argv)
    current = args.document.read_text(encoding="utf-8")
    updated = splice(current, render())
    if args.check:
        if updated != current:
            print(f"{args.document} is stale: run python -m platformkit.reference", file=sys.stderr)
            return 1
        return 0
    args.document.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
