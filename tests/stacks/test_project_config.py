"""Pulumi.yaml's config declarations say what the components accept: the same constants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from platformkit.cluster import CAPACITY_PROVIDER
from platformkit.database import BACKUP_RETENTION_DAYS, ENGINE
from platformkit.network import AZ_COUNT, NAT_STRATEGY, VPC_ENDPOINT
from platformkit.validation import LOG_RETENTION, OneOf
from platformkit.web_service import FARGATE_CPU, FARGATE_MEMORY, FARGATE_MEMORY_MIB

ROOT = Path(__file__).resolve().parents[2]
CONFIG: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text("utf-8"))[
    "config"
]


def test_az_count_states_the_networks_range() -> None:
    declared = CONFIG["azCount"]
    assert f"{AZ_COUNT.low} to {AZ_COUNT.high}" in declared["description"]
    assert AZ_COUNT.accepts(declared["default"])


def test_backup_retention_states_the_databases_maximum() -> None:
    declared = CONFIG["dbBackupRetentionDays"]
    assert declared["description"].endswith(f"1 to {BACKUP_RETENTION_DAYS.high}.")
    assert BACKUP_RETENTION_DAYS.accepts(declared["default"])


@pytest.mark.parametrize(
    ("key", "choices"),
    [
        ("natStrategy", NAT_STRATEGY),
        ("capacityProvider", CAPACITY_PROVIDER),
        ("dbEngine", ENGINE),
        ("vpcEndpoints", VPC_ENDPOINT),
    ],
)
def test_choice_keys_list_every_value_the_component_accepts(key: str, choices: OneOf) -> None:
    declared = CONFIG[key]
    for value in choices.values:
        assert value in declared["description"], (key, value)
    defaults = (
        declared["default"] if isinstance(declared["default"], list) else [declared["default"]]
    )
    assert all(choices.accepts(value) for value in defaults), (key, defaults)


def test_retention_keys_default_to_a_cloudwatch_retention() -> None:
    retention_keys = [k for k, v in CONFIG.items() if "CloudWatch retention" in v["description"]]
    assert {"flowLogRetentionDays", "logRetentionDays"} <= set(retention_keys)
    for key in retention_keys:
        assert LOG_RETENTION.accepts(CONFIG[key]["default"]), key


def test_task_size_defaults_are_a_fargate_size() -> None:
    cpu, memory = CONFIG["serviceCpu"]["default"], CONFIG["serviceMemory"]["default"]
    assert FARGATE_CPU.accepts(cpu) and FARGATE_MEMORY_MIB.accepts(memory)
    assert memory in FARGATE_MEMORY[cpu]
    shown = ", ".join(map(str, list(FARGATE_MEMORY)[:5]))
    assert shown in CONFIG["serviceCpu"]["description"]
