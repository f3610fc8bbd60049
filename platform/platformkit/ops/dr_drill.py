"""``platformkit dr-drill``: prove the stack's database can be restored within its RTO.

The drill restores the newest automated snapshot of the stack's DB instance (or a manual
snapshot it takes first, with ``--new-snapshot`` or when none exists) into a temporary
instance in the stack's own DB subnet group and security group, waits until it is
``available``, and compares the measured time with the stack's ``rtoMinutes``. The temporary
instance (and any snapshot the drill took) is deleted afterwards, also when the drill fails
or is interrupted with Ctrl-C; ``--keep`` keeps it after a successful drill only.

Safety: the drill acts only on what the stack's ``operations`` output names. It refuses to
start when the DB instance does not sit in the declared subnet group and security group, and
it deletes only instances and snapshots that carry its tags for this stack and this source
and whose identifiers start with ``<source>-drill-``: never the source itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from platformkit.ops.aws import Clock, Sleep, call, error_code
from platformkit.ops.contract import OperationsContract
from platformkit.ops.limits import DEFAULT_POLL_SECONDS, DEFAULT_TIMEOUT_MINUTES

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import TagTypeDef

TAG_DRILL = "platformkit:dr-drill"
"""Tag on everything a drill creates; its value is the stack name."""
TAG_SOURCE = "platformkit:dr-drill-source"
"""Tag naming the DB instance the drill restored from."""
TAG_STARTED = "platformkit:dr-drill-started"
"""Tag with the drill's start time (UTC, ISO 8601): how old a leftover is."""
FAILED_STATES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "storage-full",
    }
)
MAX_IDENTIFIER = 63


class DrillError(Exception):
    """The drill could not run or its restore failed; the message says why."""


@dataclass(frozen=True)
class DrillResult:
    """What a finished drill measured."""

    stack: str
    source: str
    snapshot: str
    snapshot_type: str
    instance: str
    restore_seconds: float
    rto_minutes: int
    kept: bool

    @property
    def met_rto(self) -> bool:
        return self.restore_seconds <= self.rto_minutes * 60


Log = Callable[[str], None]


def drill_prefix(source: str) -> str:
    """Identifiers of everything a drill of ``source`` creates start with this."""
    return f"{source[: MAX_IDENTIFIER - len('-drill-') - 14].rstrip('-')}-drill-"


@dataclass
class _Drill:
    contract: OperationsContract[str]
    stack: str
    rds: RDSClient
    region: str
    sleep: Sleep
    clock: Clock
    now: Callable[[], datetime]
    log: Log
    poll_seconds: float

    @property
    def source(self) -> str:
        return self.contract.database.identifier

    def tags(self, started: datetime) -> list[TagTypeDef]:
        return [
            {"Key": TAG_DRILL, "Value": self.stack},
            {"Key": TAG_SOURCE, "Value": self.source},
            {"Key": TAG_STARTED, "Value": started.strftime("%Y-%m-%dT%H:%M:%SZ")},
        ]

    def describe_source(self) -> Mapping[str, Any]:
        try:
            response = call(
                self.region,
                lambda: self.rds.describe_db_instances(DBInstanceIdentifier=self.source),
            )
        except ClientError as exc:
            raise DrillError(
                f"DB instance {self.source} (from the stack's outputs) not found in region "
                f"{self.region} ({error_code(exc)}): check --region"
            ) from exc
        return response["DBInstances"][0]

    def check_source(self, instance: Mapping[str, Any]) -> None:
        db = self.contract.database
        group = instance.get("DBSubnetGroup", {}).get("DBSubnetGroupName")
        groups = [g.get("VpcSecurityGroupId") for g in instance.get("VpcSecurityGroups", [])]
        if group != db.subnet_group_name:
            raise DrillError(
                f"refusing to drill: {self.source} is in DB subnet group {group!r}, the stack's "
                f"outputs name {db.subnet_group_name!r}; re-read the outputs of the right stack"
            )
        if db.security_group_id not in groups:
            raise DrillError(
                f"refusing to drill: {self.source} is not behind security group "
                f"{db.security_group_id} named by the stack's outputs (it has {groups})"
            )

    def newest_automated_snapshot(self) -> str | None:
        snapshots = [
            snapshot
            for page in call(self.region, lambda: self._snapshot_pages("automated"))
            for snapshot in page
            if snapshot.get("Status") == "available" and snapshot.get("SnapshotCreateTime")
        ]
        if not snapshots:
            return None
        newest = max(snapshots, key=lambda s: s["SnapshotCreateTime"])
        return str(newest["DBSnapshotIdentifier"])

    def _snapshot_pages(self, kind: str) -> list[list[Mapping[str, Any]]]:
        paginator = self.rds.get_paginator("describe_db_snapshots")
        return [
            list(page["DBSnapshots"])
            for page in paginator.paginate(DBInstanceIdentifier=self.source, SnapshotType=kind)
        ]

    def wait(self, what: str, describe: Callable[[], str | None], deadline: float) -> None:
        """Poll ``describe`` (the status, ``None`` while not visible yet) until available."""
        while True:
            self.sleep(self.poll_seconds)
            status = describe()
            if status == "available":
                return
            if status in FAILED_STATES:
                raise DrillError(f"{what} ended in status {status}")
            if self.clock() > deadline:
                raise DrillError(f"{what} not available before the timeout (status {status})")
            self.log(f"{what}: {status or 'not visible yet'}")

    def instance_status(self, identifier: str) -> str | None:
        try:
            response = call(
                self.region,
                lambda: self.rds.describe_db_instances(DBInstanceIdentifier=identifier),
            )
        except ClientError as exc:
            if error_code(exc) == "DBInstanceNotFound":
                return None  # a restore can take a moment to become visible
            raise
        return str(response["DBInstances"][0].get("DBInstanceStatus"))

    def snapshot_status(self, identifier: str) -> str | None:
        try:
            response = call(
                self.region,
                lambda: self.rds.describe_db_snapshots(DBSnapshotIdentifier=identifier),
            )
        except ClientError as exc:
            if error_code(exc) == "DBSnapshotNotFound":
                return None
            raise
        return str(response["DBSnapshots"][0].get("Status"))


