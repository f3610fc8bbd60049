"""``platformkit checkov``: Checkov on a stack through the Terraform-plan export, with a baseline.

Usage::

    platformkit checkov [PROGRAM_DIR] --stack NAME
        [--baseline FILE] [--plan FILE] [--sarif FILE] [--checkov PATH]

The stack is previewed offline (mode ``up``, so references resolve to concrete values), written
as a Terraform plan (``--plan``, default: a temporary file) and scanned with ``checkov -f PLAN
--framework terraform_plan``. Findings accepted by the baseline (default:
``policies/checkov/<stack>.yaml`` under PROGRAM_DIR; none accepted when it does not exist) are
reported as accepted with their reason;
``--sarif`` writes Checkov's SARIF with accepted findings marked as suppressed (their reason as
the justification) and every location moved to the Pulumi source line that declared the
resource. Exit codes: 0 every failure accepted, 1 a failure not in the baseline or a stale
baseline entry, 2 the program, the baseline or Checkov itself failed. ``--checkov`` defaults to
``$CHECKOV`` or ``checkov`` on ``PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformkit.preview.errors import EXIT_FAILED, EXIT_OK, EXIT_VIOLATIONS, PreviewError
from platformkit.preview.terraform.baseline import Accepted, BaselineError, load_baseline

BASELINE_DIR = Path("policies") / "checkov"
"""Where each stack's baseline lives, relative to the program directory."""


@dataclass
class Finding:
    """One failed Checkov check on one resource."""

    check: str
    resource: str
    name: str
    lines: tuple[int, int]
    accepted_by: Accepted | None = None


@dataclass
class Outcome:
    """The verdict on one scan."""

    passed: int
    failed: list[Finding]
    skipped: int
    stale: list[Accepted] = field(default_factory=list)

    @property
    def new(self) -> list[Finding]:
        """Failures the baseline does not accept."""
        return [f for f in self.failed if f.accepted_by is None]

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATIONS if self.new or self.stale else EXIT_OK


def apply_baseline(report: dict[str, Any], baseline: list[Accepted]) -> Outcome:
    """Match Checkov's JSON ``report`` (one framework) against ``baseline``."""
    results = report.get("results", {})
    failed = [
        Finding(
            check=f["check_id"],
            resource=f["resource"],
            name=f.get("check_name", ""),
            lines=(f["file_line_range"][0], f["file_line_range"][1]),
        )
        for f in results.get("failed_checks", [])
    ]
    used: set[int] = set()
    for finding in failed:
        for i, entry in enumerate(baseline):
            if entry.matches(finding.check, finding.resource):
                finding.accepted_by = entry
                used.add(i)
                break
    summary = report.get("summary", {})
    return Outcome(
        passed=int(summary.get("passed", 0)),
        failed=failed,
        skipped=int(summary.get("skipped", 0)),
        stale=[e for i, e in enumerate(baseline) if i not in used],
    )


def run_checkov(checkov: str, plan: Path, out_dir: Path) -> dict[str, Any]:
    """Run Checkov on ``plan``; its JSON report (SARIF beside it in ``out_dir``)."""
    command = [
        checkov,
        "--file",
        str(plan),
        "--framework",
        "terraform_plan",
        # Offline: no download of Prisma Cloud's guidelines or of external checks.
        "--skip-download",
        "--compact",
        "--output",
        "json",
        "--output",
        "sarif",
        "--output-file-path",
        str(out_dir),
    ]
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    report_file = out_dir / "results_json.json"
    # Checkov exits 1 when a check fails; anything else, or no report, is Checkov failing.
    if done.returncode not in (0, 1) or not report_file.exists():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PreviewError(f"error: checkov failed (exit {done.returncode}):\n{tail}")
    report = json.loads(report_file.read_text("utf-8"))
    if isinstance(report, list):  # one entry per framework; only terraform_plan runs here
        report = report[0] if report else {}
    if "results" not in report and report.get("resource_count", 0) == 0:
        report = {"summary": report, "results": {"failed_checks": []}}
    found: dict[str, Any] = report
    return found


def annotate_sarif(sarif: dict[str, Any], outcome: Outcome, plan: dict[str, Any]) -> None:
    """Mark accepted results as suppressed and point every result at the Pulumi source."""
    accepted = {(f.check, f.lines[0]): f.accepted_by for f in outcome.failed if f.accepted_by}
    by_line = {(f.check, f.lines[0]): f.resource for f in outcome.failed}
    sources: dict[str, Any] = plan.get("platformkit", {}).get("sources", {})
    for run in sarif.get("runs", []):
        for result in run.get("results", []):
            locations = result.get("locations") or [{}]
            region = locations[0].get("physicalLocation", {}).get("region", {})
            key = (result.get("ruleId"), region.get("startLine"))
            entry = accepted.get(key)
            if entry is not None:
                result["suppressions"] = [
                    {"kind": "external", "status": "accepted", "justification": entry.reason}
                ]
            resource = by_line.get(key)
            source = sources.get(resource) if resource else None
            if source is not None:
                result["message"]["text"] += f" ({resource})"
                result["locations"] = [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": source["uri"], "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": source["line"]},
                        }
                    }
                ]


