"""``Network``: a three-tier VPC with a stable CIDR plan and locked-down defaults.

- ``args``: ``NetworkArgs`` and the defaults, ranges and tables it is checked against;
- ``settings``: the arguments read into ``NetworkSettings``, and the subnet CIDR plan;
- ``component``: the ``Network`` component (VPC, subnets, ACLs, routes, NAT, endpoints);
- ``flow_logs``: the VPC flow logs, their log group and delivery role.
"""

from platformkit.network.args import AZ_COUNT as AZ_COUNT
from platformkit.network.args import MAX_AZ_COUNT as MAX_AZ_COUNT
from platformkit.network.args import MIN_AZ_COUNT as MIN_AZ_COUNT
from platformkit.network.args import NAT_STRATEGY as NAT_STRATEGY
from platformkit.network.args import VPC_ENDPOINT as VPC_ENDPOINT
from platformkit.network.args import NetworkArgs as NetworkArgs
from platformkit.network.args import SubnetCidrs as SubnetCidrs
from platformkit.network.component import Network as Network
from platformkit.network.settings import plan_subnet_cidrs as plan_subnet_cidrs

__all__ = [
    "AZ_COUNT",
    "MAX_AZ_COUNT",
    "MIN_AZ_COUNT",
    "NAT_STRATEGY",
    "VPC_ENDPOINT",
    "Network",
    "NetworkArgs",
    "SubnetCidrs",
    "plan_subnet_cidrs",
]