def run_drill(
    contract: OperationsContract[str],
    stack: str,
    rds: RDSClient,
    region: str,
    *,
    keep: bool = False,
    new_snapshot: bool = False,
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Sleep,
    clock: Clock,
    now: Callable[[], datetime],
    log: Log = lambda _line: None,
) -> DrillResult:
    """Restore, measure, clean up. Raises ``DrillError``; re-raises ``KeyboardInterrupt``
    after deleting what it created."""
    drill = _Drill(contract, stack, rds, region, sleep, clock, now, log, poll_seconds)
    source = drill.describe_source()
    drill.check_source(source)
    started = now()
    stamp = started.strftime("%Y%m%d%H%M%S")
    instance_id = f"{drill_prefix(drill.source)}{stamp}"
    created_instance = False
    created_snapshot: str | None = None
    succeeded = False
    deadline = clock() + timeout_minutes * 60
    try:
        snapshot = None if new_snapshot else drill.newest_automated_snapshot()
        snapshot_type = "automated"
        if snapshot is None:
            snapshot = f"{drill_prefix(drill.source)}{stamp}"
            snapshot_type = "manual"
            log(f"taking manual snapshot {snapshot} of {drill.source}")
            call(
                region,
                lambda: rds.create_db_snapshot(
                    DBSnapshotIdentifier=snapshot,
                    DBInstanceIdentifier=drill.source,
                    Tags=drill.tags(started),
                ),
            )
            created_snapshot = snapshot
            drill.wait(f"snapshot {snapshot}", lambda: drill.snapshot_status(snapshot), deadline)
        log(f"restoring {snapshot_type} snapshot {snapshot} into {instance_id}")
        restore_started = clock()
        call(
            region,
            lambda: rds.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier=instance_id,
                DBSnapshotIdentifier=snapshot,
                DBInstanceClass=str(source.get("DBInstanceClass")),
                DBSubnetGroupName=contract.database.subnet_group_name,
                VpcSecurityGroupIds=[contract.database.security_group_id],
                MultiAZ=False,
                PubliclyAccessible=False,
                DeletionProtection=False,
                CopyTagsToSnapshot=False,
                Tags=drill.tags(started),
            ),
        )
        created_instance = True
        drill.wait(f"instance {instance_id}", lambda: drill.instance_status(instance_id), deadline)
        restore_seconds = clock() - restore_started
        succeeded = True
        return DrillResult(
            stack=stack,
            source=drill.source,
            snapshot=snapshot,
            snapshot_type=snapshot_type,
            instance=instance_id,
            restore_seconds=restore_seconds,
            rto_minutes=contract.rto_minutes,
            kept=keep,
        )
    except ClientError as exc:
        raise DrillError(f"AWS refused a drill step: {exc}") from exc
    finally:
        if not (keep and succeeded):
            if created_instance:
                _delete_instance(drill, instance_id)
            if created_snapshot is not None:
                _delete_snapshot(drill, created_snapshot)


