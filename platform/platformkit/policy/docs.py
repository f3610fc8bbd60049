"""Regenerate the rule table in ``docs/policies.md`` from the catalog and the env configs.

    python -m platformkit.policy.docs            # rewrite the table in place
    python -m platformkit.policy.docs --check    # exit 1 if the doc is out of date

Only the text between the BEGIN/END markers is generated; the prose around it is hand-written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .catalog import RULES
from .core import FAIL_ON_UNKNOWN, Rule
from .pack_config import effective_level, effective_settings

BEGIN = "<!-- BEGIN GENERATED RULES TABLE (python -m platformkit.policy.docs) -->"
END = "<!-- END GENERATED RULES TABLE -->"
ENVIRONMENTS = ("dev", "prod")
REPO_ROOT = Path(__file__).resolve().parents[3]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(value: Any) -> str:
    if isinstance(value, list):
        return (
            "[" + ", ".join(str(v) for v in value) + "]"
            if len(value) <= 4
            else f"{len(value)} items"
        )
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _settings(rule: Rule, configs: Mapping[str, Mapping[str, Any]]) -> str:
    """Per-environment values of keys that some environment sets explicitly."""
    parts: list[str] = []
    keys = [k for k in rule.config_properties() if k != FAIL_ON_UNKNOWN]
    for env, config in configs.items():
        entry = config.get(rule.name)
        explicit = set(entry) if isinstance(entry, Mapping) else set()
        settings = effective_settings(rule, config)
        shown = [f"{k}={_short(settings[k])}" for k in keys if k in explicit]
        if settings.get(FAIL_ON_UNKNOWN):
            shown.append(f"{FAIL_ON_UNKNOWN}")
        if shown:
            parts.append(f"{env}: " + ", ".join(shown))
    return "; ".join(parts) or "–"


def render_table(configs: Mapping[str, Mapping[str, Any]]) -> str:
    envs = list(configs)
    header = ["Rule", "Checks", "Severity", *envs, "Settings", "Checkov", "cdk-nag", "AWSGuard"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rule in RULES:
        row = [
            f"`{rule.name}`",
            _cell(rule.description) + (" (stack)" if rule.kind == "stack" else ""),
            rule.severity.value,
            *[effective_level(rule, configs[env]).value for env in envs],
            _cell(_settings(rule, configs)),
            ", ".join(rule.checkov) or "–",
            ", ".join(rule.cdk_nag) or "–",
            ", ".join(rule.awsguard) or "–",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def load_configs(root: Path) -> dict[str, dict[str, Any]]:
    return {
        env: json.loads((root / "policies" / "config" / f"{env}.json").read_text(encoding="utf-8"))
        for env in ENVIRONMENTS
    }


def regenerate(document: str, table: str) -> str:
    """``document`` with the text between the markers replaced by ``table``."""
    start = document.index(BEGIN) + len(BEGIN)
    end = document.index(END)
    return document[:start] + "\n" + table + "\n" + document[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platformkit.policy.docs")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    parser.add_argument("--check", action="store_true", help="fail if docs/policies.md is stale")
    options = parser.parse_args(argv)
    path = options.root / "docs" / "policies.md"
    current = path.read_text(encoding="utf-8")
    updated = regenerate(current, render_table(load_configs(options.root)))
    if options.check:
        if updated != current:
            print(f"{path} is out of date; run python -m platformkit.policy.docs", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
