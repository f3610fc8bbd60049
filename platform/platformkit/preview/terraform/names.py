"""Pulumi AWS names → Terraform names: resource types and attribute names.

pulumi-aws is generated from the Terraform AWS provider, and its names follow a rule:
``aws:<module>/<camelName>:<Name>`` is ``aws_<module>_<snake_name>``, and a property is its
Terraform attribute in camelCase, pluralized where Terraform has a repeatable block (``rule`` →
``rules``) and flattened where Terraform has a block that may appear once. The provider
publishes every exception in ``bridge-metadata.json``; ``aws_names.json`` vendors only the
exceptions to the rule (see ``scripts/vendor_terraform_names.py``), so a type the file does not
list still gets its right name when it follows the rule, which most do.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

NAMES_RESOURCE = "aws_names.json"
"""The vendored exceptions, inside this package."""

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


_override: dict[str, Any] | None = None


@functools.cache
def _vendored() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(NAMES_RESOURCE).read_text("utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


def _table() -> dict[str, Any]:
    return _override if _override is not None else _vendored()


def use_table(table: dict[str, Any] | None) -> None:
    """Use ``table`` instead of the vendored file (``None``: back to it); for ``vendor``."""
    global _override
    _override = table


def snake_case(name: str) -> str:
    """``performanceInsightsKmsKeyId`` → ``performance_insights_kms_key_id``.

    Acronyms stay one word (``userPoolUICustomization`` → ``user_pool_ui_customization``) and
    digits stick to the word before them (``ipv6CidrBlock`` → ``ipv6_cidr_block``).
    """
    return _WORD_BOUNDARY.sub("_", name).lower()


def singular(name: str) -> str:
    """The singular Terraform block name of a pluralized Pulumi one (``rules`` → ``rule``).

    Names that are not plurals (``ingress``, ``egress``, ``access``) are returned unchanged.
    """
    if name.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if name.endswith(("sses", "shes", "ches", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith(("ss", "us", "is")):
        return name[:-1]
    return name


def is_aws(token: str) -> bool:
    """Whether ``token`` is a resource type of the ``aws`` provider (``aws:ec2/vpc:Vpc``)."""
    return token.startswith("aws:") and token.count(":") == 2


def default_resource_type(token: str) -> str:
    """The rule's Terraform type for ``token`` (``aws:ecs/service:Service`` → ``aws_ecs_service``).

    The rule alone; ``resource_type`` applies the provider's exceptions first.
    """
    _, path, _ = token.split(":")
    module, _, camel = path.partition("/")
    prefix = _table()["modulePrefixes"].get(module, module)
    words = [w for w in ("aws", prefix, snake_case(camel or module)) if w]
    return "_".join(words)


def resource_type(token: str) -> str:
    """The Terraform resource type of Pulumi type ``token`` (``aws:rds/instance:Instance`` →
    ``aws_db_instance``)."""
    exceptions: dict[str, str] = _table()["resources"]
    return exceptions.get(token) or default_resource_type(token)


def attribute_name(token: str, pulumi_name: str, *, repeatable_block: bool) -> str:
    """The Terraform attribute for property ``pulumi_name`` of ``token``.

    ``repeatable_block`` says the property is a list of objects: Terraform names such a block
    in the singular (``rules`` → ``rule``, ``defaultActions`` → ``default_action``).
    """
    fields: dict[str, dict[str, str]] = _table()["fields"]
    known = fields.get(token, {}).get(pulumi_name)
    if known is not None:
        return known
    name = snake_case(pulumi_name)
    return singular(name) if repeatable_block else name
