"""NetworkRef across stacks: the outputs a network stack exports and an app stack reads."""

from __future__ import annotations

from typing import Any

import pytest

from platformkit.network_ref import STACK_OUTPUT_NAMES, NetworkRef


def test_stack_outputs_name_every_field_from_stack_reference_reads() -> None:
    ref = NetworkRef(
        vpc_id="vpc-1",
        vpc_cidr_block="10.0.0.0/16",
        public_subnet_ids=["subnet-p"],
        private_subnet_ids=["subnet-q"],
        isolated_subnet_ids=["subnet-r"],
    )
    assert ref.stack_outputs() == {
        "vpcId": "vpc-1",
        "vpcCidrBlock": "10.0.0.0/16",
        "publicSubnetIds": ["subnet-p"],
        "privateSubnetIds": ["subnet-q"],
        "isolatedSubnetIds": ["subnet-r"],
    }
    assert set(STACK_OUTPUT_NAMES.values()) == set(ref.stack_outputs())


@pytest.mark.parametrize("az_count", [0, -2, True, "2", 2.0])
def test_az_count_must_be_a_positive_integer(az_count: Any) -> None:
    with pytest.raises(ValueError, match=r"az_count must be a positive integer .* got "):
        NetworkRef.from_stack_reference(object(), az_count)  # type: ignore[arg-type]
