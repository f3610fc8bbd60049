"""platformkit: secure-by-default Pulumi components for AWS.

Public API::

    from platformkit import Network, NetworkArgs, NetworkRef
    from platformkit import Cluster, ClusterArgs
    from platformkit import Database, DatabaseArgs
    from platformkit import WebService, WebServiceArgs
"""

from platformkit.network_ref import NetworkRef as NetworkRef

__all__ = ["NetworkRef"]