def render(outcome: Outcome, stack: str) -> str:
    """The verdict as text: new failures, accepted ones with their reason, stale entries."""
    lines = [
        f"checkov on stack {stack}: {outcome.passed} passed, {len(outcome.failed)} failed "
        f"({len(outcome.failed) - len(outcome.new)} accepted by the baseline), "
        f"{outcome.skipped} skipped"
    ]
    for f in outcome.new:
        lines.append(f"  FAILED   {f.check} {f.resource}: {f.name}")
    for f in outcome.failed:
        if f.accepted_by is not None:
            lines.append(f"  accepted {f.check} {f.resource}: {f.accepted_by.reason}")
    for e in outcome.stale:
        lines.append(
            f"  STALE    {e.check} {e.resource}: matches no failure; remove it from the baseline"
        )
    return "\n".join(lines) + "\n"


def add_checkov(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``platformkit checkov``."""
    parser = commands.add_parser(
        "checkov",
        help="run Checkov on a stack through the Terraform-plan export, with its baseline",
        description=(
            "Preview the stack offline, write it as a Terraform plan, run Checkov on it and "
            "compare the failures with the stack's baseline (accepted findings, each with a "
            "reason). Exit codes: 0 every failure accepted, 1 a failure not in the baseline "
            "or a stale baseline entry, 2 the program, the baseline or Checkov failed."
        ),
    )
    _arguments(parser)
    parser.set_defaults(handler=run)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "program_dir",
        nargs="?",
        default=Path("."),
        type=Path,
        metavar="PROGRAM_DIR",
        help="directory holding Pulumi.yaml (default: the current directory)",
    )
    parser.add_argument("-s", "--stack", required=True, metavar="NAME", help="the stack to scan")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help=f"accepted findings (default: PROGRAM_DIR/{BASELINE_DIR}/<stack>.yaml)",
    )
    parser.add_argument("--plan", type=Path, metavar="FILE", help="also keep the plan in FILE")
    parser.add_argument("--sarif", type=Path, metavar="FILE", help="write SARIF to FILE")
    parser.add_argument(
        "--checkov", metavar="PATH", help="the checkov executable (default: $CHECKOV, or PATH)"
    )


def run(args: argparse.Namespace) -> int:
    """Scan the stack ``args`` name and print the verdict; returns the exit code."""
    checkov = args.checkov or os.environ.get("CHECKOV") or shutil.which("checkov")
    if not checkov or not shutil.which(checkov):
        print(
            f"error: checkov not found ({checkov or 'not on PATH'}): install it in a venv of "
            "its own (`pipx install checkov`; its pins clash with Pulumi's) and pass "
            "--checkov PATH or set $CHECKOV",
            file=sys.stderr,
        )
        return EXIT_FAILED
    baseline_path = args.baseline or args.program_dir / BASELINE_DIR / f"{args.stack}.yaml"
    if not baseline_path.exists() and not args.baseline:
        # Said, not failed: a program without a baseline is scanned with nothing accepted.
        print(f"note: no baseline at {baseline_path}: no finding is accepted", file=sys.stderr)
    try:
        baseline = load_baseline(baseline_path) if baseline_path.exists() or args.baseline else []
        with tempfile.TemporaryDirectory(prefix="platformkit-checkov-") as tmp:
            outcome, sarif = _scan(args, checkov, Path(tmp), baseline)
    except (PreviewError, BaselineError) as exc:
        print(str(exc) if isinstance(exc, BaselineError) else exc.message, file=sys.stderr)
        return EXIT_FAILED
    if args.sarif is not None:
        args.sarif.parent.mkdir(parents=True, exist_ok=True)
        args.sarif.write_text(json.dumps(sarif, indent=2) + "\n", "utf-8")
    sys.stdout.write(render(outcome, args.stack))
    return outcome.exit_code


def _scan(
    args: argparse.Namespace, checkov: str, tmp: Path, baseline: list[Accepted]
) -> tuple[Outcome, dict[str, Any]]:
    from platformkit.preview.result import run_preview
    from platformkit.preview.terraform.plan import render_terraform_plan

    result = run_preview(args.program_dir, args.stack, "up")
    text = render_terraform_plan(result)
    plan_path: Path = args.plan or tmp / f"{args.stack}.tfplan.json"
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(text, "utf-8")
    out_dir = tmp / "checkov"
    report = run_checkov(checkov, plan_path, out_dir)
    outcome = apply_baseline(report, baseline)
    sarif_file = out_dir / "results_sarif.sarif"
    sarif: dict[str, Any] = json.loads(sarif_file.read_text("utf-8")) if sarif_file.exists() else {}
    annotate_sarif(sarif, outcome, json.loads(text))
    return outcome, sarif
