"""``Cluster``: an ECS Fargate cluster behind a hardened, internet-facing load balancer.

- ``args``: ``ClusterArgs``, ``ClusterRef`` and the defaults, ranges and tables they use;
- ``settings``: the arguments read into ``ClusterSettings``;
- ``component``: the ``Cluster`` component (ECS cluster, load balancer, listeners);
- ``access_logs``: the access log buckets; ``waf``: the web ACL and its logging;
- ``names``: physical names AWS requires.
"""

from platformkit.cluster.args import CAPACITY_PROVIDER as CAPACITY_PROVIDER
from platformkit.cluster.args import (
    DEFAULT_CAPACITY_PROVIDER_STRATEGY as DEFAULT_CAPACITY_PROVIDER_STRATEGY,
)
from platformkit.cluster.args import DEFAULT_TLS_POLICY as DEFAULT_TLS_POLICY
from platformkit.cluster.args import CapacityProviderStrategy as CapacityProviderStrategy
from platformkit.cluster.args import ClusterArgs as ClusterArgs
from platformkit.cluster.args import ClusterRef as ClusterRef
from platformkit.cluster.args import HasClusterRef as HasClusterRef
from platformkit.cluster.args import as_cluster_ref as as_cluster_ref
from platformkit.cluster.component import Cluster as Cluster

__all__ = [
    "as_cluster_ref",
    "HasClusterRef",
    "CAPACITY_PROVIDER",
    "DEFAULT_CAPACITY_PROVIDER_STRATEGY",
    "DEFAULT_TLS_POLICY",
    "CapacityProviderStrategy",
    "Cluster",
    "ClusterArgs",
    "ClusterRef",
]
