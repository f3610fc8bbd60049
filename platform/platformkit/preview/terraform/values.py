"""A resource's Pulumi inputs → Terraform attribute values, shaped as ``terraform show -json``.

The provider SDK's declared types (``platformkit.preview.sdk_schema``) say what each property
is: an object Pulumi flattened from a block that appears once (``networkConfiguration``)
becomes a one-element list, as Terraform writes every nested block; a list of objects is a
repeatable block and takes its singular name (``loadBalancers`` → ``load_balancer``); a map
(``tags``) stays a map with its keys untouched. Where the SDK is missing or a type is unknown,
keys are snake_cased and dictionaries are kept as maps: a guess that never invents a block.

Values are copied as recorded, except the markers: a computed value (``<computed>``) and a
secret are left out of the values, as Terraform leaves out what it will only know after the
apply and ``platformkit`` never writes a secret.
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from platformkit.preview import sdk_schema
from platformkit.preview.recording import Computed
from platformkit.preview.result import Secret
from platformkit.preview.terraform import names

OMIT: Any = object()
"""Returned for a value Terraform would not know at plan time (computed or secret)."""


@dataclass(frozen=True)
class Field:
    """One attribute of a Terraform object, translated from a Pulumi property."""

    name: str
    """The Terraform attribute name."""
    type: Any
    """The Pulumi SDK type of its value (``Any`` when unknown)."""


def attributes(
    token: str, inputs: dict[str, Any], secret_keys: Iterable[str] = ()
) -> tuple[dict[str, Any], dict[str, Field]]:
    """The Terraform ``values`` of a resource of type ``token`` with these Pulumi ``inputs``.

    Inputs named in ``secret_keys`` are left out of the values (never written). Also returns,
    per Pulumi input key (secret ones included), the ``Field`` it became.
    """
    cls = sdk_schema.resource_class(token)
    hints = _hints(cls) if cls is not None else {}
    secret = set(secret_keys)
    public = {k: v for k, v in inputs.items() if k not in secret}
    converted, fields = _object(token, public, hints)
    for key in secret & set(inputs):
        fields[key] = field_for(token, key, hints.get(key, Any))
    return converted, fields


def field_for(owner_token: str, pulumi_name: str, hint: Any) -> Field:
    """The Terraform attribute a property of declared type ``hint`` becomes."""
    element = sequence_element(hint)
    repeatable = element is not None and sdk_schema.is_output_type(element)
    return Field(names.attribute_name(owner_token, pulumi_name, repeatable_block=repeatable), hint)


def convert(value: Any, hint: Any) -> Any:
    """``value`` shaped for Terraform by its declared type ``hint`` (``OMIT`` if unknowable)."""
    if isinstance(value, Computed | Secret):
        return OMIT
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        if sdk_schema.is_output_type(hint):
            # A block that may appear once: Terraform still writes it as a list.
            return [_block(value, hint)]
        # A map (or a type the SDK does not declare): keys are data, never renamed.
        return {
            str(k): v for k, v in ((k, convert(v, Any)) for k, v in value.items()) if v is not OMIT
        }
    if isinstance(value, list | tuple):
        element = sequence_element(hint)
        if element is not None and sdk_schema.is_output_type(element):
            # A repeatable block: the list holds the blocks themselves.
            blocks = [_block(v, element) if isinstance(v, dict) else convert(v, Any) for v in value]
            return OMIT if any(b is OMIT for b in blocks) else blocks
        items = [convert(v, element if element is not None else Any) for v in value]
        # One unknown element makes the whole list unknown at plan time, as in Terraform.
        return OMIT if any(item is OMIT for item in items) else items
    return str(value)


def _block(value: dict[str, Any], cls: type) -> dict[str, Any]:
    converted, _ = _object(type_token(cls), value, _hints(cls))
    return converted


def _object(
    token: str, value: dict[str, Any], hints: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Field]]:
    converted: dict[str, Any] = {}
    fields: dict[str, Field] = {}
    for key, item in value.items():
        field = field_for(token, key, hints.get(key, Any))
        fields[key] = field
        shaped = convert(item, field.type)
        if shaped is not OMIT:
            converted[field.name] = shaped
    return converted, fields


def _hints(cls: type) -> dict[str, Any]:
    return {p.wire_name: p.type for p in sdk_schema.properties(cls)}


def sequence_element(hint: Any) -> Any | None:
    """The element type of a declared list type (``Sequence[X]`` → ``X``), else ``None``."""
    origin = typing.get_origin(hint)
    if origin in (list, collections.abc.Sequence, tuple):
        args = typing.get_args(hint)
        return args[0] if args else Any
    return None


def type_token(cls: type) -> str:
    """The token of a nested SDK type, as the provider's metadata writes it."""
    # ``pulumi_aws.wafv2.outputs.WebAclRule`` → ``aws:wafv2/WebAclRule:WebAclRule``, the token
    # the provider's metadata uses for nested types.
    parts = cls.__module__.split(".")
    module = parts[1] if len(parts) > 2 else "index"
    return f"aws:{module}/{cls.__name__}:{cls.__name__}"
