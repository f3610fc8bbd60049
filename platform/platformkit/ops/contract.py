"""The operations contract: what a stack exports so day-two tools can find and judge it.

A stack that wants ``platformkit verify`` and ``platformkit dr-drill`` exports one object
output named ``operations`` (see ``docs/operations.md``)::

    {
      "contractVersion": 1,
      "environment": "prod",              # the stack; "prod" tightens the AZ-spread check
      "region": "us-east-1",              # where the resources live (optional)
      "url": "https://...",               # the service URL; /readyz is probed through it
      "clusterName": "...",               # ECS cluster
      "serviceName": "...",               # ECS service
      "loadBalancerArn": "...",
      "targetGroupArn": "...",
      "https": true,                      # HTTPS 443 + HTTP 80 redirect, else HTTP 80 only
      "alarmTopicArn": "...",             # alarms notifying it must not be in ALARM
      "minTaskAzs": 2,                    # running tasks must span this many AZs
      "database": {
        "identifier": "...",              # RDS DBInstanceIdentifier
        "subnetGroupName": "...",         # DR drills restore into it...
        "securityGroupId": "sg-...",      # ...behind this security group
        "multiAz": true,
        "backupRetentionDays": 30,
        "deletionProtection": true,
        "storageEncrypted": true
      },
      "rtoMinutes": 60,                   # a restore must be available within this
      "rpoMinutes": 15                    # the latest restorable time may lag this much
    }

The expectations come from the stack's own config, so the tools judge the infrastructure
against what the stack declared rather than re-deriving it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformkit.outputs_json import json_kind, parse_outputs

CONTRACT_OUTPUT = "operations"
"""Name of the stack output holding the contract."""
CONTRACT_VERSION = 1
"""The contract version these tools read."""
DEFAULT_RTO_MINUTES = 60
"""Recovery time objective when the contract has none."""
DEFAULT_RPO_MINUTES = 15
"""Recovery point objective (maximum age of the latest restorable time) when it has none."""

EXPORT_HINT = (
    "export it from the Pulumi program, e.g. pulumi.export('operations', {...}) "
    "(see docs/operations.md, 'The operations contract')"
)

CommandRunner = Callable[[Sequence[str]], str]
"""Runs a command and returns its standard output; raises ``OutputsError`` on failure."""


class OutputsError(Exception):
    """The stack outputs could not be read, or do not hold a valid contract."""


@dataclass(frozen=True)
class DatabaseContract:
    """The stack's database and what the stack declared about it."""

    identifier: str
    subnet_group_name: str
    security_group_id: str
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    storage_encrypted: bool


@dataclass(frozen=True)
class OperationsContract:
    """Everything ``verify`` and ``dr-drill`` know about a stack, read from its outputs."""

    environment: str
    region: str | None
    url: str | None
    cluster_name: str
    service_name: str
    load_balancer_arn: str
    target_group_arn: str
    https: bool
    alarm_topic_arn: str | None
    min_task_azs: int
    database: DatabaseContract
    rto_minutes: int
    rpo_minutes: int


