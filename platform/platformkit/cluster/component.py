"""``Cluster``: an ECS Fargate cluster behind a hardened, internet-facing load balancer."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformkit.cluster.access_logs import ACCESS_LOG_PREFIX, create_access_log_bucket
from platformkit.cluster.args import (
    CAPACITY_PROVIDERS,
    HTTP_PORT,
    HTTPS_PORT,
    CapacityProviderStrategy,
    ClusterArgs,
    ClusterRef,
)
from platformkit.cluster.names import ALB_NAME, MAX_ALB_NAME, physical_name
from platformkit.cluster.settings import ClusterSettings, read_settings
from platformkit.cluster.waf import create_web_acl
from platformkit.component_base import Component
from platformkit.log_bucket import LogBucket
from platformkit.network_ref import NetworkRef


class Cluster(Component):
    """An ECS cluster for Fargate services and the load balancer in front of them.

    - ECS cluster with Container Insights; FARGATE and FARGATE_SPOT attached, with a default
      strategy services inherit;
    - internet-facing ALB in the public subnets: invalid headers dropped, defensive desync
      mitigation, deletion protection, access logs to an encrypted, private, versioned bucket
      whose own access is logged to a second bucket;
    - its security group admits ``ingress_cidrs`` on the listener ports only and reaches the
      VPC CIDR on ``target_port_range`` only (services add ingress from it);
    - with a certificate, HTTPS on 443 with a TLS 1.3 policy and HTTP on 80 redirecting to it;
    - optionally a WAFv2 web ACL with AWS managed rules, logging its requests to CloudWatch.

    Services attach listener rules to ``listener``; its default action answers 404.
    """

    network: NetworkRef
    """The network the cluster runs in."""
    cluster: aws.ecs.Cluster
    cluster_name: pulumi.Output[str]
    """Name of the ECS cluster."""
    cluster_arn: pulumi.Output[str]
    """ARN of the ECS cluster."""
    capacity_provider_strategy: list[CapacityProviderStrategy]
    """The default capacity provider strategy (plain values, each with ``base``)."""
    load_balancer: aws.lb.LoadBalancer
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
    listener: aws.lb.Listener
    """The listener services attach rules to: HTTPS with a certificate, else HTTP."""
    listener_arn: pulumi.Output[str]
    """ARN of ``listener``."""
    https: bool
    """Whether the load balancer serves HTTPS."""
    access_log_bucket_name: pulumi.Output[str] | None
    """Bucket receiving the access logs, when ``access_logs`` is on."""
    web_acl_arn: pulumi.Output[str] | None
    """ARN of the WAFv2 web ACL, when ``waf`` is on."""

    def __init__(
        self,
        name: str,
        args: ClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Validate before registering, so a bad argument leaves no half-built component.
        settings = read_settings(name, args)
        super().__init__("platformkit:index:Cluster", name, settings.tags, opts)
        self.network = settings.network
        self.https = settings.certificate_arn is not None
        self.capacity_provider_strategy = settings.capacity_provider_strategy

        self.cluster = self._create_ecs_cluster(settings)
        self.cluster_name = self.cluster.name
        self.cluster_arn = self.cluster.arn

        security_group = self._create_security_group(settings)
        self.alb_security_group_id = security_group.id

        log_bucket = create_access_log_bucket(self, settings) if settings.access_logs else None
        self.access_log_bucket_name = log_bucket.bucket.bucket if log_bucket else None
        self.load_balancer = self._create_load_balancer(settings, security_group, log_bucket)
        self.load_balancer_arn = self.load_balancer.arn
        self.load_balancer_arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        scheme = "https" if self.https else "http"
        self.url = self.dns_name.apply(lambda dns: f"{scheme}://{dns}")

        self.listener = self._create_listeners(settings)
        self.listener_arn = self.listener.arn
        self.web_acl_arn = (
            create_web_acl(self, settings, self.load_balancer.arn) if settings.waf else None
        )

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "loadBalancerArn": self.load_balancer_arn,
                "loadBalancerArnSuffix": self.load_balancer_arn_suffix,
                "dnsName": self.dns_name,
                "url": self.url,
                "albSecurityGroupId": self.alb_security_group_id,
                "listenerArn": self.listener_arn,
                "accessLogBucketName": self.access_log_bucket_name,
                "webAclArn": self.web_acl_arn,
            }
        )

    @property
    def ref(self) -> ClusterRef:
        """This cluster as a ``ClusterRef``, e.g. to export for a service in another stack."""
        return ClusterRef(
            network=self.network,
            cluster_name=self.cluster_name,
            cluster_arn=self.cluster_arn,
            listener_arn=self.listener_arn,
            alb_security_group_id=self.alb_security_group_id,
            load_balancer_arn_suffix=self.load_balancer_arn_suffix,
            url=self.url,
            https=self.https,
            capacity_provider_strategy=self.capacity_provider_strategy,
        )

    # --- ECS ----------------------------------------------------------------------------

    def _create_ecs_cluster(self, settings: ClusterSettings) -> aws.ecs.Cluster:
        cluster = aws.ecs.Cluster(
            f"{self._name}-ecs",
            settings=[{"name": "containerInsights", "value": settings.container_insights}],
            # ECS Exec sessions are logged through each task's awslogs configuration.
            configuration={"execute_command_configuration": {"logging": "DEFAULT"}},
            tags=self._tags,
            opts=self._child(),
        )
        aws.ecs.ClusterCapacityProviders(
            f"{self._name}-capacity",
            cluster_name=cluster.name,
            # Both providers are attached so a service may override the default strategy.
            capacity_providers=list(CAPACITY_PROVIDERS),
            default_capacity_provider_strategies=[
                {
                    "capacity_provider": entry["capacity_provider"],
                    "weight": entry["weight"],
                    "base": entry.get("base", 0),
                }
                for entry in settings.capacity_provider_strategy
            ],
            opts=self._child(),
        )
        return cluster

    # --- load balancer ------------------------------------------------------------------

    def _listener_ports(self) -> list[int]:
        return [HTTP_PORT, HTTPS_PORT] if self.https else [HTTP_PORT]

    def _create_security_group(self, settings: ClusterSettings) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{self._name}-alb-sg",
            description=f"Load balancer of cluster {self._name}: listener ports in, VPC out",
            vpc_id=settings.network.vpc_id,
            # Rules are standalone resources (below): mixing inline rules with them makes the
            # provider fight over the group's rule set.
            tags={**self._tags, "Name": f"{self._name}-alb"},
            opts=self._child(),
        )
        for port in self._listener_ports():
            for cidr in settings.ingress_cidrs:
                aws.vpc.SecurityGroupIngressRule(
                    f"{self._name}-alb-in-{port}-{cidr.replace('/', '-')}",
                    security_group_id=group.id,
                    description=f"Clients to the load balancer listener on TCP {port}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    tags=self._tags,
                    opts=self._child(),
                )
        low, high = settings.target_port_range
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-alb-out-vpc",
            security_group_id=group.id,
            description=f"Load balancer to targets and health checks in the VPC, TCP {low}-{high}",
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            cidr_ipv4=settings.network.vpc_cidr_block,
            tags=self._tags,
            opts=self._child(),
        )
        return group

    def _create_load_balancer(
        self,
        settings: ClusterSettings,
        security_group: aws.ec2.SecurityGroup,
        log_bucket: LogBucket | None,
    ) -> aws.lb.LoadBalancer:
        logical = f"{self._name}-alb"
        access_logs: aws.lb.LoadBalancerAccessLogsArgsDict | None = None
        depends_on: list[pulumi.Resource] = []
        if log_bucket is not None:
            access_logs = {
                "bucket": log_bucket.bucket.bucket,
                "prefix": ACCESS_LOG_PREFIX,
                "enabled": True,
            }
            # AWS checks it can write a test object when logging is turned on.
            depends_on = log_bucket.prerequisites
        return aws.lb.LoadBalancer(
            logical,
            name=physical_name(logical, MAX_ALB_NAME, ALB_NAME),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=settings.network.public_subnet_ids,
            security_groups=[security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=settings.deletion_protection,
            idle_timeout=settings.idle_timeout,
            access_logs=access_logs,
            tags=self._tags,
            opts=self._child(depends_on=depends_on),
        )

    def _create_listeners(self, settings: ClusterSettings) -> aws.lb.Listener:
        not_found: aws.lb.ListenerDefaultActionArgsDict = {
            "type": "fixed-response",
            "fixed_response": {
                "content_type": "text/plain",
                "message_body": "Not Found",
                "status_code": "404",
            },
        }
        if settings.certificate_arn is None:
            return aws.lb.Listener(
                f"{self._name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[not_found],
                tags=self._tags,
                opts=self._child(),
            )
        https = aws.lb.Listener(
            f"{self._name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=settings.tls_policy,
            certificate_arn=settings.certificate_arn,
            default_actions=[not_found],
            tags=self._tags,
            opts=self._child(),
        )
        aws.lb.Listener(
            f"{self._name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {
                        "protocol": "HTTPS",
                        "port": str(HTTPS_PORT),
                        "status_code": "HTTP_301",
                    },
                }
            ],
            tags=self._tags,
            opts=self._child(),
        )
        return https
