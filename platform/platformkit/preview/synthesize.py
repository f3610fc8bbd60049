"""Plausible values for outputs the fake cloud has no model for, derived from the SDK's types.

``fill`` takes a class of a provider SDK (a resource, an invoke result or an output type, see
``sdk_schema``) and gives every property the state does not hold yet a value of its declared
type, shaped by its name the way AWS shapes such values:

- ``arn`` → the resource's ARN (``arns.resource_arn``); ``*_arn`` → an ARN of the service;
  ``execution_arn`` / ``invoke_arn`` in API Gateway's real formats;
- ``id`` / ``*_id`` → an id with the service's prefix (``vpc-``, ``subnet-``, ``ami-``, ...);
  ``ids`` / ``*_ids`` → two of them;
- ``*_url`` / ``url`` / ``uri`` → an ``https://`` URL; ``*endpoint`` → a DNS name (an
  ``https://`` URL for API endpoints); ``*dns_name`` / ``*domain_name`` / ``*address`` → a DNS
  name; ``*_ip`` → an address in a documentation range;
- other strings: dates, regions, states and names by their field name, else ``<name>-<hash>``;
- numbers ``1`` (ports by service), booleans ``False``, maps ``{}``, lists one element, nested
  output types filled the same way (every field, optional or not).

At the top level only non-optional properties are filled: those a real provider always sets
after a create; optional ones stay unset unless the program set them.
"""

from __future__ import annotations

import base64
import collections.abc
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from platformkit.preview import sdk_schema
from platformkit.preview.arns import resource_arn, resource_id, service_of
from platformkit.preview.identity import Identity, alnum, digest, uuid_from

MAX_DEPTH = 4
"""Nested output types deeper than this are left empty (recursive schemas exist)."""
_TIMESTAMP = "2024-01-01T00:00:00Z"
# Field name → id prefix AWS uses for it.
_ID_PREFIXES = {
    "vpc": "vpc-",
    "subnet": "subnet-",
    "security_group": "sg-",
    "route_table": "rtb-",
    "main_route_table": "rtb-",
    "default_route_table": "rtb-",
    "network_acl": "acl-",
    "default_network_acl": "acl-",
    "default_security_group": "sg-",
    "internet_gateway": "igw-",
    "nat_gateway": "nat-",
    "network_interface": "eni-",
    "primary_network_interface": "eni-",
    "instance": "i-",
    "image": "ami-",
    "ami": "ami-",
    "snapshot": "snap-",
    "volume": "vol-",
    "allocation": "eipalloc-",
    "association": "eipassoc-",
    "transit_gateway": "tgw-",
    "vpc_endpoint": "vpce-",
    "launch_template": "lt-",
    "prefix_list": "pl-",
    "key_pair": "key-",
    "zone": "Z",
    "hosted_zone": "Z",
    "cluster_security_group": "sg-",
}
# Type token → id prefix for its own ``id`` (and the ``ids`` of its ``get*s`` invokes).
_TYPE_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/ami:Ami": "ami-",
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/networkInterface:NetworkInterface": "eni-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/keyPair:KeyPair": "key-",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw-",
    "aws:route53/zone:Zone": "Z",
}
_SERVICE_PORTS = {"redshift": 5439, "rds": 3306, "elasticache": 6379, "docdb": 27017}


@dataclass(frozen=True)
class Subject:
    """What the values are for: a resource (or invoke) of ``type`` named ``name``."""

    identity: Identity
    type: str
    """Resource type token (for an invoke: the type it reads, e.g. ``aws:ec2/vpc:Vpc``)."""
    name: str
    """Logical name (or the invoke's token)."""
    physical: str
    """Physical name: the ``name`` input, or ``<logical>-<7 hex>`` as auto-naming gives."""
    seed: str
    """Hex digest the values derive from (stable across runs)."""
    resource_id: str = ""
    """The resource's id, when already decided (API URLs are built from it)."""

    @property
    def service(self) -> str:
        return service_of(self.type)

    def own_id(self) -> str:
        """An id shaped like this type's ids."""
        shaped = resource_id(self.type, self.seed)
        if shaped is not None:
            return shaped
        prefix = _TYPE_ID_PREFIXES.get(self.type)
        return prefix + self.seed[:17] if prefix else self.physical

    def arn(self) -> str:
        return resource_arn(
            self.identity, self.type, self.physical, self.resource_id or self.own_id(), self.seed
        )


