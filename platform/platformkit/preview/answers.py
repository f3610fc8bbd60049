"""The user's answers file (``--answers FILE``): what the offline engine cannot derive.

A YAML or JSON mapping with four optional sections::

    invokes:                      # invoke token -> the fields of its result
      aws:ec2/getAmi:getAmi: {id: ami-0abcdef1234567890, imageId: ami-0abcdef1234567890}
    stackReferences:              # stack name as the program passes it -> its outputs
      acme/network/prod: {vpcId: vpc-0123456789abcdef0, subnetIds: [subnet-1, subnet-2]}
    secrets:                      # config key -> the value the program sees
      myproj:dbPassword: correct-horse-battery-staple
    resources:                    # logical name -> outputs (``up`` mode), e.g. what a
      app-user: {connectionString: "mysql://app@db:3306/app"}   # dynamic provider computes

Invoke results may use the result's wire names (``imageId``) or Python names (``image_id``)
and override the generated answer field by field. A secret key without a namespace belongs to
the project. Values given here stay secret: they are never printed. ``stackReferences``
entries follow the rules of ``--stack-outputs`` files (``stack_outputs``: ``"[secret]"``
marks a secret output); ``Answers.supplied`` adds those files and ``--environment`` files
(``esc_environments``), so everything the user supplies travels as one ``Answers``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from platformkit.preview.errors import PreviewError
from platformkit.preview.esc_environments import OpenedEnvironment
from platformkit.preview.stack_outputs import StackOutputs, from_mapping

_SECTIONS = ("invokes", "stackReferences", "secrets", "resources")


class AnswersError(PreviewError):
    """The answers file is unreadable or malformed."""


@dataclass(frozen=True)
class Answers:
    """Answers supplied by the user; empty by default."""

    invokes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Invoke token → result fields (they override the generated ones)."""
    stack_references: dict[str, StackOutputs] = field(default_factory=dict)
    """Stack name (as supplied) → its outputs."""
    secrets: dict[str, Any] = field(default_factory=dict)
    """Config key (qualified or not) → the plain value a ``secure:`` key stands for."""
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Logical resource name → outputs it gets in ``up`` mode (over the derived ones)."""
    environments: dict[str, OpenedEnvironment] = field(default_factory=dict)
    """ESC environment name → its opened values (``--environment``)."""
    source: Path | None = None

    def supplied(
        self,
        stack_outputs: Iterable[StackOutputs] = (),
        environments: Mapping[str, OpenedEnvironment] | None = None,
    ) -> Answers:
        """These answers plus ``--stack-outputs`` files (merged over ``stackReferences``,
        in order) and ``--environment`` files."""
        references = dict(self.stack_references)
        for outputs in stack_outputs:
            known = references.get(outputs.name)
            references[outputs.name] = known.merged(outputs) if known else outputs
        return replace(
            self,
            stack_references=references,
            environments={**self.environments, **(environments or {})},
        )

    def secret_for(self, key: str) -> Any:
        """The value supplied for ``project:name`` (also found under ``name``), or ``None``."""
        if key in self.secrets:
            return self.secrets[key]
        return self.secrets.get(key.partition(":")[2])


def load_answers(path: Path | None) -> Answers:
    """Read ``path`` (YAML or JSON); ``None`` gives empty answers. Raises ``AnswersError``."""
    if path is None:
        return Answers()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AnswersError(f"error: cannot read answers file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise AnswersError(f"error: answers file {path} is not valid: {exc}") from exc
    data = data or {}
    if not isinstance(data, dict):
        raise AnswersError(f"error: answers file {path}: expected a mapping at the top level")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise AnswersError(
            f"error: answers file {path}: unknown section(s) {', '.join(unknown)} "
            f"(expected: {', '.join(_SECTIONS)})"
        )
    sections = {name: data.get(name) or {} for name in _SECTIONS}
    for name, value in sections.items():
        if not isinstance(value, dict):
            raise AnswersError(f"error: answers file {path}: '{name}' must be a mapping")
    for token, result in sections["invokes"].items():
        if str(token).count(":") != 2 or not isinstance(result, dict):
            raise AnswersError(
                f"error: answers file {path}: invokes: {token!r} must be an invoke token "
                "(e.g. aws:ec2/getAmi:getAmi) mapped to the fields of its result"
            )
    for section in ("stackReferences", "resources"):
        for name, outputs in sections[section].items():
            if not isinstance(outputs, dict):
                raise AnswersError(
                    f"error: answers file {path}: {section}: {name!r} must map to its outputs"
                )
    return Answers(
        invokes={str(k): dict(v) for k, v in sections["invokes"].items()},
        stack_references={
            str(k): from_mapping(str(k), v, f"{path} (stackReferences)")
            for k, v in sections["stackReferences"].items()
        },
        secrets={str(k): v for k, v in sections["secrets"].items()},
        resources={str(k): dict(v) for k, v in sections["resources"].items()},
        source=path,
    )
