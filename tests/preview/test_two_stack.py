"""examples/two-stack: a network stack and an app stack on it, previewed and gated offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main
from tests.preview.conftest import REPO

NETWORK = REPO / "examples" / "two-stack" / "network"
APP = REPO / "examples" / "two-stack" / "app"
GATE = ["--policy-pack", str(REPO / "policies")]
GATE += ["--policy-pack-config", str(REPO / "policies" / "config" / "dev.json")]
REFERENCE = "organization/shared-network/dev"


@pytest.fixture(scope="module")
def network_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The network stack's outputs, as `--format stack-outputs` writes them."""
    path = tmp_path_factory.mktemp("two-stack") / "network-dev.json"
    argv = ["preview", str(NETWORK), "--stack", "dev", "--format", "stack-outputs"]
    assert main([*argv, "--output", str(path)]) == 0
    return path


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(["preview", *argv, "--stack", "dev", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in doc["resources"] if r["name"] == name)
    return found


def test_the_network_stack_exports_what_network_ref_reads(network_outputs: Path) -> None:
    outputs = json.loads(network_outputs.read_text())
    assert sorted(outputs) == [
        "isolatedSubnetIds",
        "privateSubnetIds",
        "publicSubnetIds",
        "vpcCidrBlock",
        "vpcId",
    ]
    assert all(len(outputs[f"{tier}SubnetIds"]) == 2 for tier in ("public", "private", "isolated"))


def test_the_network_stack_passes_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = report([str(NETWORK), *GATE], capsys)
    assert code == 0, err
    assert doc["policies"]["summary"]["mandatory"] == 0
    assert named(doc, "shared")["type"] == "platformkit:index:Network"


def test_the_app_stack_runs_in_the_network_stacks_subnets(
    network_outputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"{REFERENCE}={network_outputs}"
    code, doc, err = report([str(APP), "--stack-outputs", spec, *GATE], capsys)
    assert code == 0, err
    assert doc["policies"]["summary"]["mandatory"] == 0  # gated: the pack ran and passed it
    network = json.loads(network_outputs.read_text())
    alb = named(doc, "orders-alb")
    assert alb["inputs"]["subnets"] == network["publicSubnetIds"]
    assert named(doc, "orders-subnets")["inputs"]["subnetIds"] == network["isolatedSubnetIds"]
    service = named(doc, "orders-api-service")["inputs"]["networkConfiguration"]
    assert service["subnets"] == network["privateSubnetIds"]
    assert named(doc, "orders-sg")["inputs"]["vpcId"] == network["vpcId"]


def test_the_app_stack_without_the_network_outputs_says_how_to_supply_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = report([str(APP)], capsys)
    assert code == 2
    assert err.startswith(f"error: StackReference '{REFERENCE}':")
    assert f"--stack-outputs {REFERENCE}=FILE" in err and len(err.splitlines()) == 1


def test_a_network_of_another_size_is_named(
    network_outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = json.loads(network_outputs.read_text())
    outputs["privateSubnetIds"].append("subnet-0ccc000000000000c")
    three = tmp_path / "three-private.json"
    three.write_text(json.dumps(outputs))
    code, _, err = report([str(APP), "--stack-outputs", f"{REFERENCE}={three}"], capsys)
    assert code == 2
    # The summary names the user's error, not the SDK's "While processing input" wrapper.
    assert err.splitlines()[-1].startswith(
        "error: program __main__.py raised ValueError: stack output 'privateSubnetIds' holds "
        "3 subnet ids, but NetworkRef.from_stack_reference was given az_count=2"
    )