def _delete_instance(drill: _Drill, identifier: str) -> bool:
    """Delete a drill instance after re-checking it is one; ``False`` when it could not."""
    if identifier == drill.source or not identifier.startswith(drill_prefix(drill.source)):
        drill.log(f"refusing to delete {identifier}: not a drill instance of {drill.source}")
        return False
    try:
        instances = call(
            drill.region,
            lambda: drill.rds.describe_db_instances(DBInstanceIdentifier=identifier),
        )["DBInstances"]
        if not instances:
            return True
        instance = instances[0]
        if not _is_drill_resource(drill, instance.get("TagList"), instance.get("DBInstanceArn")):
            drill.log(f"refusing to delete {identifier}: it lacks the drill's tags")
            return False
        if instance.get("DeletionProtection"):
            # A restore may copy the source's protection; the drill instance must not keep it.
            call(
                drill.region,
                lambda: drill.rds.modify_db_instance(
                    DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True
                ),
            )
        call(
            drill.region,
            lambda: drill.rds.delete_db_instance(
                DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            ),
        )
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return True
        drill.log(
            f"could not delete {identifier} ({error_code(exc)}): run "
            f"`platformkit dr-drill --cleanup --stack {drill.stack}`"
        )
        return False
    drill.log(f"deleting temporary instance {identifier}")
    return True


def _delete_snapshot(drill: _Drill, identifier: str) -> bool:
    if not identifier.startswith(drill_prefix(drill.source)):
        return False
    try:
        call(drill.region, lambda: drill.rds.delete_db_snapshot(DBSnapshotIdentifier=identifier))
    except ClientError as exc:
        if error_code(exc) == "DBSnapshotNotFound":
            return True
        drill.log(f"could not delete snapshot {identifier} ({error_code(exc)})")
        return False
    drill.log(f"deleted drill snapshot {identifier}")
    return True


def _is_drill_resource(drill: _Drill, tag_list: Any, arn: str | None) -> bool:
    tags = tag_list
    if tags is None and arn:
        listing = call(drill.region, lambda: drill.rds.list_tags_for_resource(ResourceName=arn))
        tags = listing.get("TagList", [])
    values = {tag.get("Key"): tag.get("Value") for tag in tags or []}
    return values.get(TAG_DRILL) == drill.stack and values.get(TAG_SOURCE) == drill.source


def cleanup(
    contract: OperationsContract[str],
    stack: str,
    rds: RDSClient,
    region: str,
    *,
    log: Log = lambda _line: None,
) -> list[str]:
    """Delete every drill instance and drill snapshot this stack's drills left behind."""
    drill = _Drill(contract, stack, rds, region, lambda _s: None, lambda: 0.0,
                   datetime.now, log, 0.0)  # fmt: skip
    prefix = drill_prefix(drill.source)
    deleted: list[str] = []
    try:
        for instance in _all_instances(drill):
            identifier = str(instance["DBInstanceIdentifier"])
            if not identifier.startswith(prefix):
                continue
            if _is_drill_resource(drill, instance.get("TagList"), instance.get("DBInstanceArn")):
                if _delete_instance(drill, identifier):
                    deleted.append(identifier)
        for page in call(region, lambda: drill._snapshot_pages("manual")):
            for snapshot in page:
                identifier = str(snapshot["DBSnapshotIdentifier"])
                if identifier.startswith(prefix) and _is_drill_resource(
                    drill, snapshot.get("TagList"), snapshot.get("DBSnapshotArn")
                ):
                    with suppress(ClientError):
                        if _delete_snapshot(drill, identifier):
                            deleted.append(identifier)
    except ClientError as exc:
        raise DrillError(f"listing leftovers failed: {exc}") from exc
    return deleted


def _all_instances(drill: _Drill) -> Iterator[Mapping[str, Any]]:
    paginator = drill.rds.get_paginator("describe_db_instances")
    pages = call(drill.region, lambda: list(paginator.paginate()))
    for page in pages:
        yield from page["DBInstances"]
