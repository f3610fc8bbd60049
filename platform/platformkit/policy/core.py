"""The rule model shared by every area module: metadata, property helpers and policy building.

A rule is a pure validator plus the metadata reports need (severity, remediation, the Checkov /
cdk-nag / AWSGuard IDs it corresponds to, its config schema, the resource types it judges).
``Rule.check`` is the one place that filters resources by those types; ``Rule.to_policy`` turns
the rule into the SDK's ``ResourceValidationPolicy`` or ``StackValidationPolicy``, wrapping
``check`` so that unknown values and waivers are handled the same way for every rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import Policy
from pulumi_policy.proxy import UnknownValueError

ResourceValidator = Callable[[ResourceValidationArgs, ReportViolation], None]
"""A pure resource validator, called exactly as the SDK calls ``validate``."""

StackValidator = Callable[[StackValidationArgs, ReportViolation], None]
"""A pure stack validator, called exactly as the SDK calls ``validate``."""

Kind = Literal["resource", "stack"]

FRAMEWORK_NAME = "platformkit-aws-baseline"
"""Compliance framework name every rule reports; ``reference`` carries the anchor IDs."""

FRAMEWORK_VERSION = "1.0"

FAIL_ON_UNKNOWN = "failOnUnknown"
"""Config key, accepted by every rule, that turns a preview-time unknown into a violation."""

UNKNOWN_PREFIX = "UNKNOWN-AT-PREVIEW"
"""Prefix of the violation reported when ``failOnUnknown`` is set and a value is unknown."""

COMMON_CONFIG: dict[str, dict[str, Any]] = {
    FAIL_ON_UNKNOWN: {
        "type": "boolean",
        "default": False,
        "description": (
            "Report a violation at this rule's enforcement level when a property it needs is "
            "unknown during preview, instead of the SDK's advisory 'can't run policy' note."
        ),
    },
}

CHECKOV_INDEX_URL = "https://www.checkov.io/5.Policy%20Index/terraform.html"
CDK_NAG_RULES_URL = "https://github.com/cdklabs/cdk-nag/blob/main/RULES.md"

_LEVELS = {level.value: level for level in EnforcementLevel}


@dataclass(frozen=True)
class Rule:
    """One policy rule: a pure validator and the metadata reports and docs are built from."""

    name: str
    """Kebab-case policy name; the key in policy config and waivers."""
    description: str
    """One sentence starting with a verb; the SDK prefixes every violation message with it."""
    area: str
    """AWS area (module) the rule belongs to: ``network``, ``rds``, ..."""
    severity: Severity
    remediation: str
    """What to change so the rule passes (``remediation_steps``)."""
    validate: ResourceValidator | StackValidator
    kind: Kind = "resource"
    resource_types: tuple[str, ...] = ()
    """Type tokens the rule inspects. A resource rule's validator is called only for these
    (``check``), for every type when the tuple is empty; a stack rule sees every resource and
    lists the types it reads (reports and docs). Defaults to ``()``."""
    checkov: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    awsguard: tuple[str, ...] = ()
    config: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the rule's own thresholds (``failOnUnknown`` is added)."""
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY
    """Level when no policy config says otherwise."""

    @property
    def anchor_ids(self) -> tuple[str, ...]:
        """Checkov, cdk-nag and AWSGuard IDs, in that order."""
        return self.checkov + self.cdk_nag + self.awsguard

    @property
    def tags(self) -> list[str]:
        """Policy tags: the area, then ``checkov:ID``, ``cdk-nag:ID``, ``awsguard:ID``."""
        return (
            [self.area]
            + [f"checkov:{i}" for i in self.checkov]
            + [f"cdk-nag:{i}" for i in self.cdk_nag]
            + [f"awsguard:{i}" for i in self.awsguard]
        )

    @property
    def url(self) -> str | None:
        """The public rule index of the first anchor that has this rule."""
        if self.checkov:
            return CHECKOV_INDEX_URL
        if self.cdk_nag:
            return CDK_NAG_RULES_URL
        return None

    def applies_to(self, resource_type: str) -> bool:
        """Whether this rule judges resources of ``resource_type`` (all, when none declared)."""
        return not self.resource_types or resource_type in self.resource_types

    def check(
        self, args: ResourceValidationArgs | StackValidationArgs, report: ReportViolation
    ) -> None:
        """Call the validator, unless ``args`` is a resource of a type the rule does not judge.

        The one place a rule's declared ``resource_types`` filter what its validator sees, so
        validators never test ``args.resource_type`` themselves.
        """
        if isinstance(args, ResourceValidationArgs) and not self.applies_to(args.resource_type):
            return
        # The validator's declared type matches ``kind``; the SDK passes the matching args.
        validate: Any = self.validate
        validate(args, report)

    def config_properties(self) -> dict[str, dict[str, Any]]:
        """The full JSON-schema ``properties`` of this rule's config, common keys included."""
        return {**COMMON_CONFIG, **self.config}

    def config_schema(self) -> PolicyConfigSchema:
        return PolicyConfigSchema(properties=self.config_properties())

    def framework(self) -> PolicyComplianceFramework:
        return PolicyComplianceFramework(
            name=FRAMEWORK_NAME,
            version=FRAMEWORK_VERSION,
            reference=" ".join(self.anchor_ids) or None,
            specification=self.description,
        )

    def to_policy(self, validate: ResourceValidator | StackValidator | None = None) -> Policy:
        """Build the SDK policy; ``validate`` replaces the raw validator (e.g. a waiver wrapper)."""
        # The SDK types resource and stack validators separately; ``kind`` picks the matching one.
        fn: Any = validate if validate is not None else guard_unknowns(self)
        common: dict[str, Any] = {
            "enforcement_level": self.enforcement_level,
            "config_schema": self.config_schema(),
            "severity": self.severity,
            "framework": self.framework(),
            "tags": self.tags,
            "remediation_steps": self.remediation,
            "url": self.url,
        }
        if self.kind == "stack":
            return StackValidationPolicy(
                name=self.name, description=self.description, validate=fn, **common
            )
        return ResourceValidationPolicy(
            name=self.name, description=self.description, validate=fn, **common
        )


