"""TypeScript/JavaScript (``runtime: nodejs``) policy packs in the offline gate.

AWSGuard (``@pulumi/awsguard`` from npm, in ``tests/preview/packs/awsguard``) runs on the
shipped stacks beside the platformkit pack, started as the Pulumi CLI starts a Node.js pack.
Those tests need Node.js and the pack's ``node_modules`` (``npm ci`` there; ``.ci/run`` does
it) and are skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main
from platformkit.preview.analyzer import (
    AnalyzerResource,
    PolicyConfig,
    _options,
    configure_request,
)
from platformkit.preview.errors import PreviewError
from platformkit.preview.pack_launch import node_pack_command, read_pack_project
from tests.preview.conftest import REPO

AWSGUARD = Path(__file__).parent / "packs" / "awsguard"
PLATFORMKIT = REPO / "policies"


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (`node` not on PATH): AWSGuard cannot run"
    if not (AWSGUARD / "node_modules" / "@pulumi" / "awsguard").is_dir():
        return f"AWSGuard is not installed: run `npm ci` in {AWSGUARD}"
    return None


needs_awsguard = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def gate_json(capfd: Any, stack: str, *packs_and_configs: str) -> tuple[int, dict[str, Any]]:
    code = main(["preview", str(REPO), "--stack", stack, "--format", "json", *packs_and_configs])
    out = capfd.readouterr().out
    return code, json.loads(out)


# -- the protocol traps, without Node.js ------------------------------------------------------


def test_configure_sends_properties_even_when_a_policy_has_none() -> None:
    request = configure_request({"s3-bucket-logging-enabled": PolicyConfig("advisory", {})})
    # The Node.js analyzer calls properties.toJavaScript() on every entry.
    assert request.policyConfig["s3-bucket-logging-enabled"].HasField("properties")


def test_every_resource_carries_options_with_custom_timeouts() -> None:
    resource = AnalyzerResource(urn="urn:x", type="aws:s3/bucket:Bucket", name="b", properties=None)  # type: ignore[arg-type]
    options = _options(resource)
    assert options.HasField("customTimeouts")
    assert options.customTimeouts.create == 0.0


def test_nodejs_is_an_accepted_pack_runtime(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n", encoding="utf-8")
    assert read_pack_project(tmp_path)["runtime"] == "nodejs"
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: go\n", encoding="utf-8")
    with pytest.raises(PreviewError, match="runtime 'go' is not supported offline"):
        read_pack_project(tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_a_nodejs_pack_without_its_dependencies_says_to_install_them(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n", encoding="utf-8")
    with pytest.raises(PreviewError, match="try running npm install or yarn install in"):
        node_pack_command(tmp_path, {"runtime": "nodejs"})


# -- AWSGuard on the shipped stacks -----------------------------------------------------------


@needs_awsguard
def test_awsguard_starts_from_its_own_node_modules() -> None:
    command = node_pack_command(AWSGUARD, read_pack_project(AWSGUARD))
    assert command[1] == str(
        AWSGUARD / "node_modules" / "@pulumi" / "pulumi" / "cmd" / "run-policy-pack" / "index.js"
    )
    assert command[2:4] == ["127.0.0.1:0", "."]


@needs_awsguard
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_awsguard_beside_the_platformkit_pack_passes_the_shipped_stacks(
    capfd: Any, stack: str
) -> None:
    config = str(PLATFORMKIT / "config" / f"{stack}.json")
    code, doc = gate_json(
        capfd, stack, "--policy-pack", str(PLATFORMKIT), "--policy-pack-config", config,
        "--policy-pack", str(AWSGUARD),
    )  # fmt: skip
    packs = [p["name"] for p in doc["policies"]["packs"]]
    assert packs == ["platformkit-aws", "pulumi-awsguard"]
    assert code == 0, doc["policies"]["summary"]
    awsguard = [v for v in doc["policies"]["violations"] if v["pack"] == "pulumi-awsguard"]
    assert [v for v in awsguard if v["level"] == "mandatory"] == []
    # It reads the pulumi-aws v4 inline `loggings` of a Bucket; these stacks log through a
    # separate BucketLogging resource (docs/policies.md). Dev runs one AZ on purpose.
    expected = {"s3-bucket-logging-enabled"}
    if stack == "dev":
        expected.add("rds-instance-multi-az-enabled")
    assert {v["rule"] for v in awsguard} <= expected


@needs_awsguard
def test_awsguard_catches_an_unencrypted_public_database(capfd: Any) -> None:
    program = Path(__file__).parent / "programs" / "gate_insecure_data"
    code = main(
        ["preview", str(program), "--stack", "test", "--format", "json"]
        + ["--policy-pack", str(AWSGUARD)]
    )
    doc = json.loads(capfd.readouterr().out)
    found = {(v["rule"], v["name"]) for v in doc["policies"]["violations"]}
    assert {
        ("rds-storage-encrypted", "db-public"),
        ("rds-instance-public-access", "db-public"),
    } <= found
    assert code == 0  # AWSGuard's policies are advisory unless configured otherwise


@needs_awsguard
def test_every_awsguard_id_the_rules_cite_is_a_policy_of_awsguard() -> None:
    from platformkit.policy import RULES

    sources = (AWSGUARD / "node_modules" / "@pulumi" / "awsguard").glob("*.js")
    names = {
        line.split('"')[1]
        for source in sources
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith('name: "')
    }
    cited = {awsguard for rule in RULES for awsguard in rule.awsguard}
    assert cited and cited <= names, sorted(cited - names)
