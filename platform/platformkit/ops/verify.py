"""``platformkit verify``: run every check against a deployed stack, with retries.

AWS converges after ``pulumi up`` returns: ECS may still be draining the old deployment, new
targets sit in ``initial`` for a few health checks. A check whose failure is ``retryable``
runs again after an exponential backoff (5 s, 10 s, 20 s, ... capped at 60 s) until it passes
or its attempts run out; the sleep is injected so tests never wait.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from platformkit.ops.aws import Sleep, backoff_delays
from platformkit.ops.checks import CHECKS, Check, CheckContext, CheckResult, Status
from platformkit.ops.limits import DEFAULT_ATTEMPTS


@dataclass(frozen=True)
class VerifyReport:
    """The results of one ``verify`` run."""

    stack: str
    region: str
    identity: str
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.status is not Status.FAIL for result in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)


def run_checks(
    ctx: CheckContext,
    *,
    checks: Sequence[Check] = CHECKS,
    attempts: int = DEFAULT_ATTEMPTS,
    sleep: Sleep,
    log: Callable[[str], None] = lambda _line: None,
) -> tuple[CheckResult, ...]:
    """Run ``checks`` in order, retrying retryable failures with backoff."""
    results: list[CheckResult] = []
    for check in checks:
        result = check(ctx)
        tries = 1
        for delay in backoff_delays(attempts):
            if result.status is not Status.FAIL or not result.retryable:
                break
            log(f"{result.name}: {result.detail}; retrying in {delay:.0f}s")
            sleep(delay)
            result = check(ctx)
            tries += 1
        results.append(replace(result, attempts=tries))
    return tuple(results)


def render_text(report: VerifyReport) -> str:
    """One line per check, then a summary line."""
    width = max((len(result.name) for result in report.results), default=0)
    lines = [f"verify stack {report.stack} in {report.region} as {report.identity}"]
    for result in report.results:
        retried = f" (after {result.attempts} tries)" if result.attempts > 1 else ""
        lines.append(
            f"  {result.status.value.upper():4}  {result.name:{width}}  {result.detail}{retried}"
        )
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"{verdict}: {report.count(Status.PASS)} passed, {report.count(Status.FAIL)} failed, "
        f"{report.count(Status.SKIP)} skipped"
    )
    return "\n".join(lines) + "\n"


def render_json(report: VerifyReport) -> str:
    """The report as a JSON document (``ok``, ``checks[]`` with name, status, detail)."""
    document = {
        "stack": report.stack,
        "region": report.region,
        "identity": report.identity,
        "ok": report.ok,
        "checks": [
            {
                "name": result.name,
                "status": result.status.value,
                "detail": result.detail,
                "attempts": result.attempts,
            }
            for result in report.results
        ],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS: dict[str, Callable[[VerifyReport], str]] = {"text": render_text, "json": render_json}
