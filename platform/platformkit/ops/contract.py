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
against what the stack declared rather than re-deriving it. A stack builds an
``OperationsContract`` and exports ``to_json()``; ``parse_contract`` reads the output back into
the same class, so the keys written and read cannot drift apart. ``load_outputs`` fetches a
stack's outputs from a file or the Pulumi CLI.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, TypeVar, get_type_hints

from platformkit.outputs_json import json_kind, parse_outputs

CONTRACT_OUTPUT = "operations"
"""Name of the stack output holding the contract."""
CONTRACT_VERSION = 1
"""The contract version these tools read and ``OperationsContract.to_json`` writes."""
DEFAULT_RTO_MINUTES = 60
"""Recovery time objective when the contract has none."""
DEFAULT_RPO_MINUTES = 15
"""Recovery point objective (maximum age of the latest restorable time) when it has none."""

EXPORT_HINT = (
    "export it from the Pulumi program, e.g. pulumi.export('operations', "
    "OperationsContract(...).to_json()) (see docs/operations.md, 'The operations contract')"
)

CommandRunner = Callable[[Sequence[str]], str]
"""Runs a command and returns its standard output; raises ``OutputsError`` on failure."""

_KEY = "json_key"
_DEFAULT = "default_when_absent"

Name = TypeVar("Name")
"""What a field naming a resource holds: ``pulumi.Output[str]`` while the stack builds the
contract (names and ARNs are known only once deployed; ``pulumi preview`` shows the rest),
``str`` once the tools have parsed it."""


class OutputsError(Exception):
    """The stack outputs could not be read, or do not hold a valid contract."""


_REQUIRED: Any = object()
"""``_key``'s ``when_absent`` when a stack's output must hold the field."""


def _key(name: str, when_absent: Any = _REQUIRED) -> Any:
    """A contract field: its JSON key and the value assumed when a stack's output omits it
    (``when_absent``; without it the field is required). The stack always writes every field;
    those values only serve stacks deployed before the field existed."""
    metadata: dict[str, Any] = {_KEY: name}
    if when_absent is not _REQUIRED:
        metadata[_DEFAULT] = when_absent
    return field(metadata=metadata)


@dataclass(frozen=True)
class DatabaseContract(Generic[Name]):
    """The stack's database and what the stack declared about it."""

    identifier: Name = _key("identifier")
    subnet_group_name: Name = _key("subnetGroupName")
    security_group_id: Name = _key("securityGroupId")
    multi_az: bool = _key("multiAz")
    backup_retention_days: int = _key("backupRetentionDays")
    deletion_protection: bool = _key("deletionProtection")
    storage_encrypted: bool = _key("storageEncrypted", when_absent=True)


@dataclass(frozen=True)
class OperationsContract(Generic[Name]):
    """Everything ``verify`` and ``dr-drill`` know about a stack.

    The stack builds one and exports ``to_json()`` as its ``operations`` output; the tools read
    it back with ``parse_contract``. Both directions go through the field list below, so the
    exported keys and the keys read are the same by construction.
    """

    environment: str = _key("environment")
    region: str | None = _key("region", when_absent=None)
    url: Name | None = _key("url", when_absent=None)
    cluster_name: Name = _key("clusterName")
    service_name: Name = _key("serviceName")
    load_balancer_arn: Name = _key("loadBalancerArn")
    target_group_arn: Name = _key("targetGroupArn")
    https: bool = _key("https")
    alarm_topic_arn: Name | None = _key("alarmTopicArn", when_absent=None)
    min_task_azs: int = _key("minTaskAzs")
    """Absent: 2 in ``prod``, else 1 (see ``parse_contract``)."""
    database: DatabaseContract[Name] = _key("database")
    rto_minutes: int = _key("rtoMinutes", when_absent=DEFAULT_RTO_MINUTES)
    rpo_minutes: int = _key("rpoMinutes", when_absent=DEFAULT_RPO_MINUTES)

    def to_json(self) -> dict[str, Any]:
        """The ``operations`` output: ``contractVersion`` and every field under its JSON key."""
        return {"contractVersion": CONTRACT_VERSION, **_to_json(self)}


def parse_contract(outputs: Mapping[str, Any]) -> OperationsContract[str]:
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
    problems: list[str] = []
    version_key = f"{CONTRACT_OUTPUT}.contractVersion"
    version = _integer(raw.get("contractVersion", CONTRACT_VERSION), version_key, problems)
    if not problems and version != CONTRACT_VERSION:
        raise OutputsError(
            f"output '{CONTRACT_OUTPUT}' has contractVersion {version}; this platformkit "
            f"reads version {CONTRACT_VERSION}: upgrade platformkit or the stack"
        )
    # Older stacks may omit minTaskAzs: production spreads tasks over two AZs.
    min_task_azs = 2 if raw.get("environment") == "prod" else 1
    contract: OperationsContract[str] = _from_json(
        OperationsContract, raw, CONTRACT_OUTPUT, problems, {"minTaskAzs": min_task_azs}
    )
    if problems:
        raise OutputsError(
            "the stack's operations contract is incomplete:\n  - "
            + "\n  - ".join(problems)
            + f"\n{EXPORT_HINT}"
        )
    return contract


def _to_json(contract: DatabaseContract[Any] | OperationsContract[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in fields(contract):
        value = getattr(contract, item.name)
        result[item.metadata[_KEY]] = (
            _to_json(value) if isinstance(value, DatabaseContract) else value
        )
    return result


def _from_json(
    cls: type[DatabaseContract[Any] | OperationsContract[Any]],
    raw: Mapping[str, Any],
    where: str,
    problems: list[str],
    when_absent: Mapping[str, Any] | None = None,
) -> Any:
    """Build ``cls`` from ``raw``, adding one line per missing or mistyped key to ``problems``
    (a nested object's lines after its parent's); a bad field gets a placeholder value."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    nested_problems: list[str] = []
    for item in fields(cls):
        key = item.metadata[_KEY]
        default = (when_absent or {}).get(key, item.metadata.get(_DEFAULT))
        value = raw.get(key, default)
        kind = hints[item.name]
        if getattr(kind, "__origin__", kind) is DatabaseContract:
            if not isinstance(value, Mapping):
                problems.append(f"{where}.{key} is missing (an object)")
                value = {}
            values[item.name] = _from_json(
                DatabaseContract, value, f"{where}.{key}", nested_problems
            )
        else:
            values[item.name] = _READERS[kind](value, f"{where}.{key}", problems)
    problems.extend(nested_problems)
    return cls(**values)


def _string(value: Any, where: str, problems: list[str]) -> str:
    if isinstance(value, str) and value:
        return value
    problems.append(_problem(where, "a non-empty string", value))
    return ""


def _optional_string(value: Any, where: str, problems: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    problems.append(_problem(where, "a string", value))
    return None


def _boolean(value: Any, where: str, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    problems.append(_problem(where, "true or false", value))
    return False


def _integer(value: Any, where: str, problems: list[str]) -> int:
    # JSON numbers may arrive as floats (30.0); bools are ints in Python but not here.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(_problem(where, "an integer", value))
    return 0


def _problem(where: str, expected: str, value: object) -> str:
    if value is None:
        return f"{where} is missing ({expected})"
    return f"{where} must be {expected}, got {value!r}"


_READERS: dict[object, Callable[[Any, str, list[str]], Any]] = {
    str: _string,
    Name: _string,
    str | None: _optional_string,
    Name | None: _optional_string,
    bool: _boolean,
    int: _integer,
}
"""The reader of each field type a contract uses."""


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
