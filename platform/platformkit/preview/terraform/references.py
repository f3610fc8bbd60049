"""Which input came from which other resource, as Terraform expressions.

In a Terraform plan a value taken from another resource (``vpc_id = aws_vpc.main.id``) is
unknown until the apply, so it is missing from the planned values and present in the
configuration as ``expressions.vpc_id.references = ["aws_vpc.main.id", "aws_vpc.main"]``;
Checkov's graph checks (CKV2_*) follow these to connect resources. A Pulumi program says the
same through ``propertyDependencies``: input key → the resources its value came from. Which
attribute of the dependency was used is found by matching the value against the dependency's
id and outputs (``sg-0abc…`` is the group's ``id``, ``arn:aws:kms:…`` the key's ``arn``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from platformkit.preview.terraform.names import snake_case

# The attribute a reference most likely means when several outputs hold the same value.
_PREFERRED = ("id", "arn", "name")
# Outputs too generic to prove a value came from them ("us-east-1", "prod").
_MIN_MATCH_LENGTH = 6


@dataclass
class Target:
    """A resource another one may refer to: its address and the values it exposes."""

    address: str
    """``aws_security_group.analytics-sg``."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Attribute value → Terraform attribute name (``sg-0abc…`` → ``id``)."""

    @classmethod
    def of(cls, address: str, resource_id: str | None, outputs: Mapping[str, Any]) -> Target:
        """Index ``resource_id`` and the string outputs of a resource at ``address``."""
        found: dict[str, str] = {}
        ordered = [("id", resource_id)] + sorted(
            outputs.items(), key=lambda kv: (kv[0] not in _PREFERRED, _rank(kv[0]), kv[0])
        )
        for key, value in ordered:
            if isinstance(value, str) and len(value) >= _MIN_MATCH_LENGTH:
                found.setdefault(value, snake_case(key))
        # Where the id is the ARN (load balancers, target groups), Terraform code says ``.arn``.
        arn = outputs.get("arn")
        if isinstance(arn, str) and arn.startswith("arn:"):
            found[arn] = "arn"
        return cls(address, found)


def _rank(key: str) -> int:
    return _PREFERRED.index(key) if key in _PREFERRED else len(_PREFERRED)


def expressions(
    values: dict[str, Any], key_targets: Mapping[str, Iterable[Target]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move every value taken from a target out of ``values`` into Terraform expressions.

    ``key_targets`` maps a top-level Terraform attribute to the targets its Pulumi input
    depended on. Returns the remaining values and the ``expressions`` object.
    """
    remaining = dict(values)
    found: dict[str, Any] = {}
    for attr, targets in key_targets.items():
        targets = list(targets)
        if not targets:
            continue
        if attr not in values:
            # Unknown at plan time (a computed value): point at the resources themselves.
            found[attr] = {"references": _refs([(t.address, None) for t in targets])}
            continue
        kept, expression = _walk(values[attr], targets)
        if expression is None:
            continue
        found[attr] = expression
        if kept is _GONE:
            del remaining[attr]
        else:
            remaining[attr] = kept
    return remaining, found


_GONE: Any = object()


def _walk(value: Any, targets: list[Target]) -> tuple[Any, Any]:
    """``(value without references, expression)``; ``expression`` is ``None`` if none found."""
    if isinstance(value, str) or _is_string_list(value):
        hits = [_match(v, targets) for v in ([value] if isinstance(value, str) else value)]
        refs = [hit for hit in hits if hit is not None]
        if not refs:
            return value, None
        # A list with one referenced element is unknown as a whole until the apply.
        return _GONE, {"references": _refs(refs)}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        blocks: list[Any] = []
        nested: list[dict[str, Any]] = []
        for block in value:
            kept_block: dict[str, Any] = {}
            block_expressions: dict[str, Any] = {}
            for key, item in block.items():
                kept, expression = _walk(item, targets)
                if expression is not None:
                    block_expressions[key] = expression
                if kept is not _GONE:
                    kept_block[key] = kept
            blocks.append(kept_block)
            nested.append(block_expressions)
        if not any(nested):
            return value, None
        return blocks, nested
    return value, None


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _match(value: str, targets: list[Target]) -> tuple[str, str | None] | None:
    # The resource whose own id (then arn) the value is wins over one that merely echoes it
    # (a route table association's ``subnet_id`` holds the subnet's id too).
    hits = [(t.address, t.attributes[value]) for t in targets if value in t.attributes]
    if not hits:
        return None
    best = min(hits, key=lambda hit: _rank(hit[1]))
    return best[0], best[1]


def _refs(hits: list[tuple[str, str | None]]) -> list[str]:
    # Terraform lists the attribute reference, then the resource it belongs to.
    refs: list[str] = []
    for address, attribute in hits:
        for ref in ([f"{address}.{attribute}"] if attribute else []) + [address]:
            if ref not in refs:
                refs.append(ref)
    return refs
