"""The post-deploy checks: each reads live state and judges it against the stack's contract.

A check is a function ``(CheckContext) -> CheckResult``. It never raises for a finding: a
resource that is missing, unhealthy or configured differently from what the stack declared is
a ``FAIL`` with a sentence saying what is wrong. Findings that AWS may still be converging on
(a deployment in progress, a target in ``initial``) are marked ``retryable``; ``verify`` runs
those checks again with backoff. Only ``AwsAccessError`` (no credentials, no region, no
network) escapes, because then no check can say anything.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from platformkit.ops.aws import AwsClients, call, error_code
from platformkit.ops.contract import OperationsContract

READINESS_PATH = "/readyz"
"""The service's readiness endpoint (database reachable)."""
HTTP_TIMEOUT_SECONDS = 10.0

NOT_FOUND_CODES = frozenset(
    {
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "TargetGroupNotFound",
        "TargetGroupNotFoundException",
        "LoadBalancerNotFound",
        "LoadBalancerNotFoundException",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
    }
)


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: ``detail`` is one sentence for a human."""

    name: str
    status: Status
    detail: str
    retryable: bool = False
    attempts: int = 1


class Unreachable(Exception):
    """The service URL could not be reached at all (DNS, connection, TLS, timeout)."""


HttpGet = Callable[[str, float], int]
"""``(url, timeout) -> HTTP status``; raises ``Unreachable``."""


def urllib_get(url: str, timeout: float) -> int:
    """GET ``url`` and return the status code, following no redirects beyond urllib's own."""
    request = urllib.request.Request(url, headers={"User-Agent": "platformkit-verify"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(str(reason)) from exc


@dataclass(frozen=True)
class CheckContext:
    """What every check may use."""

    contract: OperationsContract[str]
    clients: AwsClients
    now: Callable[[], datetime]
    http_get: HttpGet
    url: str | None
    check_http: bool


Check = Callable[[CheckContext], CheckResult]


def _pass(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.PASS, detail)


def _fail(name: str, detail: str, retryable: bool = False) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, retryable)


def _client_failure(name: str, ctx: CheckContext, what: str, exc: ClientError) -> CheckResult:
    code = error_code(exc)
    if code in NOT_FOUND_CODES:
        return _fail(
            name,
            f"{what} not found in region {ctx.clients.region} ({code}): is --region the "
            "stack's region, and is the stack deployed?",
        )
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return _fail(name, f"not allowed to read {what} ({code}): grant the role read access")
    return _fail(name, f"reading {what} failed: {code or exc}", retryable=True)


def check_ecs_service(ctx: CheckContext) -> CheckResult:
    """Active, every desired task running, the last deployment completed, no rollback."""
    name = "ecs-service"
    c = ctx.contract
    what = f"ECS service {c.service_name} in cluster {c.cluster_name}"
    try:
        response = call(
            ctx.clients.region,
            lambda: ctx.clients.ecs.describe_services(
                cluster=c.cluster_name, services=[c.service_name]
            ),
        )
    except ClientError as exc:
        return _client_failure(name, ctx, what, exc)
    services = response.get("services", [])
    if not services:
        reasons = ", ".join(f.get("reason", "?") for f in response.get("failures", []))
        return _fail(
            name, f"{what} not found in region {ctx.clients.region} ({reasons or 'no answer'})"
        )
    service: Mapping[str, Any] = services[0]
    if service.get("status") != "ACTIVE":
        return _fail(name, f"{what} is {service.get('status')}, not ACTIVE")
    problems: list[str] = []
    retryable = True
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    if running != desired:
        problems.append(f"{running} of {desired} desired tasks running")
    deployments: list[Mapping[str, Any]] = list(service.get("deployments", []))
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    tripped = _circuit_breaker_trip(service, deployments, primary)
    if tripped:
        problems.append(tripped)
        retryable = False
    elif primary is None:
        problems.append("no PRIMARY deployment")
    elif primary.get("rolloutState", "COMPLETED") != "COMPLETED":
        problems.append(
            f"last deployment {primary.get('id')} is {primary.get('rolloutState')}"
            f" ({primary.get('rolloutStateReason', 'no reason given')})"
        )
    elif len(deployments) > 1:
        problems.append(f"{len(deployments) - 1} older deployment(s) still draining")
    if problems:
        return _fail(name, f"{c.service_name}: " + "; ".join(problems), retryable)
    return _pass(
        name, f"{c.service_name}: ACTIVE, {running}/{desired} tasks running, deployment COMPLETED"
    )


def _circuit_breaker_trip(
    service: Mapping[str, Any],
    deployments: list[Mapping[str, Any]],
    primary: Mapping[str, Any] | None,
) -> str | None:
    failed = next((d for d in deployments if d.get("rolloutState") == "FAILED"), None)
    if failed is not None:
        return (
            f"deployment {failed.get('id')} FAILED, the circuit breaker tripped "
            f"({failed.get('rolloutStateReason', 'no reason given')})"
        )
    # After a rollback completes the failed deployment is gone; its trace stays in the events.
    since = primary.get("createdAt") if primary is not None else None
    for event in service.get("events", []):
        message = str(event.get("message", ""))
        created = event.get("createdAt")
        recent = since is None or created is None or created >= since
        if recent and "circuit breaker" in message.lower():
            return f"the circuit breaker tripped: {message}"
    return None


def check_task_spread(ctx: CheckContext) -> CheckResult:
    """Running tasks span ``minTaskAzs`` availability zones (2 in prod)."""
    name = "ecs-task-spread"
    c = ctx.contract
    if c.min_task_azs <= 1:
        return CheckResult(name, Status.SKIP, f"not required in {c.environment} (minTaskAzs 1)")
    try:
        arns = call(
            ctx.clients.region,
            lambda: ctx.clients.ecs.list_tasks(
                cluster=c.cluster_name, serviceName=c.service_name, desiredStatus="RUNNING"
            ),
        ).get("taskArns", [])
        tasks = (
            call(
                ctx.clients.region,
                lambda: ctx.clients.ecs.describe_tasks(cluster=c.cluster_name, tasks=arns),
            ).get("tasks", [])
            if arns
            else []
        )
    except ClientError as exc:
        return _client_failure(name, ctx, f"tasks of {c.service_name}", exc)
    zones = sorted({str(t["availabilityZone"]) for t in tasks if t.get("availabilityZone")})
    if len(zones) < c.min_task_azs:
        where = ", ".join(zones) or "no zone"
        return _fail(
            name,
            f"{len(tasks)} running task(s) in {len(zones)} AZ(s) ({where}); "
            f"{c.environment} needs at least {c.min_task_azs}",
            retryable=True,
        )
    return _pass(name, f"{len(tasks)} running tasks across {len(zones)} AZs ({', '.join(zones)})")


def check_target_health(ctx: CheckContext) -> CheckResult:
    """Every target registered in the service's target group is healthy."""
    name = "target-health"
    arn = ctx.contract.target_group_arn
    try:
        response = call(
            ctx.clients.region,
            lambda: ctx.clients.elbv2.describe_target_health(TargetGroupArn=arn),
        )
    except ClientError as exc:
        return _client_failure(name, ctx, f"target group {arn}", exc)
    descriptions: list[Mapping[str, Any]] = response.get("TargetHealthDescriptions", [])
    if not descriptions:
        return _fail(name, "no targets registered in the target group", retryable=True)
    bad: list[str] = []
    for item in descriptions:
        health = item.get("TargetHealth", {})
        if health.get("State") != "healthy":
            target = item.get("Target", {})
            reason = health.get("Reason") or health.get("Description") or "no reason given"
            bad.append(f"{target.get('Id')}:{target.get('Port')} {health.get('State')} ({reason})")
    if bad:
        return _fail(
            name,
            f"{len(bad)} of {len(descriptions)} targets not healthy: " + "; ".join(bad),
            retryable=True,
        )
    return _pass(name, f"{len(descriptions)} of {len(descriptions)} targets healthy")


def check_listeners(ctx: CheckContext) -> CheckResult:
    """HTTPS 443 plus an HTTP 80 redirect when the stack declared HTTPS, else HTTP 80 only."""
    name = "listeners"
    c = ctx.contract
    try:
        response = call(
            ctx.clients.region,
            lambda: ctx.clients.elbv2.describe_listeners(LoadBalancerArn=c.load_balancer_arn),
        )
    except ClientError as exc:
        return _client_failure(name, ctx, f"load balancer {c.load_balancer_arn}", exc)
    listeners: dict[int, Mapping[str, Any]] = {
        int(item["Port"]): item for item in response.get("Listeners", [])
    }
    problems: list[str] = []
    http = listeners.get(80)
    https = listeners.get(443)
    if c.https:
        if https is None or https.get("Protocol") != "HTTPS":
            problems.append("no HTTPS listener on 443 (the stack declares https: true)")
        if http is None:
            problems.append("no HTTP listener on 80 redirecting to HTTPS")
        elif not _redirects_to_https(http):
            problems.append("the HTTP listener on 80 serves traffic instead of redirecting")
        summary = "HTTPS 443, HTTP 80 redirects to HTTPS"
    else:
        if http is None or http.get("Protocol") != "HTTP":
            problems.append("no HTTP listener on 80 (the stack declares https: false)")
        if https is not None:
            problems.append("an HTTPS listener on 443 exists, the stack declares https: false")
        summary = "HTTP 80 (the stack declares no certificate)"
    extra = sorted(set(listeners) - {80, 443})
    if extra:
        problems.append(f"undeclared listener port(s) {', '.join(map(str, extra))}")
    if problems:
        return _fail(name, "; ".join(problems))
    return _pass(name, summary)


def _redirects_to_https(listener: Mapping[str, Any]) -> bool:
    for action in listener.get("DefaultActions", []):
        redirect = action.get("RedirectConfig", {})
        if action.get("Type") == "redirect" and redirect.get("Protocol") == "HTTPS":
            return True
    return False


def _describe_database(ctx: CheckContext) -> Mapping[str, Any]:
    identifier = ctx.contract.database.identifier
    response = call(
        ctx.clients.region,
        lambda: ctx.clients.rds.describe_db_instances(DBInstanceIdentifier=identifier),
    )
    instances = response["DBInstances"]
    return instances[0]


def check_database(ctx: CheckContext) -> CheckResult:
    """Available, and Multi-AZ, backups, deletion protection, encryption as declared."""
    name = "database"
    db = ctx.contract.database
    try:
        instance = _describe_database(ctx)
    except ClientError as exc:
        return _client_failure(name, ctx, f"DB instance {db.identifier}", exc)
    status = instance.get("DBInstanceStatus")
    problems: list[str] = []
    declared = [
        ("Multi-AZ", instance.get("MultiAZ"), db.multi_az, "multiAz"),
        ("deletion protection", instance.get("DeletionProtection"), db.deletion_protection,
         "deletionProtection"),
        ("storage encryption", instance.get("StorageEncrypted"), db.storage_encrypted,
         "storageEncrypted"),
    ]  # fmt: skip
    for label, actual, expected, key in declared:
        if bool(actual) != expected:
            problems.append(
                f"{label} is {'on' if actual else 'off'} but the stack declares "
                f"{key}: {str(expected).lower()}"
            )
    retention = int(instance.get("BackupRetentionPeriod", 0))
    if retention != db.backup_retention_days:
        problems.append(
            f"backups are kept {retention} day(s), the stack declares {db.backup_retention_days}"
        )
    if status != "available":
        problems.insert(0, f"status is {status}, not available")
    if problems:
        return _fail(name, f"{db.identifier}: " + "; ".join(problems), status != "available")
    return _pass(
        name,
        f"{db.identifier}: available, Multi-AZ {'on' if db.multi_az else 'off'}, "
        f"{retention}-day backups, deletion protection "
        f"{'on' if db.deletion_protection else 'off'}, encrypted",
    )


def check_recovery_point(ctx: CheckContext) -> CheckResult:
    """The latest restorable time is within the stack's RPO."""
    name = "database-recovery-point"
    db = ctx.contract.database
    try:
        instance = _describe_database(ctx)
    except ClientError as exc:
        return _client_failure(name, ctx, f"DB instance {db.identifier}", exc)
    if int(instance.get("BackupRetentionPeriod", 0)) == 0:
        return _fail(name, f"{db.identifier}: automated backups are off, nothing to restore")
    latest = instance.get("LatestRestorableTime")
    if not isinstance(latest, datetime):
        return _fail(name, f"{db.identifier}: no latest restorable time yet", retryable=True)
    age_minutes = (ctx.now() - latest.astimezone(UTC)).total_seconds() / 60
    limit = ctx.contract.rpo_minutes
    if age_minutes > limit:
        return _fail(
            name,
            f"{db.identifier}: latest restorable time is {age_minutes:.0f} min old "
            f"({latest.astimezone(UTC):%Y-%m-%d %H:%M}Z), the RPO is {limit} min",
        )
    return _pass(name, f"latest restorable time {age_minutes:.0f} min ago (RPO {limit} min)")


def check_alarms(ctx: CheckContext) -> CheckResult:
    """No alarm notifying the stack's alarm topic is in ALARM."""
    name = "alarms"
    topic = ctx.contract.alarm_topic_arn
    firing: list[str] = []
    token: str | None = None
    try:
        while True:
            kwargs: dict[str, Any] = {"StateValue": "ALARM", "MaxRecords": 100}
            if token:
                kwargs["NextToken"] = token
            page = call(
                ctx.clients.region, partial(ctx.clients.cloudwatch.describe_alarms, **kwargs)
            )
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                if topic is None or topic in alarm.get("AlarmActions", []):
                    firing.append(f"{alarm['AlarmName']} ({alarm.get('StateReason', '')})")
            token = page.get("NextToken")
            if not token:
                break
    except ClientError as exc:
        return _client_failure(name, ctx, "CloudWatch alarms", exc)
    scope = "notifying the stack's alarm topic" if topic else "in the account and region"
    if firing:
        return _fail(name, f"{len(firing)} alarm(s) {scope} in ALARM: " + "; ".join(firing))
    return _pass(name, f"no alarm {scope} in ALARM")


def check_readiness(ctx: CheckContext) -> CheckResult:
    """``GET /readyz`` through the load balancer answers 200."""
    name = "readyz"
    if not ctx.check_http:
        return CheckResult(name, Status.SKIP, "skipped (--skip-http)")
    if not ctx.url:
        return CheckResult(name, Status.SKIP, "no url in the contract and no --url given")
    url = ctx.url.rstrip("/") + READINESS_PATH
    try:
        status = ctx.http_get(url, HTTP_TIMEOUT_SECONDS)
    except Unreachable as exc:
        return CheckResult(
            name,
            Status.SKIP,
            f"{url} unreachable from here ({exc}); the load balancer may admit only "
            "ingressCidrs, or the certificate names your domain: pass --url",
        )
    if status != 200:
        return _fail(name, f"GET {url} answered {status}, expected 200", retryable=True)
    return _pass(name, f"GET {url} answered 200")


CHECKS: tuple[Check, ...] = (
    check_ecs_service,
    check_task_spread,
    check_target_health,
    check_listeners,
    check_database,
    check_recovery_point,
    check_alarms,
    check_readiness,
)
"""Every check ``verify`` runs, in report order."""


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)
