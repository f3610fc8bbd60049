"""The provider process: the Pulumi SDK's component provider, hosting the platformkit facades.

``serve()`` is what ``component_provider_host`` does (build a ``ComponentProvider`` for the
components, hand it to ``pulumi.provider.main``, which prints the gRPC port and serves), with
the provider subclassed to fix three gaps in how the SDK maps a ``Construct`` request's
inputs and outputs (pulumi 3.272):

- an object-typed input that arrives as *one output* (a consumer passing another component's
  ``ref`` output whole, the natural thing in TypeScript or YAML) was read as an empty object
  and failed with "Missing required input"; it is now mapped once the output resolves;
- integers arrive as floats on the wire and stayed floats (the SDK's ``int()`` conversion is
  overwritten on the next line), so ``azCount: 2`` failed validation as ``2.0``; they are
  converted back;
- the fields of objects inside a list or map output (a ``ClusterRef``'s capacity provider
  strategy) kept their Python names, which the schema and the next ``Construct`` do not know.

A rejected argument (the library's ``InvalidArgument``) is reported as an input error on the
property, with the library's one-line message, instead of a Python traceback. It also dedents
the descriptions: the analyzer copies docstrings with their source
indentation, which the generated SDKs would carry into every doc comment.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.errors import InputPropertyError
from pulumi.output import Inputs
from pulumi.provider import ConstructResult, main
from pulumi.provider.experimental.analyzer import (
    ComponentDefinition,
    PropertyDefinition,
    PropertyType,
)
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.server import ComponentInitError

from platformkit.provider import PACKAGE_NAME
from platformkit.provider.components import COMPONENTS
from platformkit.validation import InvalidArgument

DISTRIBUTION = "platformkit"
"""The Python distribution whose version the package carries."""


class PlatformkitProvider(ComponentProvider):
    """``ComponentProvider`` for the platformkit components, with the fixes above."""

    def __init__(self, version: str) -> None:
        super().__init__(COMPONENTS, PACKAGE_NAME, version=version)
        self.schema = json.dumps(_dedent_descriptions(json.loads(self.schema or "{}")))

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, InvalidArgument):
                # A rejected argument is the consumer's to fix: the engine shows the property
                # and the library's one-line message, not this process's traceback.
                path = _schema_path(error.inner.field)
                raise InputPropertyError(path, str(error.inner)) from None
            raise

    def map_input_properties(
        self,
        inputs: Any,
        properties: dict[str, PropertyDefinition],
        mapping: dict[str, str],
        component_name: str,
        property_path: str,
    ) -> dict[str, Any]:
        values = inputs if isinstance(inputs, dict) else {}
        whole = {
            name
            for name, prop in properties.items()
            if isinstance(values.get(name), pulumi.Output) and _holds_objects(prop)
        }
        mapped = dict(
            super().map_input_properties(
                inputs,
                {name: prop for name, prop in properties.items() if name not in whole},
                mapping,
                component_name,
                property_path,
            )
        )
        for name in whole:
            map_one = functools.partial(
                self._map_one,
                name=name,
                prop=properties[name],
                python_name=mapping[name],
                component_name=component_name,
                property_path=property_path,
            )
            mapped[mapping[name]] = values[name].apply(map_one)
        for name, prop in properties.items():
            if name not in whole and mapping[name] in mapped:
                mapped[mapping[name]] = _integers(mapped[mapping[name]], prop)
        return mapped

    def get_state(
        self, instance: pulumi.ComponentResource, component_def: ComponentDefinition
    ) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for name, prop in component_def.outputs.items():
            value = getattr(instance, component_def.outputs_mapping[name], None)
            if value is not None:
                state[name] = self._output(value, prop)
        return state

    def _output(self, value: Any, prop: PropertyDefinition) -> Any:
        """``value`` with the Python names of its objects' fields turned into schema names."""
        if isinstance(value, pulumi.Output):
            return value.apply(functools.partial(self._output, prop=prop))
        type_def = self.get_type_definition(prop) if prop.ref else None
        if type_def is not None and not type_def.enum and isinstance(value, dict):
            return {
                name: self._output(value[python_name], field)
                for name, field in type_def.properties.items()
                if value.get(python_name := type_def.properties_mapping[name]) is not None
            }
        if prop.items is not None and isinstance(value, list):
            return [self._output(item, prop.items) for item in value]
        if prop.additional_properties is not None and isinstance(value, dict):
            entries = prop.additional_properties
            return {key: self._output(item, entries) for key, item in value.items()}
        return value

    def _map_one(
        self,
        resolved: Any,
        *,
        name: str,
        prop: PropertyDefinition,
        python_name: str,
        component_name: str,
        property_path: str,
    ) -> Any:
        """Map the resolved value of one property that arrived as an output."""
        mapped = self.map_input_properties(
            {name: resolved}, {name: prop}, {name: python_name}, component_name, property_path
        )
        return mapped.get(python_name)


def _schema_path(field: str) -> str:
    """A library field path (``network.public_subnet_ids[0]``) in schema names."""
    return re.sub(r"[A-Za-z0-9_]+", lambda part: camel_case(part.group()), field)


def _holds_objects(prop: PropertyDefinition) -> bool:
    """Whether ``prop`` is an object type, or a list or map of one (its names need mapping)."""
    return bool(
        prop.ref
        or (prop.items is not None and prop.items.ref)
        or (prop.additional_properties is not None and prop.additional_properties.ref)
    )


def _integers(value: Any, prop: PropertyDefinition) -> Any:
    """``value`` with the wire's whole floats turned back into the integers ``prop`` declares."""
    if isinstance(value, pulumi.Output):
        return value.apply(functools.partial(_integers, prop=prop))
    if prop.type is PropertyType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.items is not None and isinstance(value, list):
        return [_integers(item, prop.items) for item in value]
    if prop.additional_properties is not None and isinstance(value, dict):
        return {key: _integers(item, prop.additional_properties) for key, item in value.items()}
    return value


def _dedent_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: inspect.cleandoc(value)
            if key == "description" and isinstance(value, str)
            else _dedent_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_dedent_descriptions(item) for item in node]
    return node


def package_version() -> str:
    """The installed platformkit version: the schema's, and the generated SDKs', version."""
    return importlib.metadata.version(DISTRIBUTION)


def provider() -> PlatformkitProvider:
    """The provider, its schema inferred from the components' types."""
    return PlatformkitProvider(package_version())


def serve(argv: Sequence[str] | None = None) -> None:
    """Serve the provider over gRPC: print the port, then answer until the engine stops it.

    ``argv`` (default ``sys.argv[1:]``) starts with the engine's address, as the Pulumi CLI's
    language host passes it.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv[1:] = args  # pulumi.provider.main parses sys.argv itself.
    main(provider(), args)