def fill(
    cls: type,
    subject: Subject,
    state: Mapping[str, Any],
    *,
    optional: bool = False,
    lists: bool = True,
    id_count: int = 2,
    depth: int = 0,
) -> dict[str, Any]:
    """Values (wire names) for the properties of ``cls`` that ``state`` lacks.

    ``optional`` also fills properties the schema marks optional (nested output types are
    filled whole). ``lists=False`` leaves lists empty: a new resource's computed collections
    (attached policies, rules) start empty, while a look-up finds things (``ids``).
    ``id_count`` (default 2, enough for anything spread over two AZs) is the length of id
    lists (``ids``, ``*_ids``).
    """
    values: dict[str, Any] = {}
    for prop in sdk_schema.properties(cls):
        if prop.wire_name in state or (prop.optional and not optional):
            continue
        value = value_for(
            prop.python_name, prop.type, subject, depth, lists=lists, id_count=id_count
        )
        if value is not None:
            values[prop.wire_name] = value
    return values


def value_for(
    field: str,
    hint: Any,
    subject: Subject,
    depth: int = 0,
    *,
    lists: bool = True,
    id_count: int = 2,
) -> Any:
    """A value of type ``hint`` for the property ``field`` (snake case) of ``subject``.

    ``lists=False`` gives ``[]`` for a list (see ``fill``).
    """
    origin = typing.get_origin(hint)
    if hint is str:
        return _string(field, subject)
    if hint is bool:
        return False
    if hint is int:
        return _integer(field, subject)
    if hint is float:
        return 1.0
    if origin in (list, tuple, collections.abc.Sequence):
        (element,) = typing.get_args(hint)[:1] or (Any,)
        element, _ = sdk_schema.unwrap(element)
        if sdk_schema.is_resource_type(element) or not lists:
            return []
        count = id_count if field == "ids" or field.endswith("_ids") else 1
        singular = field[:-1] if field.endswith("s") else field
        items = [value_for(singular, element, _nth(subject, i), depth + 1) for i in range(count)]
        return [item for item in items if item is not None]
    if origin in (dict, collections.abc.Mapping):
        return {}
    if sdk_schema.is_output_type(hint):
        if depth >= MAX_DEPTH:
            return None
        nested = _nth(subject, 0, field)
        return fill(hint, nested, {}, optional=True, depth=depth + 1)
    return None


def _nth(subject: Subject, index: int, field: str = "") -> Subject:
    seed = digest(subject.seed, field, str(index)) if (index or field) else subject.seed
    return Subject(
        subject.identity,
        subject.type,
        subject.name,
        subject.physical,
        seed,
        subject.resource_id,
    )


