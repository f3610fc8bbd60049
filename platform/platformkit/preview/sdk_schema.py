"""What a provider's Python SDK says about a type: its output properties and their types.

Every generated Pulumi SDK (``pulumi_aws``, ``pulumi_awsx``, ``pulumi_random``, ...) declares a
resource's outputs as ``@pulumi.getter(name="executionArn")`` properties typed
``pulumi.Output[str]``, and an invoke's result (``GetAmiResult``) and nested output types the
same way with plain types. ``Optional[...]`` marks what the provider schema leaves optional; a
non-optional output is one a real provider always sets after a create. ``resource_class`` and
``invoke_result_class`` find these classes from a type token; ``properties`` lists them.
Nothing here knows about AWS.

The mock runtime calls the fake cloud, and so these lookups, from several threads at once (the
SDK's executor; a fake engine's gRPC workers). The SDKs' packages load lazily, and a lazy
package being loaded by one thread looks to every other thread like a loaded one missing most
of its classes (``pulumi._utils._LazyModule`` has no lock). So lookups take one lock while
they load and read a package, and only what was found is remembered: a miss is not cached, so a
lookup that lost a race with code loading a package outside this module is asked again.
"""

from __future__ import annotations

import functools
import importlib
import keyword
import sys
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pulumi
from pulumi._types import _py_properties


@dataclass(frozen=True)
class Property:
    """One output property of a resource, invoke result or output type."""

    python_name: str
    """``execution_arn``."""
    wire_name: str
    """``executionArn``: the key on the wire and in the engine's state."""
    type: Any
    """The value's type with ``Output[...]`` and ``Optional[...]`` removed (``Any`` if unknown)."""
    optional: bool
    """``True`` when the schema lets the provider leave it unset."""


_LOCK = threading.RLock()
"""Held while a lookup loads and reads an SDK package (see the module docstring)."""


def _module(token: str) -> ModuleType | None:
    """The SDK module of ``pkg:module/file:Name`` (``pulumi_aws.iam``), or ``None``."""
    parts = token.split(":")
    if len(parts) != 3:
        return None
    package = "pulumi_" + parts[0].replace("-", "_")
    segments = [s for s in parts[1].split("/") if s and s != "index"]
    segments = [s + "_" if keyword.iskeyword(s) else s for s in segments]
    # ``aws:iam/role:Role`` lives in ``pulumi_aws.iam`` (the second segment names the file);
    # ``kubernetes:apps/v1:Deployment`` in ``pulumi_kubernetes.apps.v1``.
    candidates = [".".join([package, *segments]), ".".join([package, *segments[:1]]), package]
    for name in dict.fromkeys(candidates):
        module = sys.modules.get(name)
        if module is None:
            try:
                _load_parents(name)
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an absent or broken SDK just means "unknown type"
                continue
        return module
    return None


def _load_parents(name: str) -> None:
    """Load each parent package of module ``name`` fully before ``name`` is imported.

    The SDKs' packages are lazy modules (``pulumi._utils.lazy_import``): importing a file
    module (``pulumi_aws.iam.role``) into a parent not loaded yet leaves that parent without
    its exports, so later ``pulumi_aws.iam.Role`` fails for every program in the process.
    """
    parts = name.split(".")
    for end in range(1, len(parts)):
        parent = importlib.import_module(".".join(parts[:end]))
        getattr(parent, "__all__", None)  # any non-introspection attribute loads the module


def resource_class(token: str) -> type | None:
    """The SDK class of resource type ``token`` (``aws:iam/role:Role``), if installed."""
    return _found(_resource_classes, token, _resource_class)


def invoke_result_class(token: str) -> type | None:
    """The result class of invoke ``token`` (``aws:ec2/getAmi:getAmi`` → ``GetAmiResult``)."""
    return _found(_invoke_result_classes, token, _invoke_result_class)


_resource_classes: dict[str, type] = {}
_invoke_result_classes: dict[str, type] = {}


def _found(
    cache: dict[str, type], token: str, look_up: Callable[[str], type | None]
) -> type | None:
    """``look_up(token)``, remembered in ``cache`` once it finds a class (a miss is not)."""
    cls = cache.get(token)
    if cls is None:
        with _LOCK:
            cls = cache.get(token) or look_up(token)
            if cls is not None:
                cache[token] = cls
    return cls


def _resource_class(token: str) -> type | None:
    module = _module(token)
    found = getattr(module, token.rsplit(":", 1)[-1], None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, pulumi.Resource) else None


def _invoke_result_class(token: str) -> type | None:
    module = _module(token)
    function = token.rsplit(":", 1)[-1]
    if module is None or not function:
        return None
    found = getattr(module, function[0].upper() + function[1:] + "Result", None)
    return found if isinstance(found, type) else None


def resource_for_invoke(token: str) -> str:
    """The resource type an invoke reads: ``aws:ec2/getVpc:getVpc`` → ``aws:ec2/vpc:Vpc``."""
    parts = token.split(":")
    if len(parts) != 3 or not parts[2].startswith("get") or len(parts[2]) < 4:
        return token
    name = parts[2][3:]
    singular = name[:-1] if name.endswith("s") and not name.endswith("ss") else name
    module = parts[1].split("/")[0]
    return f"{parts[0]}:{module}/{singular[0].lower()}{singular[1:]}:{singular}"


@functools.cache
def properties(cls: type) -> tuple[Property, ...]:
    """Every ``@pulumi.getter`` property of ``cls`` (a resource or output type), in order.

    Resource classes also list ``id`` and ``urn``; those are left out.
    """
    found = []
    # Under the lookups' lock: resolving a hint may import a lazy package (an output type's),
    # and a hint read from a half-loaded one would be cached as unknown for good.
    with _LOCK:
        for python_name, wire_name, prop in _py_properties(cls):
            if wire_name in ("id", "urn") and issubclass(cls, pulumi.Resource):
                continue
            try:
                hint = typing.get_type_hints(prop.fget).get("return", Any)
            except Exception:  # noqa: BLE001 - an unresolvable forward reference: type unknown
                hint = Any
            inner, optional = unwrap(hint)
            found.append(Property(python_name, wire_name, inner, optional))
    return tuple(found)


def unwrap(hint: Any) -> tuple[Any, bool]:
    """``Output[Optional[T]]`` → ``(T, True)``; ``Output[T]`` → ``(T, False)``."""
    if typing.get_origin(hint) is pulumi.Output:
        hint = typing.get_args(hint)[0] if typing.get_args(hint) else Any
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        hint = members[0] if len(members) == 1 else Any
    return hint, optional


def is_output_type(value: Any) -> bool:
    """Whether ``value`` is a class decorated with ``@pulumi.output_type``."""
    return isinstance(value, type) and bool(pulumi._types.is_output_type(value))


def is_resource_type(value: Any) -> bool:
    """Whether ``value`` is a ``pulumi.Resource`` subclass (awsx outputs are typed so)."""
    return isinstance(value, type) and issubclass(value, pulumi.Resource)
