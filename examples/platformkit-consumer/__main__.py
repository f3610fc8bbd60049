"""A payments API in a VPC its team already has, built from platformkit components.

Shows the import path other projects use (``pip install platformkit``) and the
``NetworkRef`` that adopts an existing network instead of creating one.
"""

import pulumi

from platformkit import Cluster, Database, NetworkRef, WebService

config = pulumi.Config()

existing = NetworkRef(
    vpc_id="vpc-0a1b2c3d4e5f60718",
    vpc_cidr_block="10.40.0.0/16",
    public_subnet_ids=["subnet-0aa0000000000001a", "subnet-0aa0000000000001b"],
    private_subnet_ids=["subnet-0bb0000000000001a", "subnet-0bb0000000000001b"],
    isolated_subnet_ids=["subnet-0cc0000000000001a", "subnet-0cc0000000000001b"],
)

cluster = Cluster("payments", {"network": existing, "waf": False, "owner": "payments"})
database = Database(
    "payments",
    {
        "network": existing,
        "engine": "postgres",
        "multi_az": False,
        "deletion_protection": False,
        "instance_class": "db.t4g.medium",
        "owner": "payments",
    },
)
api = WebService(
    "payments-api",
    {
        "cluster": cluster,
        "database": database,
        "image": config.require("image"),
        "desired_count": 1,
        "min_count": 1,
        "max_count": 3,
        "owner": "payments",
    },
)

pulumi.export("url", api.url)
pulumi.export("databaseEndpoint", database.endpoint)
