"""Regenerate ``aws_names.json`` from pulumi-aws's ``bridge-metadata.json``.

Usage (``bridge-metadata.json`` is ``provider/cmd/pulumi-resource-aws/bridge-metadata.json`` in a
checkout of https://github.com/pulumi/pulumi-aws, at the release ``platform/pyproject.toml`` pins)::

    python -m platformkit.preview.terraform.vendor PATH/TO/bridge-metadata.json [--commit SHA]

Only exceptions are kept, so the vendored file stays small and a reviewer sees what is odd:

- ``resources``: Pulumi token → Terraform type, where the rule of ``names`` (module prefix from
  ``modulePrefixes``, then the snake_cased name) gives another answer. ``modulePrefixes`` is
  curated by hand (a module whose Terraform types do not start with its name, such as
  ``rds`` → ``aws_db_*``) and carried over from the current file.
- ``fields``: per resource or nested type token, Pulumi property → Terraform attribute, where
  the metadata's ``renames.renamedProperties`` (or the snake_cased name, when it lists none) is
  not what ``names.attribute_name`` derives with the installed SDK's types. Types the installed
  ``pulumi_aws`` does not have are skipped: their names cannot be checked against the rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from platformkit.preview import sdk_schema
from platformkit.preview.terraform import names, values

TARGET = Path(__file__).with_name(names.NAMES_RESOURCE)
"""The file this writes (inside the installed package's source tree)."""


def build(metadata: dict[str, Any], current: dict[str, Any], commit: str) -> dict[str, Any]:
    """The new ``aws_names.json`` content from the provider's ``metadata``.

    ``current`` is the file in use (its ``modulePrefixes`` and ``source`` are carried over).
    """
    renames = metadata.get("renames", {})
    resources: dict[str, str] = renames.get("resources", {})
    renamed: dict[str, dict[str, str]] = renames.get("renamedProperties", {})
    prefixes: dict[str, str] = current.get("modulePrefixes", {})
    table = {"modulePrefixes": prefixes, "resources": {}, "fields": {}}
    names.use_table(table)
    try:
        type_exceptions = {
            token: tf
            for token, tf in sorted(resources.items())
            if names.is_aws(token) and names.default_resource_type(token) != tf
        }
        field_exceptions: dict[str, dict[str, str]] = {}
        for owner, prop, hint in _properties(sorted(resources)):
            # A property the metadata does not list differs from Terraform's only in case.
            expected = renamed.get(owner, {}).get(prop) or names.snake_case(prop)
            derived = values.field_for(owner, prop, hint).name
            if derived != expected:
                field_exceptions.setdefault(owner, {})[prop] = expected
    finally:
        names.use_table(None)
    source = dict(current.get("source", {}))
    source["commit"] = commit
    return {
        "source": source,
        "modulePrefixes": dict(sorted(prefixes.items())),
        "resources": type_exceptions,
        "fields": {k: dict(sorted(v.items())) for k, v in sorted(field_exceptions.items())},
    }


def _properties(tokens: Sequence[str]) -> Iterator[tuple[str, str, Any]]:
    """``(owner token, Pulumi property, declared type)`` for each resource and nested type."""
    seen: set[type] = set()
    for token in tokens:
        cls = sdk_schema.resource_class(token)
        if cls is not None:
            yield from _walk(token, cls, seen)


def _walk(owner: str, cls: type, seen: set[type]) -> Iterator[tuple[str, str, Any]]:
    for prop in sdk_schema.properties(cls):
        yield owner, prop.wire_name, prop.type
        nested = values.sequence_element(prop.type) or prop.type
        if sdk_schema.is_output_type(nested) and nested not in seen:
            seen.add(nested)
            yield from _walk(values.type_token(nested), nested, seen)


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``aws_names.json`` from the metadata file named on the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m platformkit.preview.terraform.vendor", description=__doc__.split("\n")[0]
    )
    parser.add_argument("metadata", type=Path, help="pulumi-aws's bridge-metadata.json")
    parser.add_argument("--commit", default="unknown", help="the pulumi-aws commit it came from")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"default: {TARGET}")
    args = parser.parse_args(argv)
    try:
        metadata = json.loads(args.metadata.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read {args.metadata}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(metadata, dict) or "renames" not in metadata:
        print(
            f"error: {args.metadata} has no 'renames': not a bridge-metadata.json", file=sys.stderr
        )
        return 2
    current = json.loads(TARGET.read_text("utf-8"))
    table = build(metadata, current, args.commit)
    args.output.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(
        f"wrote {args.output}: {len(table['resources'])} type and "
        f"{sum(map(len, table['fields'].values()))} field exceptions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