def parse_contract(outputs: Mapping[str, Any]) -> OperationsContract:
    """The contract in ``outputs`` (all of a stack's outputs, as ``pulumi stack output --json``).

    Raises ``OutputsError`` naming every missing or mistyped field at once.
    """
    raw = outputs.get(CONTRACT_OUTPUT)
    if raw is None:
        raise OutputsError(
            f"the stack has no '{CONTRACT_OUTPUT}' output, so the tools cannot tell which "
            f"resources belong to it: {EXPORT_HINT}"
        )
    if not isinstance(raw, Mapping):
        raise OutputsError(f"output '{CONTRACT_OUTPUT}' must be an object, got {json_kind(raw)}")
    reader = _Reader(raw, CONTRACT_OUTPUT)
    version = reader.integer("contractVersion", default=CONTRACT_VERSION)
    if version != CONTRACT_VERSION:
        raise OutputsError(
            f"output '{CONTRACT_OUTPUT}' has contractVersion {version}; this platformkit "
            f"reads version {CONTRACT_VERSION}: upgrade platformkit or the stack"
        )
    db_raw = raw.get("database")
    db = _Reader(db_raw if isinstance(db_raw, Mapping) else {}, f"{CONTRACT_OUTPUT}.database")
    if not isinstance(db_raw, Mapping):
        reader.problems.append(f"{CONTRACT_OUTPUT}.database is missing (an object)")
    environment = reader.string("environment")
    database = DatabaseContract(
        identifier=db.string("identifier"),
        subnet_group_name=db.string("subnetGroupName"),
        security_group_id=db.string("securityGroupId"),
        multi_az=db.boolean("multiAz"),
        backup_retention_days=db.integer("backupRetentionDays"),
        deletion_protection=db.boolean("deletionProtection"),
        storage_encrypted=db.boolean("storageEncrypted", default=True),
    )
    contract = OperationsContract(
        environment=environment,
        region=reader.optional_string("region"),
        url=reader.optional_string("url"),
        cluster_name=reader.string("clusterName"),
        service_name=reader.string("serviceName"),
        load_balancer_arn=reader.string("loadBalancerArn"),
        target_group_arn=reader.string("targetGroupArn"),
        https=reader.boolean("https"),
        alarm_topic_arn=reader.optional_string("alarmTopicArn"),
        min_task_azs=reader.integer("minTaskAzs", default=2 if environment == "prod" else 1),
        database=database,
        rto_minutes=reader.integer("rtoMinutes", default=DEFAULT_RTO_MINUTES),
        rpo_minutes=reader.integer("rpoMinutes", default=DEFAULT_RPO_MINUTES),
    )
    problems = reader.problems + db.problems
    if problems:
        raise OutputsError(
            "the stack's operations contract is incomplete:\n  - "
            + "\n  - ".join(problems)
            + f"\n{EXPORT_HINT}"
        )
    return contract


def load_outputs(
    stack: str,
    outputs_file: Path | None = None,
    run: CommandRunner | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> dict[str, Any]:
    """A stack's outputs: from ``outputs_file`` when given, else from the Pulumi CLI.

    The CLI is asked without ``--show-secrets``: the contract holds no secret, and a secret
    output must never reach a CI log.
    """
    if outputs_file is not None:
        try:
            text = outputs_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise OutputsError(f"cannot read outputs file {outputs_file}: {exc.strerror}") from exc
        source = str(outputs_file)
    else:
        if which("pulumi") is None:
            raise OutputsError(
                "the Pulumi CLI is not on PATH: install it, or pass --outputs FILE with the "
                f"output of `pulumi stack output --json -s {stack}`"
            )
        text = (run or _run)(["pulumi", "stack", "output", "--json", "--stack", stack])
        source = f"`pulumi stack output --json --stack {stack}`"
    try:
        return parse_outputs(text, source)
    except ValueError as exc:
        raise OutputsError(str(exc)) from exc


def _run(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except OSError as exc:
        raise OutputsError(f"cannot run {command[0]}: {exc.strerror}") from exc
    if done.returncode != 0:
        detail = done.stderr.strip() or f"exit code {done.returncode}"
        raise OutputsError(f"`{' '.join(command)}` failed: {detail}")
    return done.stdout


class _Reader:
    """Reads typed fields of one JSON object, collecting every problem."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self._raw = raw
        self._where = where
        self.problems: list[str] = []

    def string(self, key: str) -> str:
        value = self._raw.get(key)
        if isinstance(value, str) and value:
            return value
        self._problem(key, "a non-empty string", value)
        return ""

    def optional_string(self, key: str) -> str | None:
        value = self._raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value
        self._problem(key, "a string", value)
        return None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self._raw.get(key, default)
        if isinstance(value, bool):
            return value
        self._problem(key, "true or false", value)
        return False

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._raw.get(key, default)
        # JSON numbers may arrive as floats (30.0); bools are ints in Python but not here.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self._problem(key, "an integer", value)
        return 0

    def _problem(self, key: str, expected: str, value: object) -> None:
        if value is None:
            self.problems.append(f"{self._where}.{key} is missing ({expected})")
        else:
            self.problems.append(f"{self._where}.{key} must be {expected}, got {value!r}")
