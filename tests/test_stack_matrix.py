"""The stacks CI gates are the ``Pulumi.<stack>.yaml`` files present (``scripts/stacks.sh``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "stacks.sh"
FROM_THE_LIST = "${{ fromJSON(needs.stacks.outputs.stacks) }}"


def stacks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False
    )


def project(tmp_path: Path, stack_files: list[str], configs: list[str]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n", encoding="utf-8")
    (tmp_path / "policies" / "config").mkdir(parents=True)
    for stack in stack_files:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n", encoding="utf-8")
    for stack in configs:
        (tmp_path / "policies" / "config" / f"{stack}.json").write_text("{}", encoding="utf-8")
    return tmp_path


def test_the_repository_stacks_are_its_stack_files() -> None:
    files = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                   for p in ROOT.glob("Pulumi.*.yaml"))  # fmt: skip
    listed = stacks("--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == files
    assert {"dev", "prod"} <= set(files)


def test_a_new_stack_file_joins_the_list(tmp_path: Path) -> None:
    directory = project(tmp_path, ["dev", "prod", "staging"], ["dev", "prod", "staging"])
    assert json.loads(stacks("--json", str(directory)).stdout) == ["dev", "prod", "staging"]
    assert stacks(str(directory)).stdout == "dev\nprod\nstaging\n"


def test_a_stack_without_a_policy_config_fails_naming_the_file_to_add(tmp_path: Path) -> None:
    directory = project(tmp_path, ["dev", "staging"], ["dev"])
    listed = stacks("--json", str(directory))
    assert listed.returncode == 1 and listed.stdout == ""
    assert "Pulumi.staging.yaml has no policy config: add policies/config/staging.json" in (
        listed.stderr
    )


def test_no_stack_file_is_an_error(tmp_path: Path) -> None:
    listed = stacks(str(project(tmp_path, [], [])))
    assert listed.returncode == 1 and "no Pulumi.<stack>.yaml" in listed.stderr


@pytest.mark.parametrize(
    ("workflow", "job"), [("ci.yml", "policy-gate"), ("deploy.yml", "preview")]
)
def test_the_workflow_matrices_come_from_the_list(workflow: str, job: str) -> None:
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text("utf-8"))["jobs"]
    assert jobs[job]["needs"] == "stacks"
    assert jobs[job]["strategy"]["matrix"]["stack"] == FROM_THE_LIST
    steps = "\n".join(step.get("run", "") for step in jobs["stacks"]["steps"])
    assert "scripts/stacks.sh --json" in steps


def test_the_local_loops_use_the_list_too() -> None:
    for path in ("Makefile", ".ci/run"):
        text = (ROOT / path).read_text("utf-8")
        assert "scripts/stacks.sh" in text and "dev prod" not in text, path
