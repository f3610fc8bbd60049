"""A small typed reference to a network, so components can run in a VPC they did not create."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi


@dataclass(frozen=True)
class NetworkRef:
    """The parts of a VPC the other components need.

    Build one by hand to adopt an existing network::

        NetworkRef(
            vpc_id="vpc-0abc",
            vpc_cidr_block="10.20.0.0/16",
            public_subnet_ids=["subnet-a", "subnet-b"],
            private_subnet_ids=["subnet-c", "subnet-d"],
            isolated_subnet_ids=["subnet-e", "subnet-f"],
        )

    or take ``Network(...).ref``. Each subnet list holds one subnet per availability zone. A list
    may also be one output (``Output[list[str]]``, as a reference arriving from another stack or
    another Pulumi language is): its length is then unknown while the program runs, so the
    components cannot check the subnet count and AWS does when it creates the resources.
    """

    vpc_id: pulumi.Input[str]
    """ID of the VPC."""
    vpc_cidr_block: pulumi.Input[str]
    """Primary IPv4 CIDR block of the VPC (used for in-VPC security group rules)."""
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = field(default_factory=tuple)
    """Subnets with a route to an internet gateway (load balancers, NAT gateways)."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = field(default_factory=tuple)
    """Subnets with outbound access through NAT or endpoints only (services)."""
    isolated_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = field(default_factory=tuple)
    """Subnets with no route to the internet (databases)."""


class HasNetworkRef(Protocol):
    """Anything exposing a ``ref`` (such as ``Network``) can stand in for a ``NetworkRef``."""

    @property
    def ref(self) -> NetworkRef: ...


def as_network_ref(network: NetworkRef | HasNetworkRef) -> NetworkRef:
    """Return ``network`` itself or, for a ``Network``, its ``ref``."""
    return network if isinstance(network, NetworkRef) else network.ref
