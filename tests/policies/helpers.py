"""Build validator arguments exactly as the SDK's analyzer does, and collect violations."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from platformkit.policy import get_rule

UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE
UNKNOWN_STRING = UNKNOWN_STRING_VALUE
STACK = "urn:pulumi:prod::ecommerce-analytics"
REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "policies" / "config"


def urn(type_token: str, name: str) -> str:
    return f"{STACK}::{type_token}::{name}"


def sdk_shape(value: Any) -> Any:
    """What a value looks like after the gRPC Struct round trip: every number is a float."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Mapping):
        return {k: sdk_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sdk_shape(v) for v in value]
    return value


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(
    type_token: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    name: str = "res",
) -> ResourceValidationArgs:
    proxied = unknown_checking_proxy(sdk_shape(copy.deepcopy(dict(props))))
    return ResourceValidationArgs(
        type_token, proxied, urn(type_token, name), name, options(), None, dict(config or {})
    )


def policy_resource(
    type_token: str,
    name: str,
    props: Mapping[str, Any],
    prop_deps: Mapping[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    proxied = unknown_checking_proxy(sdk_shape(copy.deepcopy(dict(props))))
    deps = dict(prop_deps or {})
    flat = [d for group in deps.values() for d in group]
    return PolicyResource(
        type_token, proxied, urn(type_token, name), name, options(), None, None, flat, deps
    )


class Reporter:
    """A list-collecting ``ReportViolation``."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.violations.append((message, urn))

    @property
    def messages(self) -> list[str]:
        return [m for m, _ in self.violations]


def run_rule(
    rule_name: str,
    type_token: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    """Run a resource rule the way the pack does (only on its declared types); return messages."""
    reporter = Reporter()
    get_rule(rule_name).check(resource_args(type_token, props, config), reporter)
    return reporter.messages


def run_stack_rule(
    rule_name: str, resources: list[PolicyResource], config: Mapping[str, Any] | None = None
) -> Reporter:
    reporter = Reporter()
    get_rule(rule_name).check(StackValidationArgs(resources, dict(config or {})), reporter)
    return reporter
