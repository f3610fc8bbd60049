"""The preview graph as a Terraform plan document (the shape of ``terraform show -json``).

``platformkit preview --format terraform-plan`` writes it; ``checkov -f FILE --framework
terraform_plan`` reads it. Every ``aws`` resource becomes one managed resource in the root
module: its Terraform type and attribute names from ``names``, its values from ``values`` and
its references to other resources from ``references``. Addresses are ``<type>.<name>`` with the
Pulumi name; two resources with the same type and name (under different components) get the
parent's kind and name in front (``aws_security_group.database-analytics-analytics-sg``), so
every address is unique and stable. Resources with no Terraform equivalent (other providers,
multi-language components such as ``awsx``) are listed under the extra top-level key
``platformkit.skipped``, which Terraform tools ignore; plain components are only grouping.
"""

from __future__ import annotations

import json
import re
from typing import Any

from platformkit.preview.recording import ResourceRecord
from platformkit.preview.report_json import relative_uri
from platformkit.preview.result import PreviewResult
from platformkit.preview.terraform import names, values
from platformkit.preview.terraform.references import Target, expressions

FORMAT_VERSION = "1.2"
"""The plan JSON format version written (Terraform 1.5+ writes 1.2)."""
TERRAFORM_VERSION = "1.9.8"
"""The Terraform release whose plan format this imitates; scanners (Checkov) recognise a plan
by this key."""
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
"""The Terraform provider every exported resource belongs to."""

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")


def render_terraform_plan(result: PreviewResult) -> str:
    """The plan as indented JSON with sorted keys and a final newline."""
    return json.dumps(to_plan(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_plan(result: PreviewResult) -> dict[str, Any]:
    """The plan document of ``result`` as a JSON-ready ``dict`` (see the module docstring)."""
    records = [r for _, r in result.tree()]
    exported = [r for r in records if r.custom and names.is_aws(r.type)]
    addresses = _addresses(exported, {r.urn: r for r in records})
    targets = {
        r.urn: Target.of(addresses[r.urn], r.id, r.outputs) for r in exported if r.urn in addresses
    }
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configured: list[dict[str, Any]] = []
    for record in exported:
        address = addresses[record.urn]
        tf_type, _, tf_name = address.partition(".")
        attrs, fields = values.attributes(record.type, record.inputs, record.secret_inputs)
        key_targets = {
            fields[key].name: [targets[u] for u in urns if u in targets and u != record.urn]
            for key, urns in _dependencies(record).items()
            if key in fields
        }
        attrs, exprs = expressions(attrs, key_targets)
        common = {"address": address, "mode": "managed", "type": tf_type, "name": tf_name}
        sensitive = {fields[k].name: True for k in record.secret_inputs if k in fields}
        planned.append(
            common
            | {
                "provider_name": PROVIDER_NAME,
                "schema_version": 0,
                "values": attrs,
                "sensitive_values": sensitive,
            }
        )
        changes.append(
            common
            | {
                "provider_name": PROVIDER_NAME,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": attrs,
                    "after_unknown": {name: True for name in exprs if name not in attrs},
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        configured.append(
            common | {"provider_config_key": "aws", "expressions": exprs, "schema_version": 0}
        )
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": _provider_config(result)},
            "root_module": {"resources": configured},
        },
        "platformkit": {
            "project": result.project.name,
            "stack": result.stack,
            "mode": result.mode,
            "addresses": {addresses[r.urn]: r.urn for r in exported},
            # Where each resource is declared, so findings can point at the Pulumi code.
            "sources": {
                addresses[r.urn]: _source(result, r) for r in exported if r.source is not None
            },
            "skipped": [
                {"urn": r.urn, "type": r.type}
                for r in records
                if r.urn not in addresses and (r.custom or r.remote)
            ],
        },
    }


def _source(result: PreviewResult, record: ResourceRecord) -> dict[str, Any]:
    assert record.source is not None
    return {"uri": relative_uri(result, record.source.uri), "line": record.source.line}


def _dependencies(record: ResourceRecord) -> dict[str, list[str]]:
    return {k: sorted(set(v)) for k, v in record.property_dependencies.items() if v}


def _addresses(exported: list[ResourceRecord], by_urn: dict[str, ResourceRecord]) -> dict[str, str]:
    """URN → unique Terraform address, in tree order."""
    plain: dict[str, str] = {r.urn: _name(r.name) for r in exported}
    counts: dict[tuple[str, str], int] = {}
    for record in exported:
        key = (names.resource_type(record.type), plain[record.urn])
        counts[key] = counts.get(key, 0) + 1
    found: dict[str, str] = {}
    taken: set[str] = set()
    for record in exported:
        tf_type = names.resource_type(record.type)
        name = plain[record.urn]
        if counts[(tf_type, name)] > 1:
            parent = by_urn.get(record.parent or "")
            if parent is not None:
                # The parent's kind too: components of two kinds often share the same name.
                kind = parent.type.rsplit(":", 1)[-1].lower()
                name = f"{_name(kind)}-{_name(parent.name)}-{name}"
        address, n = f"{tf_type}.{name}", 2
        while address in taken:
            address, n = f"{tf_type}.{name}-{n}", n + 1
        taken.add(address)
        found[record.urn] = address
    return found


def _name(name: str) -> str:
    # A Terraform name is letters, digits, '_' and '-', not starting with a digit.
    cleaned = _NOT_IN_NAME.sub("_", name) or "_"
    return f"_{cleaned}" if cleaned[0].isdigit() or cleaned[0] == "-" else cleaned


def _provider_config(result: PreviewResult) -> dict[str, Any]:
    provider: dict[str, Any] = {"name": "aws", "full_name": PROVIDER_NAME}
    region = result.config.region
    if region is not None:
        provider["expressions"] = {"region": {"constant_value": region}}
    return provider
