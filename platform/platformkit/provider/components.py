"""The components the package hosts: facades over the library's ``Network``, ``Cluster``,
``Database``, ``WebService`` and ``ScheduledTask``.

Pulumi's component provider infers each component's schema from a ``ComponentResource``
class (its ``__init__``'s ``args`` annotation for the inputs, its class annotations for the
outputs) and constructs a component by calling that class. The library classes cannot be
analyzed as they are (their annotations are strings, and some are Python objects with no
schema form), so each class here declares the schema and, when called, builds the library
component under the same type token and name, then carries its outputs. It does not register
a resource of its own (no ``super().__init__``): the library component is the resource, with
the children and URNs a Python program would get.

Output docstrings are the library's (a test keeps them identical). Left out of the outputs:
the resource objects (``vpc``, ``cluster``, ``load_balancer``, ``listener``, ``instance``,
``service``), whose schema form would tie every generated SDK to pulumi-aws's, and values
that only exist with a left-out input (``repository_url``, of ``build``); their ids and ARNs
are outputs.

No ``from __future__ import annotations`` here: the analyzer reads the annotations at run time.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import pulumi

import platformkit.cluster
import platformkit.database
import platformkit.network
import platformkit.network_ref
import platformkit.scheduled_task
import platformkit.web_service
from platformkit.provider.args import (
    ClusterArgs,
    DatabaseArgs,
    NetworkArgs,
    ScheduledTaskArgs,
    WebServiceArgs,
)
from platformkit.provider.schema_types import (
    CapacityProviderStrategy,
    ClusterRef,
    DatabaseRef,
    NetworkRef,
)

OMITTED_OUTPUTS: Mapping[str, frozenset[str]] = {
    "Network": frozenset({"vpc"}),
    "Cluster": frozenset({"network", "cluster", "load_balancer", "listener"}),
    "Database": frozenset({"network", "instance", "kms_key_arn"}),
    "WebService": frozenset({"service", "repository_url"}),
}
"""Library attributes the package does not expose as outputs, per component (see above)."""


class _Facade(pulumi.ComponentResource):
    """A component as the schema declares it; the library component it builds is the resource.

    Deliberately no ``super().__init__``: this object registers nothing. The provider asks it
    for the URN and the outputs only.
    """

    _component: pulumi.ComponentResource

    @property
    def urn(self) -> pulumi.Output[str]:
        return self._component.urn


class Network(_Facade):
    __doc__ = platformkit.network.Network.__doc__

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    vpc_cidr_block: pulumi.Output[str]
    """CIDR block of the VPC."""
    availability_zones: pulumi.Output[list[str]]
    """The AZs used, in slot order."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public subnets, one per AZ (empty when ``public_subnets`` is off)."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnets, one per AZ."""
    isolated_subnet_ids: list[pulumi.Output[str]]
    """Isolated subnets, one per AZ."""
    nat_gateway_ids: list[pulumi.Output[str]]
    """NAT gateways (none, one, or one per AZ)."""
    flow_log_group_name: pulumi.Output[str] | None
    """CloudWatch log group receiving the flow logs, when flow logs are on."""
    ref: NetworkRef
    """This network as a ``NetworkRef``, the form the other components accept."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        network = platformkit.network.Network(
            name, cast(platformkit.network.NetworkArgs, dict(args)), opts
        )
        self._component = network
        self.vpc_id = network.vpc_id
        self.vpc_cidr_block = network.vpc_cidr_block
        self.availability_zones = network.availability_zones
        self.public_subnet_ids = network.public_subnet_ids
        self.private_subnet_ids = network.private_subnet_ids
        self.isolated_subnet_ids = network.isolated_subnet_ids
        self.nat_gateway_ids = network.nat_gateway_ids
        self.flow_log_group_name = network.flow_log_group_name
        self.ref = cast(NetworkRef, _as_dict(network.ref))


