"""The preview benchmark runs and reports both timings and their ratio."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.preview.conftest import REPO


def test_bench_reports_a_ratio() -> None:
    completed = subprocess.run(
        [sys.executable, "bench/bench_preview.py", "examples/aws-py-static-site"]
        + ["--stack", "dev", "--repeat", "1", "--target", "1000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("platformkit preview examples/aws-py-static-site --stack dev: ")
    assert lines[1].startswith('python -c "import pulumi, pulumi_aws": ')
    assert re.fullmatch(r"ratio: \d+\.\d\dx \(target <= 1000x: ok\)", lines[2])
    assert re.fullmatch(
        r"import floor \(pulumi, pulumi_aws \+ \d+ provider modules the program uses\): "
        r"\d+\.\d{3} s; preview / floor: \d+\.\d\dx",
        lines[3],
    )


def test_bench_fails_an_unmet_target_only_when_asked_to_check() -> None:
    command = [sys.executable, "bench/bench_preview.py", "examples/aws-py-static-site"]
    command += ["--stack", "dev", "--repeat", "1", "--target", "0.001"]
    reported = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert reported.returncode == 0, reported.stderr
    assert "(target <= 0.001x: too slow)" in reported.stdout
    checked = subprocess.run(
        [*command, "--check"], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert checked.returncode == 1