def parse_level(value: str) -> EnforcementLevel:
    """Map ``"advisory"`` etc. to the SDK enum; ``KeyError`` on anything else."""
    return _LEVELS[value]


# --- unknown values -------------------------------------------------------------------------


def fail_on_unknown(config: Mapping[str, Any]) -> bool:
    return config.get(FAIL_ON_UNKNOWN) is True


def unknown_message(error: UnknownValueError) -> str:
    """The violation text used when ``failOnUnknown`` turns an unknown into a failure."""
    return (
        f"{UNKNOWN_PREFIX}: {error.message}; {FAIL_ON_UNKNOWN} is set, so a value this rule "
        "cannot check during preview counts as a violation."
    )


def run_guarded(
    validate: Callable[[Any, ReportViolation], None],
    args: ResourceValidationArgs | StackValidationArgs,
    report: ReportViolation,
) -> None:
    """Run ``validate``; on an unknown value either report it (``failOnUnknown``) or re-raise.

    Re-raising keeps the SDK's own behaviour: it catches ``UnknownValueError`` and reports an
    advisory "can't run policy ... during preview" diagnostic, whatever the rule's level.
    """
    try:
        validate(args, report)
    except UnknownValueError as error:
        if not fail_on_unknown(args.get_config()):
            raise
        report(unknown_message(error), None)


def guard_unknowns(rule: Rule) -> Callable[[Any, ReportViolation], None]:
    """The rule's ``check`` with ``failOnUnknown`` support and nothing else (no waivers)."""

    def validate(args: Any, report: ReportViolation) -> None:
        run_guarded(rule.check, args, report)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


# --- property helpers -----------------------------------------------------------------------
# The SDK hands validators proxies: nested objects are ``Mapping``s and lists are ``Sequence``s
# (not ``dict``/``list``), numbers are floats, and reading an unknown value raises
# ``UnknownValueError``. These helpers accept exactly that shape.


def as_mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def as_list(value: Any) -> list[Any]:
    """A sequence (not a string) as a list; a single mapping as a one-item list; else empty."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [value[i] for i in range(len(value))]
    return []


def dig(value: Any, *path: str) -> Any:
    """Follow ``path`` through nested mappings (or first list items, for one-item blocks)."""
    current = value
    for key in path:
        if isinstance(current, Sequence) and not isinstance(current, str | bytes):
            current = current[0] if len(current) else None
        mapping = as_mapping(current)
        if mapping is None:
            return None
        current = mapping.get(key)
    return current


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``props[key]`` is set: a non-empty value, or one unknown during preview.

    An unknown value is one the engine computes during the update (a name built from a
    ``RandomId``, an ARN), so it will be set: rules that only need a property to be present use
    this rather than reading the value, which raises ``UnknownValueError``.
    """
    try:
        return bool(props.get(key))
    except UnknownValueError:
        return True


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def as_int(value: Any) -> int | None:
    """Numbers arrive as floats (``7.0``); strings of digits are tolerated too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def string_list(value: Any) -> list[str]:
    """A string or a list of strings as a list of strings."""
    if isinstance(value, str):
        return [value]
    return [item for item in as_list(value) if isinstance(item, str)]


def load_json(value: Any) -> Any:
    """Parse a JSON document given as a string; pass mappings/lists through; else ``None``."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def resources_of(args: StackValidationArgs, type_token: str) -> Iterator[PolicyResource]:
    for resource in args.resources:
        if resource.resource_type == type_token:
            yield resource


def depends_on(resource: PolicyResource, target: PolicyResource, prop: str) -> bool:
    """Whether ``resource.prop`` is wired to ``target`` (property dependency, then any dependency).

    During preview ids and ARNs are unknown, so comparing values cannot link resources; the
    dependency graph the engine sends can.
    """
    prop_deps = resource.property_dependencies.get(prop)
    if prop_deps:
        return any(dep.urn == target.urn for dep in prop_deps)
    return any(dep.urn == target.urn for dep in resource.dependencies)


def setting(config: Mapping[str, Any], key: str, default: Any) -> Any:
    """A rule's config value, or ``default`` when the config does not set it.

    The CLI fills schema defaults, but the offline engine and unit tests may not: the rule's
    code default must therefore equal its schema default.
    """
    value = config.get(key)
    return default if value is None else value


def urn_name(urn: str) -> str:
    """The resource name part of a Pulumi URN (after the last ``::``)."""
    return urn.rsplit("::", 1)[-1]
