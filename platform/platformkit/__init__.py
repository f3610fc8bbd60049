"""platformkit: secure-by-default Pulumi components for AWS.

Public API::

    from platformkit import Network, NetworkArgs, NetworkRef
    from platformkit import Cluster, ClusterArgs, CapacityProviderStrategy
    from platformkit import Database, DatabaseArgs
    from platformkit import WebService, WebServiceArgs, DockerBuild
    from platformkit import ScheduledTask, ScheduledTaskArgs
    from platformkit import create_log_key
"""

from platformkit.cluster import CapacityProviderStrategy as CapacityProviderStrategy
from platformkit.cluster import Cluster as Cluster
from platformkit.cluster import ClusterArgs as ClusterArgs
from platformkit.database import Database as Database
from platformkit.database import DatabaseArgs as DatabaseArgs
from platformkit.log_key import create_log_key as create_log_key
from platformkit.network import Network as Network
from platformkit.network import NetworkArgs as NetworkArgs
from platformkit.network_ref import NetworkRef as NetworkRef
from platformkit.scheduled_task import ScheduledTask as ScheduledTask
from platformkit.scheduled_task import ScheduledTaskArgs as ScheduledTaskArgs
from platformkit.web_service import DockerBuild as DockerBuild
from platformkit.web_service import WebService as WebService
from platformkit.web_service import WebServiceArgs as WebServiceArgs

__all__ = [
    "CapacityProviderStrategy",
    "Cluster",
    "ClusterArgs",
    "Database",
    "DatabaseArgs",
    "DockerBuild",
    "Network",
    "NetworkArgs",
    "NetworkRef",
    "ScheduledTask",
    "ScheduledTaskArgs",
    "WebService",
    "WebServiceArgs",
    "create_log_key",
]
