"""The object types of the component package: what other Pulumi languages pass and receive.

Pulumi's analyzer turns each ``TypedDict`` below into a schema type
(``platformkit:index:<Name>``) and each field docstring into its description; the field
docstrings are those of the Python library's own types (a test keeps them identical).

A type used both as an input and as an output (the refs) has every field wrapped in
``pulumi.Input``: a component output is never plain, and a consumer passes another
component's outputs into it.

No ``from __future__ import annotations`` here: the analyzer reads the annotations at run time
and cannot resolve them from strings.
"""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi


class NetworkRef(TypedDict):
    """The parts of a VPC the other components need: a ``Network``'s ``ref`` output, or one
    built from the ids of a VPC created elsewhere. Each subnet list holds one subnet per AZ."""

    vpc_id: pulumi.Input[str]
    """ID of the VPC."""
    vpc_cidr_block: pulumi.Input[str]
    """Primary IPv4 CIDR block of the VPC (used for in-VPC security group rules)."""
    public_subnet_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Subnets with a route to an internet gateway (load balancers, NAT gateways)."""
    private_subnet_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Subnets with outbound access through NAT or endpoints only (services)."""
    isolated_subnet_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Subnets with no route to the internet (databases)."""


class CapacityProviderStrategy(TypedDict):
    """One entry of an ECS capacity provider strategy."""

    capacity_provider: pulumi.Input[str]
    """``FARGATE`` or ``FARGATE_SPOT``."""
    weight: pulumi.Input[int]
    """Relative share of tasks placed on this provider after ``base`` is met, 0 to 1000."""
    base: NotRequired[pulumi.Input[int]]
    """Tasks always placed on this provider first (only one entry may set it above 0).
    Defaults to `0`."""


class ClusterRef(TypedDict):
    """What a ``WebService`` needs of a cluster: a ``Cluster``'s ``ref`` output, or one built
    from the outputs of a stack that owns the cluster."""

    network: pulumi.Input[NetworkRef]
    """The network the cluster runs in (services go into its private subnets)."""
    cluster_name: pulumi.Input[str]
    """Name of the ECS cluster."""
    cluster_arn: pulumi.Input[str]
    """ARN of the ECS cluster."""
    listener_arn: pulumi.Input[str]
    """ARN of the listener services attach their rules to."""
    alb_security_group_id: pulumi.Input[str]
    """Security group of the load balancer; services admit traffic from it."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """ARN suffix of the load balancer, the ``LoadBalancer`` CloudWatch metric dimension."""
    url: pulumi.Input[str]
    """``https://<dns_name>`` with a certificate, else ``http://<dns_name>``."""
    https: NotRequired[pulumi.Input[bool]]
    """Whether the load balancer serves HTTPS. Defaults to `False`."""
    capacity_provider_strategy: NotRequired[
        pulumi.Input[Sequence[pulumi.Input[CapacityProviderStrategy]]]
    ]
    """The capacity provider strategy services use. Defaults to FARGATE with a base of 1."""


class DatabaseRef(TypedDict):
    """What a ``WebService`` needs of a database: a ``Database``'s ``ref`` output, or one built
    from the outputs of a stack that owns the database."""

    address: pulumi.Input[str]
    """Host name of the instance."""
    port: pulumi.Input[int]
    """Port the engine listens on."""
    engine: pulumi.Input[str]
    """``"mysql"`` or ``"postgres"``."""
    database_name: pulumi.Input[str]
    """Name of the database created with the instance."""
    identifier: pulumi.Input[str]
    """DB instance identifier (the ``DBInstanceIdentifier`` CloudWatch dimension)."""
    security_group_id: pulumi.Input[str]
    """Security group of the instance; a service adds its ingress rule to it."""
    master_secret_arn: pulumi.Input[str]
    """ARN of the RDS-managed secret, a JSON object with ``username`` and ``password``."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer-managed key encrypting the master secret, if any (an output may resolve to
    none). Defaults to none."""


class SubnetCidrs(TypedDict):
    """An explicit subnet plan: one CIDR per AZ for each tier, in AZ order."""

    public: Sequence[str]
    """Public subnet CIDRs (leave empty when ``public_subnets`` is off)."""
    private: Sequence[str]
    """Private subnet CIDRs."""
    isolated: Sequence[str]
    """Isolated subnet CIDRs."""
