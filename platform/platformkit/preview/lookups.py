"""Answers to invokes (``aws.get_region()``, ``aws.ec2.get_ami(...)``, ...).

The look-ups programs use everywhere are emulated: availability zones, region, caller
identity, partition, ELB service account, IAM policy documents, and the ECR authorization
token (decodable to ``AWS:<password>``, as programs logging in to the registry expect). Any
other invoke is answered with data shaped by its result class in the SDK (``synthesize``):
``get_ami`` an ``ami-`` id, ``get_subnets`` two ``subnet-`` ids, ``route53.get_zone`` a
``Z...`` zone id, arguments echoed where the result has a field of the same name. The user's
answers file overrides any field.
"""

from __future__ import annotations

import base64
import collections.abc
import json
import typing
from collections.abc import Mapping
from typing import Any

from platformkit.preview import sdk_schema
from platformkit.preview.answers import Answers
from platformkit.preview.identity import Identity, alnum, digest
from platformkit.preview.synthesize import Subject, fill

# ELB log-delivery accounts for a few regions; other regions fall back to the
# ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal AWS documents.
_ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-central-1": "054676820928",
    "ap-southeast-2": "783225319266",
}


def look_up(
    identity: Identity, token: str, arguments: Mapping[str, Any], answers: Answers
) -> dict[str, Any]:
    """The result of invoke ``token`` called with ``arguments`` (wire names)."""
    answer = emulated(identity, token, arguments)
    if answer is None:
        answer = derived(identity, token, arguments)
    override = answers.invokes.get(token)
    if override:
        answer.update(_wire_names(token, override))
    return answer


def derived(identity: Identity, token: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A result shaped by the invoke's result class: arguments echoed, the rest synthesized."""
    cls = sdk_schema.invoke_result_class(token)
    if cls is None:
        return {}
    types = {p.wire_name: p.type for p in sdk_schema.properties(cls)}
    echoed = {}
    for key, value in arguments.items():
        if key in types and value is not None:
            converted = _as_type(value, types[key])
            if converted is not None:
                echoed[key] = converted
    physical = arguments.get("name")
    seed = digest(token, json.dumps(arguments, sort_keys=True, default=str))
    subject = Subject(
        identity,
        sdk_schema.resource_for_invoke(token),
        token,
        physical if isinstance(physical, str) and physical else f"preview-{seed[:7]}",
        seed,
    )
    return {**fill(cls, subject, echoed), **echoed}


def _as_type(value: Any, hint: Any) -> Any:
    """``value`` as the result field's type, as the provider would return it; else ``None``.

    Programs pass ``most_recent="true"``; the provider answers ``True``, and the SDK rejects
    a result field of the wrong type.
    """
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        return True if text == "true" else False if text == "false" else None
    if hint is int or hint is float:
        if isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if hint is int and number.is_integer() else number
    if hint is str:
        return value if isinstance(value, str) else None
    if isinstance(value, (str, bool, int, float)) and sdk_schema.is_output_type(hint):
        return None
    if typing.get_origin(hint) in (list, collections.abc.Sequence):
        return value if isinstance(value, list) else None
    if typing.get_origin(hint) in (dict, collections.abc.Mapping):
        return value if isinstance(value, dict) else None
    return value


def _wire_names(token: str, values: Mapping[str, Any]) -> dict[str, Any]:
    cls = sdk_schema.invoke_result_class(token)
    names = {p.python_name: p.wire_name for p in sdk_schema.properties(cls)} if cls else {}
    return {names.get(k, k): v for k, v in values.items()}


def emulated(identity: Identity, token: str, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answer of an emulated look-up, or ``None`` for any other token."""
    ident = identity
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = "abcdef"
        return {
            "id": ident.region,
            "names": [f"{ident.region}{c}" for c in letters],
            "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
            "groupNames": [ident.region] * len(letters),
        }
    if token == "aws:index/getRegion:getRegion":
        endpoint = f"ec2.{ident.region}.{ident.dns_suffix}"
        return {
            "id": ident.region,
            "name": ident.region,
            "region": ident.region,
            "endpoint": endpoint,
            "description": ident.region,
        }
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "id": ident.account_id,
            "accountId": ident.account_id,
            "arn": f"arn:{ident.partition}:iam::{ident.account_id}:user/platformkit-preview",
            "userId": "AIDAPLATFORMKITPREVIEW",
        }
    if token == "aws:index/getPartition:getPartition":
        return {
            "id": ident.partition,
            "partition": ident.partition,
            "dnsSuffix": ident.dns_suffix,
            "reverseDnsPrefix": ".".join(reversed(ident.dns_suffix.split("."))),
        }
    if token == "aws:elb/getServiceAccount:getServiceAccount":
        account = _ELB_ACCOUNTS.get(ident.region, "127311923021")
        return {
            "id": account,
            "arn": f"arn:{ident.partition}:iam::{account}:root",
        }
    if token in (
        "aws:ecr/getAuthorizationToken:getAuthorizationToken",
        "aws:ecr/getCredentials:getCredentials",
    ):
        # Programs decode the token to log in to the registry: base64 of ``AWS:<password>``.
        password = alnum(digest(token, ident.account_id), 64)
        registry = str(arguments.get("registryId") or ident.account_id)
        return {
            "id": ident.region,
            "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
            "password": password,
            "userName": "AWS",
            "proxyEndpoint": f"https://{registry}.dkr.ecr.{ident.region}.{ident.dns_suffix}",
            "expiresAt": "2030-01-01T00:00:00Z",
            "registryId": registry,
            "region": ident.region,
        }
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        document = render_policy_document(arguments)
        return {"id": digest(document)[:10], "json": document, "minifiedJson": document}
    return None


def render_policy_document(args: Mapping[str, Any]) -> str:
    """Render ``aws.iam.get_policy_document`` arguments to the JSON AWS would return."""
    statements = []
    for raw in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        statement["Effect"] = raw.get("effect") or "Allow"
        for key, out in (("actions", "Action"), ("notActions", "NotAction")):
            if raw.get(key):
                statement[out] = _one_or_many(raw[key])
        for key, out in (("resources", "Resource"), ("notResources", "NotResource")):
            if raw.get(key):
                statement[out] = _one_or_many(raw[key])
        for key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if raw.get(key):
                principal: dict[str, Any] = {}
                for p in raw[key]:
                    principal[p["type"]] = _one_or_many(p["identifiers"])
                statement[out] = principal
        if raw.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for c in raw["conditions"]:
                condition.setdefault(c["test"], {})[c["variable"]] = _one_or_many(c["values"])
            statement["Condition"] = condition
        statements.append(statement)
    return json.dumps({"Version": args.get("version") or "2012-10-17", "Statement": statements})


def _one_or_many(values: Any) -> Any:
    values = list(values)
    return values[0] if len(values) == 1 else values
