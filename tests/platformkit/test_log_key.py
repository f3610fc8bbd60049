"""``create_log_key``: the stack's customer-managed key for log groups and Performance Insights."""

from __future__ import annotations

import json

from platformkit import create_log_key
from tests.platformkit.conftest import Run


def test_log_key_rotates_and_lets_only_this_accounts_log_groups_use_it(run: Run) -> None:
    recording = run(lambda: create_log_key("analytics", tags={"owner": "platform"}))
    key = recording.one("aws:kms/key:Key")
    assert key.name == "analytics-logs-key"
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.inputs["tags"] == {"owner": "platform"}
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministers"]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"
    }
    logs = statements["CloudWatchLogsEncrypt"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "kms:Decrypt*" in logs["Action"] and "kms:*" not in logs["Action"]
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"
        }
    }
