"""Checkov through the export: the baseline's rules, the verdict, and the shipped stacks.

The tests marked ``needs_checkov`` run Checkov itself (``$CHECKOV`` or ``checkov`` on PATH;
``.ci/run`` installs it in ``.venv-checkov``) and are skipped with a reason where it is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from platformkit.cli import main as cli_main
from platformkit.preview.terraform import checkov
from platformkit.preview.terraform.baseline import Accepted, BaselineError, load_baseline
from tests.preview.conftest import PROGRAMS, REPO

CHECKOV = os.environ.get("CHECKOV") or shutil.which("checkov")
needs_checkov = pytest.mark.skipif(
    not (CHECKOV and shutil.which(CHECKOV)),
    reason="checkov is not installed (make checkov-install, or set $CHECKOV)",
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, "utf-8")
    return path


def report(*failed: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "summary": {"passed": 10, "failed": len(failed), "skipped": 0},
        "results": {
            "failed_checks": [
                {"check_id": c, "resource": r, "check_name": "n", "file_line_range": [line, line]}
                for c, r, line in failed
            ]
        },
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- check: CKV_AWS_21\n  resource: '*'\n", "'reason' must be one non-empty line"),
        ("- check: CKV_AWS_21\n  resource: '*'\n  reason: ''\n", "'reason' must be one"),
        ("- check: AWS_21\n  resource: '*'\n  reason: r\n", "like CKV_AWS_21, got 'AWS_21'"),
        ("- check: CKV_AWS_21\n  reason: r\n", "'resource' must be an address"),
        ("- check: CKV_AWS_21\n  resource: x\n  reason: r\n  owner: me\n", "unknown keys"),
    ],
)
def test_every_baseline_entry_needs_a_check_a_resource_and_a_reason(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = write(tmp_path, "accepted:\n" + entry)
    with pytest.raises(BaselineError, match="entry 1") as raised:
        load_baseline(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_shipped_baselines_are_valid_and_justified() -> None:
    for stack in ("dev", "prod"):
        entries = load_baseline(REPO / "policies" / "checkov" / f"{stack}.yaml")
        assert entries and all(len(e.reason) > 20 for e in entries)


def test_the_seven_real_weaknesses_are_not_accepted_on_prod() -> None:
    accepted = {e.check for e in load_baseline(REPO / "policies" / "checkov" / "prod.yaml")}
    real = {"CKV2_AWS_31", "CKV2_AWS_76", "CKV_AWS_158", "CKV_AWS_354", "CKV_AWS_21", "CKV_AWS_18"}
    assert not accepted & real


def test_accepted_new_and_stale_findings() -> None:
    baseline = [
        Accepted("CKV_AWS_260", "aws_vpc_security_group_ingress_rule.http", "redirect only"),
        Accepted("CKV_AWS_338", "*", "dev keeps logs 7 days"),
        Accepted("CKV_AWS_21", "aws_s3_bucket.gone", "fixed since"),
    ]
    outcome = checkov.apply_baseline(
        report(
            ("CKV_AWS_260", "aws_vpc_security_group_ingress_rule.http", 10),
            ("CKV_AWS_338", "aws_cloudwatch_log_group.a", 20),
            ("CKV_AWS_338", "aws_cloudwatch_log_group.b", 30),
            ("CKV_AWS_260", "aws_vpc_security_group_ingress_rule.ssh", 40),
        ),
        baseline,
    )
    assert [(f.check, f.resource) for f in outcome.new] == [
        ("CKV_AWS_260", "aws_vpc_security_group_ingress_rule.ssh")
    ]
    assert [e.resource for e in outcome.stale] == ["aws_s3_bucket.gone"]
    assert outcome.exit_code == 1
    text = checkov.render(outcome, "dev")
    assert "FAILED   CKV_AWS_260 aws_vpc_security_group_ingress_rule.ssh" in text
    assert "accepted CKV_AWS_338 aws_cloudwatch_log_group.b: dev keeps logs 7 days" in text
    assert "STALE    CKV_AWS_21 aws_s3_bucket.gone" in text
    clean = checkov.apply_baseline(report(("CKV_AWS_338", "aws_x.y", 5)), baseline[1:2])
    assert clean.exit_code == 0 and not clean.new


def test_sarif_marks_accepted_findings_and_points_at_the_pulumi_code() -> None:
    outcome = checkov.apply_baseline(
        report(("CKV_AWS_21", "aws_s3_bucket.logs", 7), ("CKV_AWS_18", "aws_s3_bucket.logs", 7)),
        [Accepted("CKV_AWS_21", "aws_s3_bucket.logs", "logs expire")],
    )
    location = {"physicalLocation": {"region": {"startLine": 7}}}
    sarif: dict[str, Any] = {
        "runs": [
            {
                "results": [
                    {"ruleId": c, "message": {"text": "m"}, "locations": [location]}
                    for c in ("CKV_AWS_21", "CKV_AWS_18")
                ]
            }
        ]
    }
    plan = {"platformkit": {"sources": {"aws_s3_bucket.logs": {"uri": "app.py", "line": 3}}}}
    checkov.annotate_sarif(sarif, outcome, plan)
    accepted, new = sarif["runs"][0]["results"]
    assert accepted["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "logs expire"}
    ]
    assert "suppressions" not in new
    where = new["locations"][0]["physicalLocation"]
    assert where == {
        "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }


def test_a_missing_checkov_is_named_with_how_to_install_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [str(REPO), "--stack", "prod", "--checkov", "/nonexistent/checkov"]
    code = cli_main(["checkov", *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert "/nonexistent/checkov" in err and "pipx install checkov" in err


def test_a_bad_baseline_fails_before_scanning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "accepted:\n- check: CKV_AWS_21\n")
    code = cli_main(
        [
            "checkov",
            str(REPO),
            "--stack",
            "prod",
            "--baseline",
            str(bad),
            "--checkov",
            shutil.which("true") or "true",
        ]
    )
    assert code == 2
    assert f"{bad}: entry 1" in capsys.readouterr().err


@needs_checkov
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_pass_checkov_with_their_baseline(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert CHECKOV is not None
    sarif = tmp_path / "checkov.sarif"
    code = cli_main(
        ["checkov", str(REPO), "--stack", stack, "--checkov", CHECKOV, "--sarif", str(sarif)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAILED" not in out and "STALE" not in out
    assert sarif.stat().st_size > 0


@needs_checkov
def test_an_insecure_program_fails_checkov(capsys: pytest.CaptureFixture[str]) -> None:
    assert CHECKOV is not None
    program = PROGRAMS / "gate_insecure_data"
    code = cli_main(["checkov", str(program), "--stack", "test", "--checkov", CHECKOV])
    out = capsys.readouterr().out
    assert code == 1
    # A publicly reachable database and an unencrypted one, found through the export.
    assert "FAILED   CKV_AWS_17 aws_db_instance.db-public" in out
    assert "FAILED   CKV_AWS_16 aws_db_instance.db-public" in out


def test_every_accepted_check_is_explained_in_the_policy_docs() -> None:
    text = (REPO / "docs" / "policies.md").read_text("utf-8")
    section = text.split("## Checkov: the pack and the baseline", 1)[1]
    for stack in ("dev", "prod"):
        for entry in load_baseline(REPO / "policies" / "checkov" / f"{stack}.yaml"):
            assert entry.check in section, f"{entry.check} ({stack}) is not in docs/policies.md"
