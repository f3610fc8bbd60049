"""The supply-chain and scanner gates in the GitHub workflows stay wired up.

actionlint and zizmor (``scripts/lint-ops.sh``) check the workflows' syntax and security; this
checks what they cannot: that a deploy waits for the image scan, that the scan fails on fixable
HIGH and CRITICAL findings, and that Checkov's findings reach code scanning beside the pack's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    return loaded


def steps(job: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(uses)]


def test_the_image_is_scanned_with_trivy_before_any_deploy() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    scan = jobs["image-scan"]
    assert any("docker build" in s.get("run", "") for s in scan["steps"])
    (trivy,) = steps(scan, "aquasecurity/trivy-action@")
    # Pinned to a commit, as every action here is.
    assert len(trivy["uses"].split("@")[1]) == 40
    settings = trivy["with"]
    assert settings["severity"] == "HIGH,CRITICAL"
    assert settings["ignore-unfixed"] is True and str(settings["exit-code"]) == "1"
    assert "image-scan" in jobs["up-dev"]["needs"]
    # prod deploys only after dev, which waits for the scan.
    assert "up-dev" in jobs["up-prod"]["needs"]


def test_checkov_sarif_is_uploaded_beside_the_packs() -> None:
    gate = workflow("ci.yml")["jobs"]["policy-gate"]
    runs = " ".join(s.get("run", "") for s in gate["steps"])
    assert "platformkit checkov" in runs and "--sarif" in runs
    categories = {s["with"]["category"] for s in steps(gate, "github/codeql-action/upload-sarif@")}
    assert categories == {"policy-${{ matrix.stack }}", "checkov-${{ matrix.stack }}"}
