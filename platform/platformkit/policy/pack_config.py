"""Policy-pack config files (``--policy-pack-config``): validation and effective settings.

The format is the CLI's: ``{"rule-name": "advisory"}`` or
``{"rule-name": {"enforcementLevel": "mandatory", "minimumDays": 30}}``, plus an optional
``"all"`` key carrying only a level. The CLI validates properties against each policy's
``config_schema``; ``validate_pack_config`` does the same offline, and stricter (unknown rules
and unknown keys are errors), so CI rejects a bad file before anything runs.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from .catalog import RULES_BY_NAME, get_rule
from .core import Rule, parse_level

ALL_KEY = "all"
LEVEL_KEY = "enforcementLevel"
ALLOWED_LEVELS = ("advisory", "mandatory", "disabled")
"""``remediate`` is refused: no rule here has a remediation, the SDK would run it as mandatory."""


class PackConfigError(ValueError):
    """A config file failed validation; ``errors`` names rule and key for each problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"invalid policy config {source}:\n  " + "\n  ".join(errors))


def properties_schema(rule: Rule) -> dict[str, Any]:
    """JSON schema of the rule's config properties (``enforcementLevel`` excluded)."""
    return {
        "type": "object",
        "properties": rule.config_properties(),
        "additionalProperties": False,
    }


def _level_error(where: str, value: Any) -> str | None:
    if value in ALLOWED_LEVELS:
        return None
    return f"{where}: enforcement level {value!r} is not one of {list(ALLOWED_LEVELS)}"


def validate_pack_config(config: Any) -> list[str]:
    """Every problem in a policy config, each message starting ``rule-name[.key]: ``.

    An empty list means the config is valid for this pack.
    """
    # Imported lazily (only offline validation needs it; the pack at runtime does not) and
    # untyped here, since jsonschema ships no type hints.
    validator_class: Any = importlib.import_module("jsonschema").Draft7Validator

    if not isinstance(config, Mapping):
        return [f"config: expected a JSON object of rule names, got {type(config).__name__}"]
    errors: list[str] = []
    for name, value in config.items():
        if name == ALL_KEY:
            level = value.get(LEVEL_KEY) if isinstance(value, Mapping) else value
            extra = set(value) - {LEVEL_KEY} if isinstance(value, Mapping) else set()
            if extra:
                errors.append(f"{ALL_KEY}: only {LEVEL_KEY} may be set, got {sorted(extra)}")
            message = _level_error(ALL_KEY, level)
            if message:
                errors.append(message)
            continue
        if name not in RULES_BY_NAME:
            errors.append(f"{name}: unknown rule (known rules: see docs/policies.md)")
            continue
        if isinstance(value, str):
            message = _level_error(name, value)
            if message:
                errors.append(message)
            continue
        if not isinstance(value, Mapping):
            errors.append(f"{name}: expected an enforcement level string or an object")
            continue
        if LEVEL_KEY in value:
            message = _level_error(f"{name}.{LEVEL_KEY}", value[LEVEL_KEY])
            if message:
                errors.append(message)
        properties = {k: v for k, v in value.items() if k != LEVEL_KEY}
        validator = validator_class(properties_schema(get_rule(name)))
        for error in sorted(validator.iter_errors(properties), key=lambda e: list(e.path)):
            path = "".join(
                f".{part}" if isinstance(part, str) else f"[{part}]" for part in error.path
            )
            if error.validator == "additionalProperties":
                unexpected = sorted(set(properties) - set(get_rule(name).config_properties()))
                for key in unexpected:
                    errors.append(f"{name}.{key}: unknown config key for this rule")
                continue
            errors.append(f"{name}{path}: {error.message}")
    return errors


def load_pack_config(path: Path) -> dict[str, Any]:
    """Read and validate a config file; raise ``PackConfigError`` listing every problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise PackConfigError(str(path), [f"not valid JSON: {error}"]) from error
    errors = validate_pack_config(data)
    if errors:
        raise PackConfigError(str(path), errors)
    assert isinstance(data, dict)
    return data


def effective_level(rule: Rule, config: Mapping[str, Any]) -> EnforcementLevel:
    """The level the SDK applies: the rule's entry, else ``all``, else the rule's default."""
    value = config.get(rule.name)
    if isinstance(value, Mapping):
        value = value.get(LEVEL_KEY)
    if value is None:
        value = config.get(ALL_KEY)
        if isinstance(value, Mapping):
            value = value.get(LEVEL_KEY)
    return parse_level(value) if isinstance(value, str) else rule.enforcement_level


def effective_settings(rule: Rule, config: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's config properties after applying schema defaults (what the CLI sends)."""
    value = config.get(rule.name)
    explicit = (
        {k: v for k, v in value.items() if k != LEVEL_KEY} if isinstance(value, Mapping) else {}
    )
    defaults = {
        key: schema["default"]
        for key, schema in rule.config_properties().items()
        if "default" in schema
    }
    return {**defaults, **explicit}