def _string(field: str, s: Subject) -> str:
    i = s.identity
    if field == "arn":
        return s.arn()
    if field.endswith("_arn"):
        return _arn_field(field[: -len("_arn")], s)
    if field == "id":
        return s.resource_id or s.own_id()
    if field == "ids" or field.endswith("_id") or field.endswith("_ids"):
        return _id_field(field.removesuffix("s").removesuffix("_id"), s)
    if field in ("url", "uri") or field.endswith(("_url", "_uri")):
        return f"https://{s.resource_id or s.own_id()}.{s.service}.{i.region}.{i.dns_suffix}/"
    if field.endswith("endpoint"):
        host = f"{s.physical}.{s.seed[:12]}.{i.region}.{s.service}.{i.dns_suffix}"
        return f"https://{host}" if "api" in field else host
    if field.endswith(("dns_name", "domain_name", "hostname", "address", "_dns", "fqdn")):
        return f"{s.physical}-{s.seed[:8]}.{i.region}.{s.service}.{i.dns_suffix}"
    if field.endswith("_ip") or field == "ip":
        n = int(s.seed[:6], 16)
        return f"203.0.113.{n % 254 + 1}" if "public" in field else f"10.0.{n % 250}.{n % 253 + 1}"
    if field == "region":
        return i.region
    if field in ("account_id", "owner_id", "owner", "registry_id", "account"):
        return i.account_id
    if field.endswith(("_date", "_time", "_at", "_timestamp")) or field in (
        "not_after",
        "not_before",
    ):
        return _TIMESTAMP
    if field in ("status", "state"):
        return "available"
    if field in ("etag", "version_id") or field.endswith(("_hash", "sha256", "checksum")):
        return base64.b64encode(bytes.fromhex(s.seed[:32])).decode()
    if field.endswith("_prefix"):
        return ""
    if "cidr" in field:
        return "10.0.0.0/16"
    if field in ("version", "revision", "latest_version"):
        return "1"
    if field == "data" or field.endswith("_data") or "certificate" in field:
        return base64.b64encode(f"platformkit-preview {s.type} {s.name}".encode()).decode()
    if field in ("user_name", "username"):
        return "AWS"
    if any(word in field for word in ("password", "token", "secret", "key")):
        return alnum(s.seed + field, 32)
    if field == "name" or field.endswith("_name"):
        return s.physical if field == "name" else f"{s.physical}-{field.removesuffix('_name')}"
    if field == "uuid" or field.endswith("_uuid"):
        return uuid_from(s.seed)
    return f"{s.physical}-{s.seed[:7]}"


def _arn_field(stem: str, s: Subject) -> str:
    i = s.identity
    own_id = s.resource_id or s.own_id()
    if stem == "execution":
        # API Gateway: what Lambda permissions' ``source_arn`` is built from.
        api = _api_of(s)
        suffix = f"/{own_id}" if s.type.endswith(":Stage") else ""
        return i.arn("execute-api", f"{api}{suffix}")
    if stem in ("invoke", "qualified_invoke", "response_streaming_invoke"):
        function = s.arn()
        return (
            f"arn:{i.partition}:apigateway:{i.region}:lambda:path/2015-03-31/functions/"
            f"{function}/invocations"
        )
    if stem == "qualified":
        return f"{s.arn()}:1"
    kind = re.sub(r"_", "-", stem)
    return i.arn(s.service, f"{kind}/{s.physical}-{s.seed[:8]}")


def _api_of(s: Subject) -> str:
    # A stage's execution ARN hangs off its API; without the API's id, one derived the same way.
    if s.type.endswith(("restApi:RestApi", "api:Api")):
        return s.resource_id or s.own_id()
    return alnum(s.seed + "api", 10)


def _id_field(stem: str, s: Subject) -> str:
    i = s.identity
    prefix = _ID_PREFIXES.get(stem)
    if prefix == "Z":
        return "Z" + s.seed[:20].upper()
    if prefix is not None:
        return prefix + s.seed[:17]
    if stem in ("", "ids") and s.type in _TYPE_ID_PREFIXES:
        return _TYPE_ID_PREFIXES[s.type] + s.seed[:17]
    if stem in ("account", "owner", "registry"):
        return i.account_id
    if stem in ("kms_key", "key"):
        return uuid_from(s.seed)
    if stem in ("api", "rest_api", "root_resource", "resource", "deployment", "stage"):
        return alnum(s.seed + stem, 10)
    if stem == "hosted_zone" or stem.endswith("zone"):
        return "Z" + s.seed[:20].upper()
    return alnum(s.seed + stem, 12)


def _integer(field: str, s: Subject) -> int:
    if field == "port" or field.endswith("_port"):
        return _SERVICE_PORTS.get(s.service, 443)
    return 1


def physical_name(name: str, inputs: Mapping[str, Any], seed: str) -> str:
    """The physical name: the ``name`` input, else ``<logical>-<7 hex>`` as auto-naming does."""
    given = inputs.get("name")
    return given if isinstance(given, str) and given else f"{name}-{seed[:7]}"
