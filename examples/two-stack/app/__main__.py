"""The app stack: a cluster, a database and a service in the network stack's VPC.

The network comes from the network stack through a ``StackReference``: offline, its outputs
are supplied with ``platformkit preview --stack-outputs`` (see this example's README).
"""

import pulumi

from platformkit import Cluster, Database, NetworkRef, WebService

config = pulumi.Config()
stack = pulumi.get_stack()
network_stack = config.get("networkStack") or (
    f"{pulumi.get_organization()}/shared-network/{stack}"
)

network = NetworkRef.from_stack_reference(
    pulumi.StackReference(network_stack),
    az_count=config.get_int("networkAzCount") or 2,
)

cluster = Cluster("orders", {"network": network, "waf": False, "owner": "orders"})
database = Database(
    "orders",
    {
        "network": network,
        "engine": "postgres",
        "multi_az": False,
        "deletion_protection": False,
        "owner": "orders",
    },
)
api = WebService(
    "orders-api",
    {
        "cluster": cluster,
        "database": database,
        "image": config.require("image"),
        "desired_count": 1,
        "min_count": 1,
        "max_count": 2,
        "owner": "orders",
    },
)

pulumi.export("url", api.url)
pulumi.export("databaseEndpoint", database.endpoint)
