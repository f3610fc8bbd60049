"""A small typed reference to a network, so components can run in a VPC they did not create."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from platformkit.validation import ArgumentReader, resolve_ref

STACK_OUTPUT_NAMES = {
    "vpc_id": "vpcId",
    "vpc_cidr_block": "vpcCidrBlock",
    "public_subnet_ids": "publicSubnetIds",
    "private_subnet_ids": "privateSubnetIds",
    "isolated_subnet_ids": "isolatedSubnetIds",
}
"""Field → the stack output ``stack_outputs`` exports and ``from_stack_reference`` reads."""


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
    may also be one output (``Output[list[str]]``, as a reference arriving from another Pulumi
    language is): its length is then unknown while the program runs, so the components cannot
    check the subnet count and AWS does when it creates the resources.

    Across stacks (a network stack and the app stacks that use it), the network stack exports
    ``network.ref.stack_outputs()`` and an app stack reads them back with
    ``NetworkRef.from_stack_reference(pulumi.StackReference(...), az_count=...)``.
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

    def stack_outputs(self) -> dict[str, Any]:
        """This network as stack outputs (``vpcId``, ``vpcCidrBlock``, ``publicSubnetIds``,
        ``privateSubnetIds``, ``isolatedSubnetIds``), for ``pulumi.export``."""
        return {output: getattr(self, name) for name, output in STACK_OUTPUT_NAMES.items()}

    @classmethod
    def from_stack_reference(
        cls,
        reference: pulumi.StackReference,
        az_count: int,
        *,
        public_subnets: bool = True,
    ) -> NetworkRef:
        """The network another stack exported with ``stack_outputs()``.

        ``az_count`` is the number of AZs of that network. It must be a plain value: the
        components count subnets when they are constructed (a load balancer needs two),
        and a stack output is only known later. When the referenced stack's subnet lists
        hold another number of ids, the run fails naming the output. ``public_subnets``:
        whether that network has public subnets. Defaults to ``True``.
        """
        if isinstance(az_count, bool) or not isinstance(az_count, int) or az_count < 1:
            raise ValueError(
                f"NetworkRef.from_stack_reference: az_count must be a positive integer (the "
                f"referenced network's number of AZs), got {az_count!r}"
            )

        def subnets(field_name: str) -> list[pulumi.Output[str]]:
            output = STACK_OUTPUT_NAMES[field_name]
            ids = reference.require_output(output).apply(_counted(output, az_count))
            return [ids.apply(_item(index)) for index in range(az_count)]

        return cls(
            vpc_id=reference.require_output(STACK_OUTPUT_NAMES["vpc_id"]),
            vpc_cidr_block=reference.require_output(STACK_OUTPUT_NAMES["vpc_cidr_block"]),
            public_subnet_ids=subnets("public_subnet_ids") if public_subnets else (),
            private_subnet_ids=subnets("private_subnet_ids"),
            isolated_subnet_ids=subnets("isolated_subnet_ids"),
        )


class HasNetworkRef(Protocol):
    """Anything exposing a ``ref`` (such as ``Network``) can stand in for a ``NetworkRef``."""

    @property
    def ref(self) -> NetworkRef: ...


def _counted(output: str, az_count: int) -> Callable[[Any], list[str]]:
    def check(ids: Any) -> list[str]:
        if not isinstance(ids, list) or len(ids) != az_count:
            held = f"{len(ids)} subnet ids" if isinstance(ids, list) else repr(ids)
            raise ValueError(
                f"stack output {output!r} holds {held}, but NetworkRef.from_stack_reference "
                f"was given az_count={az_count}; pass the referenced network's number of AZs"
            )
        return [str(i) for i in ids]

    return check


def _item(index: int) -> Callable[[list[str]], str]:
    return lambda ids: ids[index]


NETWORK_EXPECTED = "a Network or a NetworkRef"


def as_network_ref(
    network: NetworkRef | HasNetworkRef, read: ArgumentReader | None = None
) -> NetworkRef:
    """Return ``network`` itself or, for a ``Network``, its ``ref``; anything else is an
    error on the ``network`` field (through ``read`` when given)."""
    return resolve_ref(network, NetworkRef, NETWORK_EXPECTED, read, "network")
