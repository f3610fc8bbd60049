"""The network stack: one platformkit ``Network`` that app stacks build on.

It exports the network as ``NetworkRef.stack_outputs()`` (``vpcId``, ``vpcCidrBlock`` and
the subnet id lists), which ``NetworkRef.from_stack_reference`` reads back in the app stack.
"""

import pulumi

from platformkit import Network

config = pulumi.Config()

network = Network(
    "shared",
    {
        "az_count": config.get_int("azCount") or 2,
        "nat_strategy": "single",
        "environment": pulumi.get_stack(),
        "owner": "platform",
    },
)

for name, value in network.ref.stack_outputs().items():
    pulumi.export(name, value)