class Cluster(_Facade):
    __doc__ = platformkit.cluster.Cluster.__doc__

    cluster_name: pulumi.Output[str]
    """Name of the ECS cluster."""
    cluster_arn: pulumi.Output[str]
    """ARN of the ECS cluster."""
    capacity_provider_strategy: list[CapacityProviderStrategy]
    """The default capacity provider strategy (plain values, each with ``base``)."""
    load_balancer_arn: pulumi.Output[str]
    """ARN of the load balancer."""
    load_balancer_arn_suffix: pulumi.Output[str]
    """ARN suffix of the load balancer, the ``LoadBalancer`` CloudWatch metric dimension."""
    dns_name: pulumi.Output[str]
    """DNS name of the load balancer (point a CNAME or alias record at it)."""
    url: pulumi.Output[str]
    """``https://<dns_name>`` with a certificate, else ``http://<dns_name>``."""
    alb_security_group_id: pulumi.Output[str]
    """Security group of the load balancer; services admit traffic from it."""
    listener_arn: pulumi.Output[str]
    """ARN of ``listener``."""
    https: pulumi.Output[bool]
    """Whether the load balancer serves HTTPS."""
    access_log_bucket_name: pulumi.Output[str] | None
    """Bucket receiving the access logs, when ``access_logs`` is on."""
    web_acl_arn: pulumi.Output[str] | None
    """ARN of the WAFv2 web ACL, when ``waf`` is on."""
    ref: ClusterRef
    """This cluster as a ``ClusterRef``, e.g. to export for a service in another stack."""

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # ``target_port_range`` arrives as a list; the library's reader takes a list or a pair.
        library_args: dict[str, Any] = {**args, "network": network_ref(args["network"])}
        cluster = platformkit.cluster.Cluster(
            name, cast(platformkit.cluster.ClusterArgs, library_args), opts
        )
        self._component = cluster
        self.cluster_name = cluster.cluster_name
        self.cluster_arn = cluster.cluster_arn
        self.capacity_provider_strategy = cast(
            list[CapacityProviderStrategy], cluster.capacity_provider_strategy
        )
        self.load_balancer_arn = cluster.load_balancer_arn
        self.load_balancer_arn_suffix = cluster.load_balancer_arn_suffix
        self.dns_name = cluster.dns_name
        self.url = cluster.url
        self.alb_security_group_id = cluster.alb_security_group_id
        self.listener_arn = cluster.listener_arn
        self.https = pulumi.Output.from_input(cluster.https)
        self.access_log_bucket_name = cluster.access_log_bucket_name
        self.web_acl_arn = cluster.web_acl_arn
        ref = cluster.ref
        self.ref = cast(ClusterRef, {**_as_dict(ref), "network": _as_dict(ref.network)})


