"""The component package's schema: checked in and current, documented, and in step with the
Python library it exposes."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

import platformkit.cluster
import platformkit.database
import platformkit.network
import platformkit.network_ref
import platformkit.provider.args
import platformkit.provider.components
import platformkit.provider.schema_types
import platformkit.scheduled_task
import platformkit.web_service
from platformkit.provider.args import ADAPTED, OMITTED
from platformkit.provider.components import OMITTED_OUTPUTS
from platformkit.provider.schema import main, render
from platformkit.reference import class_fields
from tests.provider.conftest import PLUGIN

SCHEMA_FILE = PLUGIN / "schema.json"


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render())
    return loaded


def test_checked_in_schema_is_current() -> None:
    assert main([str(SCHEMA_FILE), "--check"]) == 0, "run: python -m platformkit.provider.schema"


def test_check_fails_on_a_stale_schema(tmp_path: Any) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text(render().replace("availability zones", "AZs"))
    assert main([str(stale), "--check"]) == 1


def test_required_inputs_are_what_a_consumer_must_give() -> None:
    required = {
        token.rsplit(":", 1)[-1]: sorted(resource.get("requiredInputs", []))
        for token, resource in schema()["resources"].items()
    }
    assert required == {
        "Network": [],
        "Cluster": ["network"],
        "Database": ["network"],
        "WebService": ["cluster", "image"],
        "ScheduledTask": [
            "clusterArn",
            "command",
            "containerName",
            "executionRoleArn",
            "securityGroupIds",
            "subnetIds",
            "taskDefinitionArn",
            "taskRoleArn",
        ],
    }


def _properties(node: dict[str, Any], *keys: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in keys:
        found.update(node.get(key, {}))
    return found


def test_every_component_input_output_and_type_field_is_documented() -> None:
    document = schema()
    undocumented = []
    for token, resource in document["resources"].items():
        if not resource.get("description"):
            undocumented.append(token)
        for name, prop in _properties(resource, "inputProperties", "properties").items():
            if not prop.get("description"):
                undocumented.append(f"{token}.{name}")
    for token, type_ in document["types"].items():
        for name, prop in type_["properties"].items():
            if not prop.get("description"):
                undocumented.append(f"{token}.{name}")
    assert undocumented == []


def test_descriptions_carry_no_source_indentation() -> None:
    description = schema()["resources"]["platformkit:index:Network"]["inputProperties"]["azCount"]
    assert description["description"] == (
        "Number of availability zones to span, 2 to 6. Defaults to `3` (or the length of\n"
        "``availability_zones`` when that is given)."
    )


def test_component_outputs_include_the_refs_other_components_take() -> None:
    resources = schema()["resources"]
    for component, ref in (("Network", "NetworkRef"), ("Cluster", "ClusterRef")):
        output = resources[f"platformkit:index:{component}"]["properties"]["ref"]
        assert output["$ref"] == f"#/types/platformkit:index:{ref}"
    cluster_input = resources["platformkit:index:Cluster"]["inputProperties"]["network"]
    assert cluster_input["$ref"] == "#/types/platformkit:index:NetworkRef"
    # Not plain: a consumer passes another component's output.
    assert "plain" not in cluster_input


# --- in step with the library ---------------------------------------------------------------


def docs(module: ModuleType, class_name: str) -> dict[str, str | None]:
    return {field.name: field.doc for field in class_fields(module, class_name)}


ARGS = [
    (platformkit.network, "NetworkArgs"),
    (platformkit.cluster, "ClusterArgs"),
    (platformkit.database, "DatabaseArgs"),
    (platformkit.web_service, "WebServiceArgs"),
    (platformkit.scheduled_task, "ScheduledTaskArgs"),
]


@pytest.mark.parametrize(("library", "name"), ARGS)
def test_args_offer_every_library_field_with_its_docstring(library: ModuleType, name: str) -> None:
    ours = docs(platformkit.provider.args, name)
    theirs = docs(library, name)
    adapted, omitted = ADAPTED.get(name, frozenset()), set(OMITTED.get(name, {}))
    assert set(theirs) - set(ours) == omitted, "a library field is missing from the package"
    assert set(ours) - set(theirs) == set(), "a package field the library does not have"
    differing = {field for field in ours if ours[field] != theirs[field]}
    assert differing == adapted & set(ours), "docstrings must be the library's"


@pytest.mark.parametrize(
    ("library", "name"),
    [
        (platformkit.network_ref, "NetworkRef"),
        (platformkit.cluster, "ClusterRef"),
        (platformkit.database, "DatabaseRef"),
        (platformkit.cluster, "CapacityProviderStrategy"),
        (platformkit.network, "SubnetCidrs"),
    ],
)
def test_types_have_the_library_fields_and_docstrings(library: ModuleType, name: str) -> None:
    assert docs(platformkit.provider.schema_types, name) == docs(library, name)


@pytest.mark.parametrize(
    ("library", "name"),
    [
        (platformkit.network, "Network"),
        (platformkit.cluster, "Cluster"),
        (platformkit.database, "Database"),
        (platformkit.web_service, "WebService"),
        (platformkit.scheduled_task, "ScheduledTask"),
    ],
)
def test_outputs_are_the_library_attributes_with_their_docstrings(
    library: ModuleType, name: str
) -> None:
    ours = docs(platformkit.provider.components, name)
    theirs = {k: v for k, v in docs(library, name).items() if not k.startswith("_")}
    ref = getattr(getattr(library, name), "ref", None)  # the property, where there is one
    if ref is not None:
        theirs["ref"] = ref.__doc__
    assert set(theirs) - set(ours) == OMITTED_OUTPUTS.get(name, frozenset())
    assert {field: ours[field] for field in ours} == {field: theirs[field] for field in ours}
