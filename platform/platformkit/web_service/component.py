"""``WebService``: one container on the cluster's Fargate capacity, behind the cluster's ALB.

What it creates (every child parented to the component, named ``<name>-<part>``):

- the image: either the URI you give, or an ECR repository (immutable tags, scan on push, KMS)
  with a lifecycle policy and an ``awsx.ecr.Image`` built from a Docker context;
- a Fargate task definition (read-only root filesystem with a writable ``/tmp`` volume,
  non-root user, all Linux capabilities dropped, awslogs to its own log group, container health
  check) and separate execution and task roles with inline least-privilege policies;
- a security group, a target group, a listener rule on the cluster's listener and the ECS
  service in private subnets (no public IP, circuit breaker with rollback);
- target-tracking autoscaling on CPU and ALB requests per target;
- alarms to an encrypted SNS topic (optional e-mail subscription) and a CloudWatch dashboard.

``database=db`` wires a ``Database``: the database admits the service's security group, and the
container gets ``DB_HOST``, ``DB_PORT``, ``DB_NAME``, ``DB_ENGINE`` as environment variables and
``DB_USERNAME``/``DB_PASSWORD`` from the RDS-managed secret through ECS ``secrets``. RDS rotates
that secret, and ECS resolves ``secrets`` only when a task starts, so the container also gets
``DB_SECRET_ARN`` and its task role may read that one secret: the application re-reads the
credentials when a new connection is refused.

Two deliberate trade-offs:

- ``desired_count`` only sets the task count at creation (``ignore_changes=["desiredCount"]``):
  afterwards autoscaling owns it, so an update never resets a scaled-out service to the
  configured number. The price (terraform-aws-modules/terraform-aws-ecs#346): changing
  ``desired_count`` later does nothing; change ``min_count``/``max_count`` instead.
- A built image is pushed under a tag derived from the *content* of the build context
  (``sha-<hash>``): the repository's tags are immutable, so the tag must change exactly when
  the image can. The task definition then pins the pushed digest, not the tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from platformkit.cluster.args import CapacityProviderStrategy, ClusterRef
from platformkit.component_base import Component
from platformkit.iam import Caller
from platformkit.web_service.args import CONTAINER_NAME, TYPE_TOKEN, WebServiceArgs
from platformkit.web_service.iam import container_secrets, create_roles
from platformkit.web_service.image import create_image
from platformkit.web_service.observability import (
    create_alarms,
    create_dashboard,
    create_observability_key,
)
from platformkit.web_service.settings import read_settings


class WebService(Component):
    """A containerised HTTP service on Fargate behind the cluster's load balancer."""

    url: pulumi.Output[str]
    """Where the service answers (the cluster URL, or the first host header)."""
    service: aws.ecs.Service
    """The ECS service."""
    service_name: pulumi.Output[str]
    """Name of the ECS service (the ``ServiceName`` CloudWatch dimension)."""
    repository_url: pulumi.Output[str] | None
    """URL of the ECR repository created for ``build``; ``None`` with ``image``."""
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
        # Validate before registering, so a bad argument leaves no half-built component.
        settings = read_settings(name, args)
        super().__init__(TYPE_TOKEN, name, settings.tags, opts)
        self._settings = settings
        self._caller = caller = Caller.of(self)
        cluster = settings.cluster

        key = create_observability_key(self, caller)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            retention_in_days=settings.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags,
            opts=self._child(),
        )
        repository_arn, self.repository_url, self.image_uri = create_image(self, settings)
        execution_role, task_role = create_roles(self, settings, caller, log_group, repository_arn)
        task_definition = self._create_task_definition(log_group, execution_role, task_role)
        security_group = self._create_security_group()
        target_group, listener_rule = self._create_routing()
        service = self._create_service(task_definition, security_group, target_group, listener_rule)
        self._create_autoscaling(service, target_group)
        topic = create_alarms(self, settings, key, service, target_group)
        dashboard = create_dashboard(self, settings, caller, service, target_group)

        self.service = service
        self.service_name = service.name
        self.url = self._url(cluster)
        self.dashboard_name = dashboard.dashboard_name
        self.alarm_topic_arn = topic.arn
        self.log_group_name = log_group.name
        self.security_group_id = security_group.id
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.target_group_arn = target_group.arn
        # The service's own ``task_definition``, as the provider reads it back once the service
        # is steady (``wait_for_steady_state``), checked against the revision asked for: when
        # the circuit breaker rolls a deployment back, the wait still succeeds (the service is
        # steady on the previous revision; terraform-provider-aws#19519), and only the read-back
        # tells. Registered below, so a rollback fails `pulumi up` instead of passing silently,
        # and a schedule never runs the revision that failed.
        self.task_definition_arn = pulumi.Output.all(
            service.task_definition, task_definition.arn, service.name
        ).apply(lambda values: _deployed(*values))
        self.register_outputs(
            {
                "url": self.url,
                "serviceName": self.service_name,
                "repositoryUrl": self.repository_url,
                "imageUri": self.image_uri,
                "dashboardName": self.dashboard_name,
                "alarmTopicArn": self.alarm_topic_arn,
                "logGroupName": self.log_group_name,
                "securityGroupId": self.security_group_id,
                "taskRoleArn": self.task_role_arn,
                "executionRoleArn": self.execution_role_arn,
                "targetGroupArn": self.target_group_arn,
                "taskDefinitionArn": self.task_definition_arn,
            }
        )

    # --- the task and its service -------------------------------------------------------

    def _environment(self) -> dict[str, pulumi.Input[str]]:
        database = self._settings.database
        env: dict[str, pulumi.Input[str]] = {}
        if database is not None:
            env["DB_HOST"] = database.address
            env["DB_PORT"] = pulumi.Output.from_input(database.port).apply(str)
            env["DB_NAME"] = database.database_name
            env["DB_ENGINE"] = database.engine
            env["DB_SECRET_ARN"] = database.master_secret_arn
        env.update(self._settings.environment_variables)
        return env

    def _create_task_definition(
        self,
        log_group: aws.cloudwatch.LogGroup,
        execution_role: aws.iam.Role,
        task_role: aws.iam.Role,
    ) -> aws.ecs.TaskDefinition:
        s = self._settings
        environment = self._environment()
        secrets = container_secrets(s)
        container = {
            "name": CONTAINER_NAME,
            "image": self.image_uri,
            "essential": True,
            "user": s.user,
            "privileged": False,
            "readonlyRootFilesystem": True,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
            "portMappings": [
                {"name": "http", "containerPort": s.container_port, "protocol": "tcp"}
            ],
            # The only writable path: the root filesystem is read-only.
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "environment": [{"name": k, "value": environment[k]} for k in sorted(environment)],
            "secrets": [{"name": k, "valueFrom": secrets[k]} for k in sorted(secrets)],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": self._caller.region,
                    "awslogs-stream-prefix": "ecs",
                },
            },
            "healthCheck": {
                "command": list(s.health_check_command),
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": min(s.health_check_grace_period_seconds, 300),  # ECS maximum
            },
        }
        return aws.ecs.TaskDefinition(
            f"{self._name}-task",
            family=f"{pulumi.get_project()}-{pulumi.get_stack()}-{self._name}",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(s.cpu),
            memory=str(s.memory),
            runtime_platform={
                "operating_system_family": "LINUX",
                "cpu_architecture": s.cpu_architecture,
            },
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            # A bind mount without a host path is Fargate task storage: writable, per task.
            volumes=[{"name": "tmp"}],
            container_definitions=pulumi.Output.json_dumps([container]),
            tags=self._tags,
            opts=self._child(),
        )

    def _create_security_group(self) -> aws.ec2.SecurityGroup:
        cluster, ref = self._settings.cluster, self._settings.database
        port = self._settings.container_port
        # Rules are separate resources (never inline) so other components can add theirs. The
        # cluster's ALB group already lets traffic out to the VPC on its target port range.
        group = aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            vpc_id=cluster.network.vpc_id,
            description=f"Tasks of web service {self._name}",
            tags=self._tags,
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-alb",
            security_group_id=group.id,
            referenced_security_group_id=cluster.alb_security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="Container port from the cluster load balancer only",
            tags=self._tags,
            opts=self._child(),
        )
        # 443 out reaches ECR, Secrets Manager and CloudWatch Logs through the NAT or endpoints.
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-https-out",
            security_group_id=group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to AWS APIs (ECR, Secrets Manager, CloudWatch Logs)",
            tags=self._tags,
            opts=self._child(),
        )
        if ref is None:
            return group
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-to-db",
            security_group_id=group.id,
            referenced_security_group_id=ref.security_group_id,
            ip_protocol="tcp",
            from_port=ref.port,
            to_port=ref.port,
            description=pulumi.Output.concat("Web service to its ", ref.engine, " database"),
            tags=self._tags,
            opts=self._child(),
        )
        database = self._settings.database_owner
        if database is not None:
            # The database owns its ingress rule (named ``<db>-from-<service>``).
            database.allow_from(self._name, group.id)
        else:
            # A database owned elsewhere (another stack, another language): the service adds
            # the rule to the database's group itself.
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-db-ingress",
                security_group_id=ref.security_group_id,
                referenced_security_group_id=group.id,
                ip_protocol="tcp",
                from_port=ref.port,
                to_port=ref.port,
                description=pulumi.Output.format("{0} clients on port {1}", ref.engine, ref.port),
                tags=self._tags,
                opts=self._child(),
            )
        return group

    def _create_routing(self) -> tuple[aws.lb.TargetGroup, aws.lb.ListenerRule]:
        s = self._settings
        cluster = s.cluster
        target_group = aws.lb.TargetGroup(
            f"{self._name}-tg",
            vpc_id=cluster.network.vpc_id,
            target_type="ip",
            protocol="HTTP",
            port=s.container_port,
            deregistration_delay=s.deregistration_delay,
            health_check={
                "enabled": True,
                "path": s.health_check_path,
                "protocol": "HTTP",
                "port": "traffic-port",
                "matcher": "200-399",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags=self._tags,
            opts=self._child(),
        )
        conditions: list[aws.lb.ListenerRuleConditionArgsDict] = []
        if s.path_patterns:
            conditions.append({"path_pattern": {"values": list(s.path_patterns)}})
        if s.host_headers:
            conditions.append({"host_header": {"values": list(s.host_headers)}})
        rule = aws.lb.ListenerRule(
            f"{self._name}-rule",
            listener_arn=cluster.listener_arn,
            priority=s.listener_rule_priority,
            actions=[{"type": "forward", "target_group_arn": target_group.arn}],
            conditions=conditions,
            tags=self._tags,
            opts=self._child(),
        )
        return target_group, rule

    def _create_service(
        self,
        task_definition: aws.ecs.TaskDefinition,
        security_group: aws.ec2.SecurityGroup,
        target_group: aws.lb.TargetGroup,
        listener_rule: aws.lb.ListenerRule,
    ) -> aws.ecs.Service:
        s = self._settings
        cluster = s.cluster
        strategy = cluster.capacity_provider_strategy
        strategies: pulumi.Input[Sequence[aws.ecs.ServiceCapacityProviderStrategyArgsDict]] | None
        if isinstance(strategy, Sequence):
            strategies = _service_strategies(strategy) or None
        else:
            # An output (a cluster from another stack or language): a Cluster's strategy is
            # never empty, so it replaces the launch type as a known one does.
            strategies = pulumi.Output.from_input(cluster.capacity_provider_strategy).apply(
                _service_strategies
            )
        return aws.ecs.Service(
            f"{self._name}-service",
            cluster=cluster.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=s.desired_count,
            # A strategy and a launch type are mutually exclusive in the ECS API.
            launch_type=None if strategies is not None else "FARGATE",
            capacity_provider_strategies=strategies,
            platform_version="LATEST",
            # Changing the capacity strategy (e.g. FARGATE -> FARGATE_SPOT) then rolls the
            # tasks instead of replacing the service.
            force_new_deployment=True,
            network_configuration={
                "subnets": cluster.network.private_subnet_ids,
                "security_groups": [security_group.id],
                "assign_public_ip": False,
            },
            load_balancers=[
                {
                    "target_group_arn": target_group.arn,
                    "container_name": CONTAINER_NAME,
                    "container_port": s.container_port,
                }
            ],
            health_check_grace_period_seconds=s.health_check_grace_period_seconds,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # Waits for the deployment to settle; a rollback settles too, which
            # ``_deployed`` turns into a failed update.
            wait_for_steady_state=True,
            tags=self._tags,
            opts=self._child(
                # ECS rejects a target group that no listener uses yet.
                depends_on=[listener_rule],
                # Autoscaling owns the task count after creation; see the module docstring.
                ignore_changes=["desiredCount"],
            ),
        )

    def _create_autoscaling(
        self, service: aws.ecs.Service, target_group: aws.lb.TargetGroup
    ) -> None:
        s = self._settings
        cluster = s.cluster
        target = aws.appautoscaling.Target(
            f"{self._name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.cluster_name, "/", service.name),
            min_capacity=s.min_count,
            max_capacity=s.max_count,
            tags=self._tags,
            opts=self._child(),
        )
        common: dict[str, Any] = {
            "policy_type": "TargetTrackingScaling",
            "service_namespace": target.service_namespace,
            "scalable_dimension": target.scalable_dimension,
            "resource_id": target.resource_id,
        }
        aws.appautoscaling.Policy(
            f"{self._name}-scale-cpu",
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                },
                "target_value": s.cpu_target,
                "scale_in_cooldown": 300,
                "scale_out_cooldown": 60,
            },
            opts=self._child(),
            **common,
        )
        aws.appautoscaling.Policy(
            f"{self._name}-scale-requests",
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": pulumi.Output.concat(
                        cluster.load_balancer_arn_suffix, "/", target_group.arn_suffix
                    ),
                },
                "target_value": float(s.requests_per_target),
                "scale_in_cooldown": 300,
                "scale_out_cooldown": 60,
            },
            opts=self._child(),
            **common,
        )

    def _url(self, cluster: ClusterRef) -> pulumi.Output[str]:
        hosts = self._settings.host_headers
        if hosts and "*" not in hosts[0] and "?" not in hosts[0]:
            return pulumi.Output.from_input(cluster.https).apply(
                lambda https: f"{'https' if https else 'http'}://{hosts[0]}"
            )
        return pulumi.Output.from_input(cluster.url)


def _service_strategies(
    strategy: Sequence[CapacityProviderStrategy],
) -> list[aws.ecs.ServiceCapacityProviderStrategyArgsDict]:
    """The cluster's capacity provider strategy in the ECS service's terms."""
    entries: list[aws.ecs.ServiceCapacityProviderStrategyArgsDict] = []
    for item in strategy:
        entry: aws.ecs.ServiceCapacityProviderStrategyArgsDict = {
            "capacity_provider": item["capacity_provider"],
            "weight": item["weight"],
        }
        if "base" in item:
            entry["base"] = item["base"]
        entries.append(entry)
    return entries


def _deployed(running: str | None, requested: str, service_name: str) -> str:
    """``running``, the revision the service reads back as running, once it is ``requested``.

    Raises ``pulumi.RunError`` (a clean failure of the update, no stack trace) when they
    differ: the circuit breaker rolled the deployment back."""
    if running and requested and running != requested:
        raise pulumi.RunError(
            f"ECS rolled back the deployment of service {service_name!r}: it runs {running}, "
            f"not {requested}, whose tasks never got healthy. See the service's events and the "
            "stopped tasks' reasons (`platformkit verify` reports the trip), fix the image or "
            "its configuration, and run `pulumi up` again."
        )
    return running or ""