class Database(_Facade):
    __doc__ = platformkit.database.Database.__doc__

    engine: pulumi.Output[str]
    """``"mysql"`` or ``"postgres"``."""
    port: pulumi.Output[int]
    """Port the engine listens on."""
    database_name: pulumi.Output[str]
    """Name of the database created with the instance."""
    address: pulumi.Output[str]
    """Host name of the instance."""
    endpoint: pulumi.Output[str]
    """``host:port`` of the instance."""
    identifier: pulumi.Output[str]
    """DB instance identifier (the ``DBInstanceIdentifier`` CloudWatch dimension)."""
    security_group_id: pulumi.Output[str]
    """Security group of the instance; admits the engine port from allowed groups only."""
    master_secret_arn: pulumi.Output[str]
    """ARN of the RDS-managed secret, a JSON object with ``username`` and ``password``."""
    ref: DatabaseRef
    """This database as a ``DatabaseRef``, e.g. to export for a service in another stack."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        library_args = {**args, "network": network_ref(args["network"])}
        database = platformkit.database.Database(
            name, cast(platformkit.database.DatabaseArgs, library_args), opts
        )
        self._component = database
        self.engine = pulumi.Output.from_input(database.engine)
        self.port = pulumi.Output.from_input(database.port)
        self.database_name = pulumi.Output.from_input(database.database_name)
        self.address = database.address
        self.endpoint = database.endpoint
        self.identifier = database.identifier
        self.security_group_id = database.security_group_id
        self.master_secret_arn = database.master_secret_arn
        self.ref = cast(DatabaseRef, _as_dict(database.ref))


class WebService(_Facade):
    __doc__ = platformkit.web_service.WebService.__doc__

    url: pulumi.Output[str]
    """Where the service answers (the cluster URL, or the first host header)."""
    service_name: pulumi.Output[str]
    """Name of the ECS service (the ``ServiceName`` CloudWatch dimension)."""
    image_uri: pulumi.Output[str]
    """The image the task runs (by digest when built)."""
    dashboard_name: pulumi.Output[str]
    """Name of the CloudWatch dashboard."""
    alarm_topic_arn: pulumi.Output[str]
    """SNS topic the alarms notify; subscribe more endpoints to it."""
    log_group_name: pulumi.Output[str]
    """CloudWatch log group of the container."""
    security_group_id: pulumi.Output[str]
    """Security group of the tasks; grant it access to other resources."""
    task_role_arn: pulumi.Output[str]
    """Role the application runs as (no permissions unless ``task_role_statements``)."""
    execution_role_arn: pulumi.Output[str]
    """Role the ECS agent uses to pull the image, write logs and read the secrets."""
    target_group_arn: pulumi.Output[str]
    """Target group the listener rule forwards to."""
    task_definition_arn: pulumi.Output[str]
    """ARN of the task definition revision the service runs (e.g. a ``ScheduledTask``'s
    ``task_definition_arn``), read from the service once its deployment is steady. When ECS
    rolled the deployment back, `pulumi up` fails naming both revisions."""

    def __init__(
        self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        library_args: dict[str, Any] = {**args, "cluster": cluster_ref(args["cluster"])}
        if "database" in args:
            library_args["database"] = database_ref(args["database"])
        service = platformkit.web_service.WebService(
            name, cast(platformkit.web_service.WebServiceArgs, library_args), opts
        )
        self._component = service
        self.url = service.url
        self.service_name = service.service_name
        self.image_uri = service.image_uri
        self.dashboard_name = service.dashboard_name
        self.alarm_topic_arn = service.alarm_topic_arn
        self.log_group_name = service.log_group_name
        self.security_group_id = service.security_group_id
        self.task_role_arn = service.task_role_arn
        self.execution_role_arn = service.execution_role_arn
        self.target_group_arn = service.target_group_arn
        self.task_definition_arn = service.task_definition_arn


class ScheduledTask(_Facade):
    __doc__ = platformkit.scheduled_task.ScheduledTask.__doc__

    schedule_arn: pulumi.Output[str]
    """ARN of the schedule."""
    role_arn: pulumi.Output[str]
    """ARN of the role the scheduler assumes to start the task."""

    def __init__(
        self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        task = platformkit.scheduled_task.ScheduledTask(
            name, cast(platformkit.scheduled_task.ScheduledTaskArgs, dict(args)), opts
        )
        self._component = task
        self.schedule_arn = task.schedule_arn
        self.role_arn = task.role_arn


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    Network,
    Cluster,
    Database,
    WebService,
    ScheduledTask,
]
"""The components the package hosts, in schema order."""


# --- refs from the wire ------------------------------------------------------------------
#
# A ref arrives as a dict (its fields plain values or outputs), or as one output of a dict
# when the consumer passed another component's ``ref`` output whole. In the second case each
# field becomes an output of its own: the library accepts outputs in every ref field.


def network_ref(value: Any) -> platformkit.network_ref.NetworkRef:
    """The library ``NetworkRef`` for a ``NetworkRef`` received from a consumer."""
    fields = _fields(value, ("vpc_id", "vpc_cidr_block"), _SUBNET_LISTS)
    return platformkit.network_ref.NetworkRef(**fields)


def cluster_ref(value: Any) -> platformkit.cluster.ClusterRef:
    """The library ``ClusterRef`` for a ``ClusterRef`` received from a consumer."""
    fields = _fields(
        value,
        (
            "network",
            "cluster_name",
            "cluster_arn",
            "listener_arn",
            "alb_security_group_id",
            "load_balancer_arn_suffix",
            "url",
        ),
        {"https": False, "capacity_provider_strategy": _DEFAULT_STRATEGY},
    )
    return platformkit.cluster.ClusterRef(**{**fields, "network": network_ref(fields["network"])})


def database_ref(value: Any) -> platformkit.database.DatabaseRef:
    """The library ``DatabaseRef`` for a ``DatabaseRef`` received from a consumer."""
    fields = _fields(
        value,
        (
            "address",
            "port",
            "engine",
            "database_name",
            "identifier",
            "security_group_id",
            "master_secret_arn",
        ),
        {"kms_key_arn": None},
    )
    return platformkit.database.DatabaseRef(**fields)


_SUBNET_LISTS: Mapping[str, Any] = {
    "public_subnet_ids": (),
    "private_subnet_ids": (),
    "isolated_subnet_ids": (),
}
_DEFAULT_STRATEGY = [dict(e) for e in platformkit.cluster.DEFAULT_CAPACITY_PROVIDER_STRATEGY]


def _fields(value: Any, required: tuple[str, ...], optional: Mapping[str, Any]) -> dict[str, Any]:
    """The ``required`` and ``optional`` fields of ``value``, a dict or an output of one."""
    if isinstance(value, pulumi.Output):
        whole: pulumi.Output[Any] = value
        names = {**dict.fromkeys(required), **optional}
        return {name: _field_of(whole, name, default) for name, default in names.items()}
    return {**optional, **{name: value[name] for name in required}, **_present(value, optional)}


def _field_of(value: pulumi.Output[Any], name: str, default: Any) -> pulumi.Output[Any]:
    return value.apply(lambda resolved: (resolved or {}).get(name, default))


def _present(value: Mapping[str, Any], names: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value[name] for name in names if value.get(name) is not None}


def _as_dict(ref: Any) -> dict[str, Any]:
    """A library ref (a dataclass) as the dict the provider maps to schema names.

    Not ``dataclasses.asdict``: it deep-copies, and outputs must stay the same objects.
    """
    return {field.name: getattr(ref, field.name) for field in dataclasses.fields(ref)}
