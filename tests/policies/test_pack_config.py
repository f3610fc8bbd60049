"""Per-environment config files and the offline config validator."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel

from platformkit.policy import (
    RULES,
    PackConfigError,
    effective_level,
    effective_settings,
    get_rule,
    load_pack_config,
    validate_pack_config,
)

from .helpers import CONFIG_DIR


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_shipped_configs_are_valid_and_cover_every_rule(env):
    config = load_pack_config(CONFIG_DIR / f"{env}.json")
    assert set(config) == {rule.name for rule in RULES}


def test_environment_thresholds_and_levels():
    dev = load_pack_config(CONFIG_DIR / "dev.json")
    prod = load_pack_config(CONFIG_DIR / "prod.json")
    retention, backups = get_rule("cloudwatch-log-retention"), get_rule("rds-backup-retention")
    assert effective_settings(retention, dev)["minimumDays"] == 7
    assert effective_settings(retention, prod)["minimumDays"] == 365
    assert effective_settings(backups, dev)["minimumDays"] == 1
    assert effective_settings(backups, prod)["minimumDays"] == 30
    for name in ("alb-https-only", "rds-multi-az", "rds-deletion-protection"):
        assert effective_level(get_rule(name), dev) == EnforcementLevel.ADVISORY
        assert effective_level(get_rule(name), prod) == EnforcementLevel.MANDATORY
    assert effective_level(get_rule("cloudwatch-log-group-kms"), dev) == EnforcementLevel.ADVISORY
    assert effective_level(get_rule("cloudwatch-log-group-kms"), prod) == EnforcementLevel.MANDATORY
    assert effective_settings(get_rule("alb-access-log-retention"), prod)["minimumDays"] == 365
    required = effective_settings(get_rule("waf-managed-rule-groups"), prod)["requiredRuleGroups"]
    assert {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    } <= set(required)
    assert effective_settings(get_rule("rds-storage-encrypted"), prod)["failOnUnknown"] is True
    assert effective_settings(get_rule("rds-storage-encrypted"), dev)["failOnUnknown"] is False


def test_good_config_passes():
    assert (
        validate_pack_config(
            {
                "all": "advisory",
                "rds-multi-az": "disabled",
                "rds-backup-retention": {"enforcementLevel": "mandatory", "minimumDays": 14.0},
                "ec2-no-world-ingress": {"allowedPorts": [443]},
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"rds-multi-azz": "advisory"}, "rds-multi-azz: unknown rule"),
        (
            {"rds-backup-retention": {"minimumDays": "seven"}},
            "rds-backup-retention.minimumDays: 'seven' is not of type 'integer'",
        ),
        (
            {"rds-backup-retention": {"minimumDays": 90}},
            "rds-backup-retention.minimumDays: 90 is greater than the maximum of 35",
        ),
        (
            {"cloudwatch-log-retention": {"minimumDays": 10}},
            "cloudwatch-log-retention.minimumDays: 10 is not one of",
        ),
        (
            {"rds-backup-retention": {"minimumDayz": 7}},
            "rds-backup-retention.minimumDayz: unknown config key",
        ),
        (
            {"rds-backup-retention": {"failOnUnknown": "yes"}},
            "rds-backup-retention.failOnUnknown: 'yes' is not of type 'boolean'",
        ),
        (
            {"ec2-no-world-ingress": {"allowedPorts": [70000]}},
            "ec2-no-world-ingress.allowedPorts[0]: 70000 is greater than",
        ),
        ({"rds-multi-az": "blocking"}, "rds-multi-az: enforcement level 'blocking'"),
        (
            {"rds-multi-az": {"enforcementLevel": "remediate"}},
            "rds-multi-az.enforcementLevel: enforcement level 'remediate'",
        ),
        ({"rds-multi-az": 3}, "rds-multi-az: expected an enforcement level string or an object"),
        ({"all": {"minimumDays": 3}}, "all: only enforcementLevel may be set"),
        ([], "config: expected a JSON object"),
    ],
)
def test_bad_config_is_rejected_naming_rule_and_key(config, expected):
    errors = validate_pack_config(config)
    assert any(error.startswith(expected) for error in errors), errors


def test_load_pack_config_raises_with_every_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"nope": "advisory", "rds-multi-az": "x"}), encoding="utf-8")
    with pytest.raises(PackConfigError) as info:
        load_pack_config(path)
    assert len(info.value.errors) == 2 and str(path) in str(info.value)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_schema_defaults_satisfy_the_schema(rule):
    defaults = {k: s["default"] for k, s in rule.config_properties().items() if "default" in s}
    assert validate_pack_config({rule.name: defaults}) == []
