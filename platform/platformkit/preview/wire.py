"""Pulumi's property wire format: decode what the SDK sends, flatten it as the engine does.

Properties travel as ``google.protobuf.Struct`` values in which special objects carry a
signature key: secrets, resource references, assets and archives; an unknown value is the
string ``UNKNOWN``. The SDK sends resource references because the mock monitor advertises the
``resourceReferences`` feature, but neither a provider (``FakeCloud``) nor a policy pack ever
sees one from the real CLI: the engine marshals properties for them with ``KeepResources``
off, which replaces a reference by the resource's id when it has one (a custom resource; an
unknown id stays unknown) and by its URN otherwise (pulumi/pulumi,
``pkg/resource/plugin/rpc.go``, ``MarshalPropertyValue``). ``flatten`` does exactly that.

Decoding never rebuilds ``Resource`` objects from references (which is what the SDK's own
``deserialize_properties`` does): rebuilding one waits for the referenced resource's id and,
on a thread of the mock monitor, never finishes during a preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

SIG_KEY = "4dabf18193072939515e22adb298388d"
"""The key whose value says what a special object is (pulumi ``sig`` package)."""
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = rpc.UNKNOWN
"""The wire form of a value only known after the update."""


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A ``Struct`` as a dict, signatures and all (numbers are floats, as on the wire)."""
    return dict(json_format.MessageToDict(struct))


def flatten(value: Any) -> Any:
    """``value`` (wire form) with every resource reference replaced as the CLI replaces it.

    A reference becomes its ``id`` when it carries one (``""`` means unknown and becomes
    ``UNKNOWN``), else its ``urn``. Secrets, unknowns, assets and archives are kept.
    """
    if isinstance(value, list):
        return [flatten(v) for v in value]
    if isinstance(value, dict):
        signature = value.get(SIG_KEY)
        if signature == RESOURCE_SIG:
            if "id" in value:
                resource_id = value["id"]
                return resource_id if resource_id not in ("", None) else UNKNOWN
            return value.get("urn", UNKNOWN)
        if signature == OUTPUT_VALUE_SIG:
            # Output values are marshalled as their element (secret when secret), as the
            # engine does for plugins that do not accept them.
            inner = flatten(value["value"]) if "value" in value else UNKNOWN
            return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
        return {k: flatten(v) for k, v in value.items()}
    return value


def unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` without secret wrappers, and whether any part of it was secret."""
    if isinstance(value, list):
        items = [unwrap_secrets(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            inner, _ = unwrap_secrets(value.get("value"))
            return inner, True
        entries = {k: unwrap_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in entries.items()}, any(s for _, s in entries.values())
    return value, False


def provider_inputs(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """Inputs as a provider receives them: references flattened, secrets unwrapped.

    Returns the inputs and the top-level keys that were (or contained) secrets. Unknowns stay
    ``UNKNOWN`` strings; assets and archives keep their wire form; whole numbers become ints.
    """
    plain: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in struct_to_dict(struct).items():
        unwrapped, secret = unwrap_secrets(flatten(value))
        plain[key] = _ints(unwrapped)
        if secret:
            secrets.add(key)
    return plain, secrets


def _ints(value: Any) -> Any:
    # JSON on the wire has no integers; a provider (and a program) sees whole numbers as ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    return value


def to_struct(values: Mapping[str, Any], secrets: set[str] | frozenset[str] = frozenset()) -> Any:
    """Encode plain ``values`` as a ``Struct``; top-level keys in ``secrets`` marked secret."""
    struct = struct_pb2.Struct()
    for key, value in values.items():
        encoded = _encodable(value)
        struct[key] = {SIG_KEY: SECRET_SIG, "value": encoded} if key in secrets else encoded
    return struct


def _encodable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Anything else (a marker object) is sent as its text, never as a Python repr crash.
    return str(value)
