"""Other stacks' outputs for ``StackReference``, as ``pulumi stack output --json`` prints them.

``platformkit preview --stack-outputs STACK=FILE`` (repeatable) supplies the outputs of a stack
the program references. FILE is a JSON object of output name → value, the shape
``pulumi stack output --json --stack STACK`` prints (or ``platformkit preview --format
stack-outputs`` of that stack):

- without ``--show-secrets``, a secret output is the string ``"[secret]"``. The program sees
  a stand-in shaped by the output's name (``secret_values``: a password, a PEM block, a
  token), and the output is secret (``get_output`` returns a secret Output, and
  ``get_output_details`` sets ``secret_value``). A ``"[secret]"`` nested in a value makes the
  whole output secret;
- with ``--show-secrets``, secrets are in plain text and nothing says which ones were secret.
  Give both files for one stack (``--stack-outputs S=outputs.json --stack-outputs
  S=outputs-with-secrets.json``): an output that is ``"[secret]"`` in either file is secret,
  and takes its value from the file that has it in plain text.

Stack names match as the Pulumi CLI resolves them: ``dev`` means the current project's stack
``organization/<project>/dev``, ``network/dev`` means ``organization/network/dev``.
``organization`` is the organization of a self-managed backend, and what
``pulumi.get_organization()`` returns offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformkit.outputs_json import parse_outputs
from platformkit.preview.errors import PreviewError
from platformkit.preview.secret_values import placeholder

SECRET_MARK = "[secret]"
"""What ``pulumi stack output --json`` prints for a secret value (without ``--show-secrets``)."""
DEFAULT_ORGANIZATION = "organization"
"""The organization of a self-managed backend; the program's organization offline."""


class StackOutputsError(PreviewError):
    """A ``--stack-outputs`` argument or file is malformed."""


class MissingStackOutputs(PreviewError):
    """A program references a stack whose outputs were not supplied."""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs of one referenced stack, merged from every file supplied for it."""

    name: str
    """The stack name as the user gave it (``org/project/stack``, ``project/stack``...)."""
    values: dict[str, Any] = field(default_factory=dict)
    """Output name → value as supplied; a secret one may still be ``"[secret]"``."""
    secret_names: frozenset[str] = frozenset()
    """Outputs that are secret (``"[secret]"``, or holding one, in some file)."""
    sources: tuple[str, ...] = ()
    """Where the values came from (files), for messages."""

    def merged(self, other: StackOutputs) -> StackOutputs:
        """These outputs with ``other``'s over them; a ``"[secret]"`` never hides a value."""
        values = dict(self.values)
        for key, value in other.values.items():
            if value != SECRET_MARK or key not in values:
                values[key] = value
        return StackOutputs(
            self.name,
            values,
            self.secret_names | other.secret_names,
            self.sources + other.sources,
        )

    def program_values(self) -> dict[str, Any]:
        """What the program sees: a ``"[secret]"`` output replaced by a stand-in."""
        return {
            key: placeholder(f"{self.name}:{key}") if value == SECRET_MARK else value
            for key, value in self.values.items()
        }


def from_mapping(name: str, outputs: Mapping[str, Any], source: str) -> StackOutputs:
    """``StackOutputs`` of stack ``name`` from one JSON object of outputs (read from ``source``)."""
    values = {str(k): v for k, v in outputs.items()}
    secret = frozenset(k for k, v in values.items() if _holds_secret_mark(v))
    return StackOutputs(name, values, secret, (source,))


def parse_spec(text: str) -> tuple[str, Path]:
    """Split a ``STACK=FILE`` argument; raises ``ValueError`` naming what is wrong."""
    stack, sep, path = text.partition("=")
    if not sep or not stack.strip() or not path.strip():
        raise ValueError(
            f"expected STACK=FILE (e.g. organization/network/dev=network-dev.json), got {text!r}"
        )
    return stack.strip(), Path(path.strip())


def load_stack_outputs(specs: Iterable[tuple[str, Path]]) -> list[StackOutputs]:
    """Read each ``(stack, file)``; raises ``StackOutputsError`` for an unreadable file."""
    loaded = []
    for stack, path in specs:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StackOutputsError(
                f"error: --stack-outputs {stack}: cannot read {path}: {exc.strerror}"
            ) from exc
        try:
            data = parse_outputs(text, str(path))
        except ValueError as exc:
            raise StackOutputsError(f"error: --stack-outputs {stack}: {exc}") from exc
        loaded.append(from_mapping(stack, data, str(path)))
    return loaded


def qualified_name(name: str, project: str, organization: str = DEFAULT_ORGANIZATION) -> str:
    """``name`` as ``organization/project/stack``, the way the Pulumi CLI completes it."""
    parts = name.split("/")
    if len(parts) == 1:
        return f"{organization}/{project}/{name}"
    if len(parts) == 2:
        return f"{organization}/{name}"
    return name


def find(supplied: Mapping[str, StackOutputs], name: str, project: str) -> StackOutputs | None:
    """The outputs supplied for stack ``name`` (as the program of ``project`` wrote it),
    merged in the order supplied when several spellings name the same stack."""
    wanted = qualified_name(name, project)
    found: StackOutputs | None = None
    for key, outputs in supplied.items():
        if qualified_name(key, project) == wanted:
            found = found.merged(outputs) if found is not None else outputs
    return found


def missing(name: str, supplied: Iterable[str], project: str) -> MissingStackOutputs:
    """The error for a reference to stack ``name`` whose outputs nobody supplied."""
    known = ", ".join(sorted(supplied)) or "none"
    full = qualified_name(name, project)
    shown = repr(name) if full == name else f"{name!r} ({full})"
    return MissingStackOutputs(
        f"error: StackReference {shown}: the outputs of this stack are not supplied; pass "
        f"--stack-outputs {name}=FILE with what `pulumi stack output --json --stack {name}` "
        f"prints (stacks supplied: {known})"
    )


def _holds_secret_mark(value: Any) -> bool:
    if isinstance(value, str):
        return value == SECRET_MARK
    if isinstance(value, dict):
        return any(_holds_secret_mark(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret_mark(v) for v in value)
    return False
