"""IAM rules: no wildcard actions, no administrator policies, service-principal trust only.

Also hosts the policy-document helpers the ECR and KMS rules reuse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from .core import Rule, as_list, as_mapping, load_json, setting, string_list

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"

DOCUMENT_TYPES = (ROLE_POLICY, POLICY, USER_POLICY, GROUP_POLICY)

DEFAULT_DENIED_POLICY_ARNS = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
]


def statements(document: Any) -> Iterator[Mapping[str, Any]]:
    """Statements of a policy document given as a JSON string or an object."""
    parsed = as_mapping(load_json(document))
    if parsed is None:
        return
    for statement in as_list(parsed.get("Statement")):
        mapping = as_mapping(statement)
        if mapping is not None:
            yield mapping


def is_allow(statement: Mapping[str, Any]) -> bool:
    return (statement.get("Effect") or "Allow") == "Allow"


def principals(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Principals by kind (``{"AWS": [...], "Service": [...]}``); a bare ``"*"`` gives ``"*"``."""
    principal = statement.get("Principal")
    if principal == "*":
        return {"*": ["*"]}
    mapping = as_mapping(principal) or {}
    return {str(kind): string_list(mapping.get(kind)) for kind in mapping}


def is_public_principal(statement: Mapping[str, Any]) -> bool:
    """Allow to ``*`` (or ``AWS: *``) without any condition narrowing it."""
    found = principals(statement)
    wildcard = "*" in found.get("*", []) or "*" in found.get("AWS", [])
    return is_allow(statement) and wildcard and not statement.get("Condition")


def _documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    if args.resource_type in DOCUMENT_TYPES:
        yield args.name, args.props.get("policy")
    elif args.resource_type == ROLE:
        for inline in as_list(args.props.get("inlinePolicies")):
            mapping = as_mapping(inline) or {}
            yield str(mapping.get("name") or "inline"), mapping.get("policy")


def validate_no_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allow_service_wildcards = bool(setting(args.get_config(), "allowServiceWildcards", False))
    for name, document in _documents(args):
        for statement in statements(document):
            if not is_allow(statement):
                continue
            for action in string_list(statement.get("Action")):
                if action in ("*", "*:*"):
                    report(f"Policy '{name}' allows every action ('{action}').", None)
                elif action.endswith(":*") and not allow_service_wildcards:
                    report(f"Policy '{name}' allows every action of a service ('{action}').", None)
            if statement.get("NotAction"):
                report(f"Policy '{name}' uses Allow with NotAction (allows nearly all).", None)


def validate_no_admin_policies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    denied = set(setting(args.get_config(), "deniedPolicyArns", DEFAULT_DENIED_POLICY_ARNS))
    arns: list[str] = []
    if args.resource_type in (ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT):
        arns = string_list(args.props.get("policyArn"))
    elif args.resource_type == ROLE:
        arns = string_list(args.props.get("managedPolicyArns"))
    for arn in arns:
        if arn in denied:
            report(f"Administrator-level managed policy attached: {arn}.", None)


def validate_service_principal_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allowed = set(setting(args.get_config(), "allowedServicePrincipals", []))
    for statement in statements(args.props.get("assumeRolePolicy")):
        if not is_allow(statement):
            continue
        for kind, values in principals(statement).items():
            if kind != "Service":
                report(
                    f"The trust policy admits {kind} principal(s) {values}; only AWS service "
                    "principals may assume platform roles.",
                    None,
                )
            elif allowed:
                for service in values:
                    if service not in allowed:
                        report(f"Service principal {service!r} is not allow-listed.", None)


RULES: tuple[Rule, ...] = (
    Rule(
        name="iam-no-wildcard-actions",
        description="Forbid IAM policies that allow '*' or whole-service actions.",
        area="iam",
        severity=Severity.HIGH,
        remediation="List the specific actions the workload calls and scope Resource to ARNs.",
        validate=validate_no_wildcard_actions,
        resource_types=(*DOCUMENT_TYPES, ROLE),
        checkov=("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355", "CKV2_AWS_40"),
        cdk_nag=("AwsSolutions-IAM5",),
        config={
            "allowServiceWildcards": {
                "type": "boolean",
                "default": False,
                "description": "Accept 'service:*' actions (never '*').",
            }
        },
    ),
    Rule(
        name="iam-no-admin-policies",
        description="Forbid attaching administrator-level AWS managed policies.",
        area="iam",
        severity=Severity.CRITICAL,
        remediation="Attach a least-privilege customer policy instead.",
        validate=validate_no_admin_policies,
        resource_types=(ROLE, ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT),
        checkov=("CKV_AWS_274",),
        cdk_nag=("NIST.800.53.R5-IAMPolicyNoStatementsWithAdminAccess",),
        config={
            "deniedPolicyArns": {
                "type": "array",
                "items": {"type": "string", "pattern": "^arn:aws[a-z-]*:iam::"},
                "default": DEFAULT_DENIED_POLICY_ARNS,
                "description": "Managed policy ARNs that grant administrator-level access.",
            }
        },
    ),
    Rule(
        name="iam-role-service-principal-trust",
        description="Restrict role trust policies to AWS service principals.",
        area="iam",
        severity=Severity.HIGH,
        remediation=(
            "Trust only e.g. ecs-tasks.amazonaws.com; grant humans access through SSO "
            "permission sets, not role trust to accounts or '*'."
        ),
        validate=validate_service_principal_trust,
        resource_types=(ROLE,),
        checkov=("CKV_AWS_60", "CKV_AWS_61"),
        config={
            "allowedServicePrincipals": {
                "type": "array",
                "items": {"type": "string", "pattern": "\\.amazonaws\\.com$"},
                "default": [],
                "description": "If non-empty, the only service principals a role may trust.",
            }
        },
    ),
)
