"""Unknown values at preview: the SDK's advisory downgrade, and ``failOnUnknown``.

The SDK wraps props in a proxy that raises ``UnknownValueError`` when a validator reads an
unknown; its analyzer catches that and emits an ADVISORY "can't run policy" diagnostic. These
tests drive the real analyzer servicer, so they prove what a CLI user would see.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UnknownValueError

from platformkit.policy import UNKNOWN_PREFIX, WaiverSet, build_policies, get_rule

from .helpers import (
    CONFIG_DIR,
    UNKNOWN_BOOL,
    UNKNOWN_STRING,
    Reporter,
    resource_args,
    run_rule,
    urn,
)

DB = "aws:rds/instance:Instance"
TASK = "aws:ecs/taskDefinition:TaskDefinition"


def _policy(name: str) -> Any:
    return next(p for p in build_policies(WaiverSet.empty()) if p.name == name)


def test_pure_validator_raises_the_sdk_unknown_error():
    validate: Any = get_rule("rds-storage-encrypted").validate
    with pytest.raises(UnknownValueError):
        validate(resource_args(DB, {"storageEncrypted": UNKNOWN_BOOL}), Reporter())


def test_without_fail_on_unknown_the_policy_defers_to_the_sdk():
    args = resource_args(TASK, {"containerDefinitions": UNKNOWN_STRING})
    with pytest.raises(UnknownValueError):
        _policy("ecs-no-secrets-in-environment").validate(args, Reporter())


def test_fail_on_unknown_reports_a_violation_naming_the_property():
    reporter = Reporter()
    args = resource_args(TASK, {"containerDefinitions": UNKNOWN_STRING}, {"failOnUnknown": True})
    _policy("ecs-no-secrets-in-environment").validate(args, reporter)
    assert len(reporter.messages) == 1
    assert reporter.messages[0].startswith(UNKNOWN_PREFIX)
    assert ".containerDefinitions" in reporter.messages[0]


def test_violations_found_before_an_unknown_are_kept():
    props = {"password": "hunter2", "storageEncrypted": UNKNOWN_BOOL}
    reporter = Reporter()
    _policy("rds-no-literal-master-password").validate(resource_args(DB, props), reporter)
    assert reporter.messages  # password is known and literal
    with pytest.raises(UnknownValueError):
        _policy("rds-storage-encrypted").validate(resource_args(DB, props), Reporter())


def _servicer(config: dict[str, Any]) -> _PolicyAnalyzerServicer:
    servicer = _PolicyAnalyzerServicer(
        "platformkit-aws", "0.1.0", build_policies(WaiverSet.empty()), EnforcementLevel.MANDATORY
    )
    request = proto.ConfigureAnalyzerRequest()
    for name, value in config.items():
        level = value.pop("enforcementLevel", "mandatory")
        entry = request.policyConfig[name]
        entry.enforcementLevel = {"mandatory": proto.MANDATORY, "advisory": proto.ADVISORY}[level]
        entry.properties.update(value)
    servicer.Configure(request, None)
    return servicer


def _analyze(
    servicer: _PolicyAnalyzerServicer,
    props: dict[str, Any],
    policy: str = "rds-storage-encrypted",
) -> list[Any]:
    properties = struct_pb2.Struct()
    json_format.ParseDict(props, properties)
    request = proto.AnalyzeRequest(type=DB, properties=properties, urn=urn(DB, "db"), name="db")
    response = servicer.Analyze(request, None)
    return [d for d in response.diagnostics if d.policyName == policy]


def test_real_analyzer_downgrades_unknown_to_advisory_by_default():
    diagnostics = _analyze(_servicer({}), {"storageEncrypted": UNKNOWN_BOOL})
    assert len(diagnostics) == 1
    assert diagnostics[0].enforcementLevel == proto.ADVISORY
    assert "can't run policy" in diagnostics[0].message


def test_real_analyzer_fails_unknown_when_configured_as_in_prod():
    prod = json.loads((CONFIG_DIR / "prod.json").read_text(encoding="utf-8"))
    servicer = _servicer({"rds-storage-encrypted": dict(prod["rds-storage-encrypted"])})
    diagnostics = _analyze(servicer, {"storageEncrypted": UNKNOWN_BOOL})
    assert len(diagnostics) == 1
    assert diagnostics[0].enforcementLevel == proto.MANDATORY
    assert UNKNOWN_PREFIX in diagnostics[0].message


def test_real_analyzer_sees_floats_and_passes_known_compliant_values():
    servicer = _servicer({"rds-storage-encrypted": {"failOnUnknown": True}})
    assert _analyze(servicer, {"storageEncrypted": True, "backupRetentionPeriod": 7}) == []


# --- a computed final snapshot name ------------------------------------------------------
# Database names its final snapshot after a RandomId, so a preview of a new stack sees it
# unknown: that is a name the update will set, not a missing one.

SNAPSHOT_OK = {"skipFinalSnapshot": False, "finalSnapshotIdentifier": UNKNOWN_STRING}


def test_unknown_final_snapshot_name_counts_as_set():
    assert run_rule("rds-final-snapshot", DB, SNAPSHOT_OK) == []


@pytest.mark.parametrize(
    "props",
    [
        {"skipFinalSnapshot": False},
        {"skipFinalSnapshot": False, "finalSnapshotIdentifier": ""},
        {"skipFinalSnapshot": True, "finalSnapshotIdentifier": UNKNOWN_STRING},
    ],
    ids=["missing", "empty", "skipped"],
)
def test_missing_or_skipped_final_snapshot_is_still_reported(props):
    assert len(run_rule("rds-final-snapshot", DB, props)) == 1


@pytest.mark.parametrize("config", [{}, {"failOnUnknown": True}], ids=["default", "failOnUnknown"])
def test_real_analyzer_passes_an_unknown_final_snapshot_name(config):
    servicer = _servicer({"rds-final-snapshot": dict(config)})
    assert _analyze(servicer, SNAPSHOT_OK, "rds-final-snapshot") == []


def test_real_analyzer_fails_a_missing_final_snapshot_name_as_mandatory():
    servicer = _servicer({"rds-final-snapshot": {}})
    diagnostics = _analyze(servicer, {"skipFinalSnapshot": False}, "rds-final-snapshot")
    assert len(diagnostics) == 1
    assert diagnostics[0].enforcementLevel == proto.MANDATORY
    assert "finalSnapshotIdentifier is not set" in diagnostics[0].message
