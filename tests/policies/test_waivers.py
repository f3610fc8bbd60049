"""Waiver file validation, expiry, suppression and the ``waived-violations`` report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import StackValidationArgs

from platformkit.policy import RULE_NAMES as KNOWN
from platformkit.policy import (
    WAIVERS_ENV,
    WaiverError,
    WaiverLedger,
    WaiverSet,
    build_policies,
    load_waivers,
    parse_waiver_message,
    parse_waivers,
)

from .helpers import REPO_ROOT, Reporter, resource_args

TODAY = dt.date(2026, 1, 15)
LISTENER = "aws:lb/listener:Listener"
HTTP = {"protocol": "HTTP", "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]}


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rule": "alb-https-only",
        "resource": "*-http",
        "reason": "dev has no certificate; PLAT-1",
        "owner": "platform-team",
        "expires": dt.date(2026, 1, 31),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def policies(*entries: dict[str, Any], ledger: WaiverLedger) -> dict[str, Any]:
    waivers = WaiverSet(parse_waivers(list(entries), KNOWN), today=lambda: TODAY)
    return {p.name: p for p in build_policies(waivers, ledger=ledger)}


def run_listener(pack: dict[str, Any], name: str) -> list[str]:
    reporter = Reporter()
    pack["alb-https-only"].validate(resource_args(LISTENER, HTTP, name=name), reporter)
    return reporter.messages


def stack_report(pack: dict[str, Any]) -> list[str]:
    reporter = Reporter()
    pack["waived-violations"].validate(StackValidationArgs([], {}), reporter)
    return reporter.messages


def test_active_waiver_suppresses_and_is_reported():
    ledger = WaiverLedger()
    pack = policies(entry(), ledger=ledger)
    assert run_listener(pack, "web-http") == []
    assert run_listener(pack, "web-https") != []  # glob does not match
    [line] = stack_report(pack)
    record = parse_waiver_message("Report every waived violation...\n" + line)
    assert record is not None
    assert (record.status, record.rule, record.owner, record.expires) == (
        "waived",
        "alb-https-only",
        "platform-team",
        "2026-01-31",
    )
    assert record.urn.endswith("::web-http")
    assert "redirecting to HTTPS" in record.message


def test_waiver_by_urn_glob():
    ledger = WaiverLedger()
    pack = policies(
        entry(resource="urn:pulumi:prod::*::aws:lb/listener:Listener::web-*"), ledger=ledger
    )
    assert run_listener(pack, "web-http") == []


def test_expired_waiver_stops_waiving_and_is_reported():
    ledger = WaiverLedger()
    pack = policies(entry(expires=dt.date(2026, 1, 14)), ledger=ledger)
    [message] = run_listener(pack, "web-http")
    assert "expired on 2026-01-14" in message
    records = [parse_waiver_message(m) for m in stack_report(pack)]
    assert [(r.status, r.rule) for r in records if r] == [("expired", "alb-https-only")]


def test_expired_waiver_matching_nothing_is_still_reported():
    pack = policies(entry(rule="rds-multi-az", expires="2025-12-31"), ledger=WaiverLedger())
    [record] = [parse_waiver_message(m) for m in stack_report(pack)]
    assert record is not None and record.status == "expired" and record.urn == ""


def test_expiry_day_itself_still_waives():
    pack = policies(entry(expires=TODAY), ledger=WaiverLedger())
    assert run_listener(pack, "web-http") == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (entry(owner=None), "waivers[0] (rule 'alb-https-only'): missing 'owner'"),
        (entry(owner="  "), "'owner' must be a non-empty string"),
        (entry(expires="next year"), "'expires' must be a date YYYY-MM-DD, got 'next year'"),
        (entry(rule="no-such-rule"), "unknown rule 'no-such-rule'"),
        (entry(rule="waived-violations"), "unknown rule 'waived-violations'"),
        (entry(ticket="PLAT-1"), "unknown key 'ticket'"),
        ("not a mapping", "waivers[0]: expected a mapping"),
    ],
)
def test_invalid_waivers_are_rejected_naming_the_entry(bad, expected):
    from platformkit.policy import WAIVABLE_RULE_NAMES

    with pytest.raises(WaiverError) as info:
        parse_waivers({"waivers": [bad]}, WAIVABLE_RULE_NAMES, "w.yaml")
    assert any(expected in error for error in info.value.errors), info.value.errors


def test_shipped_waiver_file_is_valid(monkeypatch):
    monkeypatch.delenv(WAIVERS_ENV, raising=False)
    waivers = load_waivers(REPO_ROOT / "policies" / "waivers.yaml")
    assert all(w.owner and w.reason for w in waivers.waivers)


def test_env_var_overrides_path_and_must_exist(monkeypatch, tmp_path: Path):
    custom = tmp_path / "w.yaml"
    custom.write_text(
        "- rule: rds-multi-az\n  resource: app-db\n  reason: r\n"
        "  owner: o\n  expires: 2030-01-01\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(WAIVERS_ENV, str(custom))
    assert [w.rule for w in load_waivers(None).waivers] == ["rds-multi-az"]
    monkeypatch.setenv(WAIVERS_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(WaiverError, match="does not exist"):
        load_waivers(None)


def test_bad_waiver_file_stops_build_policies(monkeypatch, tmp_path: Path):
    bad = tmp_path / "w.yaml"
    bad.write_text("- rule: alb-https-only\n  resource: x\n", encoding="utf-8")
    monkeypatch.setenv(WAIVERS_ENV, str(bad))
    with pytest.raises(WaiverError, match="missing 'owner'"):
        build_policies()
