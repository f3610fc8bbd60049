"""docs/policies.md lists every rule; the generated table must match the code and configs."""

from __future__ import annotations

from platformkit.policy import RULES
from platformkit.policy.docs import load_configs, main, regenerate, render_table

from .helpers import REPO_ROOT


def test_rules_table_is_up_to_date():
    document = (REPO_ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    expected = regenerate(document, render_table(load_configs(REPO_ROOT)))
    assert document == expected, "run: python -m platformkit.policy.docs"


def test_every_rule_is_listed():
    document = (REPO_ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    missing = [rule.name for rule in RULES if f"| `{rule.name}` |" not in document]
    assert missing == []


def test_check_mode_exit_code():
    assert main(["--root", str(REPO_ROOT), "--check"]) == 0
