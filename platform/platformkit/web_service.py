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

import fnmatch
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from platformkit.cluster import CapacityProviderStrategy, Cluster, ClusterRef
from platformkit.database import Database, DatabaseRef
from platformkit.iam import service_trust_policy
from platformkit.log_key import DELETION_WINDOW_DAYS, account_administers, logs_may_encrypt
from platformkit.tags import standard_tags
from platformkit.validation import invalid, require_choice, require_range

COMPONENT = "WebService"
TYPE_TOKEN = "platformkit:index:WebService"

CONTAINER_NAME = "app"
"""Name of the single container in the task definition (targets and logs refer to it)."""
DEFAULT_CONTAINER_PORT = 8080
DEFAULT_CPU = 512
DEFAULT_MEMORY = 1024
DEFAULT_CPU_ARCHITECTURE = "X86_64"
CPU_ARCHITECTURES = ("X86_64", "ARM64")
DEFAULT_USER = "10001"
"""UID the container runs as; the service image creates this non-root user."""
DEFAULT_DESIRED_COUNT = 2
DEFAULT_MIN_COUNT = 2
DEFAULT_MAX_COUNT = 10
MAX_TASK_COUNT = 1000
DEFAULT_CPU_TARGET = 60.0
DEFAULT_REQUESTS_PER_TARGET = 1000
DEFAULT_HEALTH_CHECK_PATH = "/healthz"
DEFAULT_HEALTH_CHECK_GRACE_PERIOD = 60
DEFAULT_DEREGISTRATION_DELAY = 30
DEFAULT_PATH_PATTERNS = ("/*",)
DEFAULT_LISTENER_RULE_PRIORITY = 100
DEFAULT_LOG_RETENTION_DAYS = 365
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
"""The only values CloudWatch Logs accepts for ``retentionInDays`` (never-expire is not offered)."""
DEFAULT_ALARM_5XX_PERCENT = 5.0
DEFAULT_ALARM_P99_LATENCY_SECONDS = 2.0
DEFAULT_ALARM_CPU_PERCENT = 85.0
UNTAGGED_IMAGE_EXPIRY_DAYS = 7
KEEP_IMAGE_COUNT = 50

# Fargate's valid task sizes: CPU units → allowed memory (MiB).
FARGATE_MEMORY: Mapping[int, Sequence[int]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}

DATABASE_ENV_NAMES = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_ENGINE", "DB_SECRET_ARN")
DATABASE_SECRET_NAMES = ("DB_USERNAME", "DB_PASSWORD")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_LOOKING = re.compile(
    r"PASSW(OR)?D|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)[A-Z]*KEY(_|$)", re.IGNORECASE
)
_ROOT_USERS = ("0", "root")

_Fail = Callable[[str, object, str], ValueError]
_ASSUME_ROLE_PRINCIPAL = "ecs-tasks.amazonaws.com"


class DockerBuild(TypedDict):
    """How to build the service image from source."""

    context: str
    """Directory of the Docker build context (relative to the Pulumi program's directory)."""
    dockerfile: NotRequired[str]
    """Path of the Dockerfile. Defaults to ``Dockerfile`` in ``context``."""
    platform: NotRequired[str]
    """Target platform, e.g. ``linux/arm64``. Defaults to the one matching ``cpu_architecture``."""


class WebServiceArgs(TypedDict):
    """Arguments of ``WebService``. Sizes and counts are plain values: they are validated."""

    cluster: Cluster | ClusterRef
    """The ``Cluster`` (or a ``ClusterRef`` to one, e.g. from another stack) to run on; its ALB
    listener routes to the service. Required."""
    image: NotRequired[pulumi.Input[str]]
    """URI of a prebuilt image (pin a digest). Exclusive with ``build``. Defaults to none."""
    image_repository_arn: NotRequired[pulumi.Input[str]]
    """ARN of the private ECR repository holding ``image``, so the execution role may pull
    from it. Only with ``image``. Defaults to none (a public image needs no permission)."""
    build: NotRequired[DockerBuild]
    """Build the image from a Docker context into an ECR repository this component creates.
    Exclusive with ``image``. Defaults to none."""
    repository_force_delete: NotRequired[bool]
    """Let ``pulumi destroy`` delete the ECR repository with the images still in it (for
    disposable stacks). Only with ``build``. Defaults to ``False``: deleting a repository that
    holds images fails, so images are never lost by accident."""
    container_port: NotRequired[int]
    """Port the container listens on (1-65535). Defaults to ``8080``."""
    cpu: NotRequired[int]
    """Task CPU units, a Fargate size (256, 512, 1024, ...). Defaults to ``512``."""
    memory: NotRequired[int]
    """Task memory in MiB, valid for ``cpu`` on Fargate. Defaults to ``1024``."""
    cpu_architecture: NotRequired[Literal["X86_64", "ARM64"]]
    """CPU architecture of the task (and of a built image). Defaults to ``"X86_64"``."""
    user: NotRequired[str]
    """User (``uid`` or ``uid:gid``) the container runs as; never root. Defaults to
    ``"10001"``, the non-root user of the service image."""
    desired_count: NotRequired[int]
    """Tasks at creation; autoscaling owns the count afterwards. Defaults to ``2``."""
    min_count: NotRequired[int]
    """Autoscaling minimum number of tasks. Defaults to ``2``."""
    max_count: NotRequired[int]
    """Autoscaling maximum number of tasks. Defaults to ``10``."""
    cpu_target: NotRequired[float]
    """Average CPU utilisation (percent, 1-100) autoscaling keeps. Defaults to ``60``."""
    requests_per_target: NotRequired[int]
    """ALB requests per task per minute autoscaling keeps. Defaults to ``1000``."""
    health_check_path: NotRequired[str]
    """HTTP path the target group (and the default container health check) probes.
    Defaults to ``"/healthz"``."""
    health_check_command: NotRequired[Sequence[str]]
    """Container health check command (``["CMD", ...]`` or ``["CMD-SHELL", "..."]``).
    Defaults to a curl-free ``python -c`` request to ``health_check_path`` on the port: set it
    for an image without Python."""
    health_check_grace_period_seconds: NotRequired[int]
    """Seconds ECS ignores load balancer health checks after a task starts (0-3600; also the
    container health check's start period, capped at 300). Defaults to ``60``."""
    deregistration_delay: NotRequired[int]
    """Seconds the target group drains a stopping task (0-3600). Defaults to ``30``."""
    path_patterns: NotRequired[Sequence[str]]
    """Listener rule path patterns routed to the service. Defaults to ``["/*"]``."""
    host_headers: NotRequired[Sequence[str]]
    """Listener rule host headers routed to the service. Defaults to none (any host)."""
    listener_rule_priority: NotRequired[int]
    """Priority of the listener rule (1-50000, unique per listener). Defaults to ``100``."""
    database: NotRequired[Database | DatabaseRef]
    """A ``Database`` (or a ``DatabaseRef`` to one) to wire: network access, ``DB_*`` variables
    and the master secret. Defaults to none."""
    environment_variables: NotRequired[Mapping[str, pulumi.Input[str]]]
    """Plain environment variables; secret-looking names are rejected (use ``secrets``).
    Defaults to none."""
    secrets: NotRequired[Mapping[str, pulumi.Input[str]]]
    """Environment variables read from Secrets Manager or SSM Parameter Store: name → ARN
    (a Secrets Manager ARN may end in ``:json-key::``). Defaults to none."""
    secrets_kms_key_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Customer managed KMS keys encrypting ``secrets``; the execution role may decrypt with
    them. Defaults to none (AWS managed keys need no grant)."""
    task_role_statements: NotRequired[Sequence[Mapping[str, Any]]]
    """Extra IAM policy statements (JSON form) for the task role; ``*`` actions are rejected.
    Defaults to none: the application gets no AWS permissions."""
    alarm_email: NotRequired[str]
    """E-mail address subscribed to the alarm topic. Defaults to none (no subscription)."""
    alarm_5xx_percent: NotRequired[float]
    """Target 5xx responses, as a percentage of requests, that raise an alarm. Defaults to ``5``."""
    alarm_p99_latency_seconds: NotRequired[float]
    """p99 target response time (seconds) that raises an alarm. Defaults to ``2``."""
    alarm_cpu_percent: NotRequired[float]
    """Average service CPU (percent) that raises an alarm. Defaults to ``85``."""
    log_retention_days: NotRequired[int]
    """Days CloudWatch keeps container logs; one of CloudWatch's allowed values.
    Defaults to ``365``."""
    environment: NotRequired[str]
    """Value of the ``environment`` tag. Defaults to the stack name."""
    owner: NotRequired[str]
    """Value of the ``owner`` tag. Defaults to ``platform-team``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags merged over the standard ones on every resource. Defaults to none."""


class WebService(pulumi.ComponentResource):
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

    def __init__(
        self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate before registering, so a bad argument leaves no half-built component.
        settings = _Settings(name, args)
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self._name = name
        self._args = args
        self._settings = settings
        self._tags = standard_tags(
            environment=args.get("environment"), owner=args.get("owner"), extra=args.get("tags")
        )
        cluster = _cluster_ref(args["cluster"])
        database_arg = args.get("database")
        database = _database_ref(database_arg) if database_arg is not None else None
        invoke = pulumi.InvokeOptions(parent=self)
        self._account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self._partition = aws.get_partition_output(opts=invoke)
        self._region = aws.get_region_output(opts=invoke).region

        self._key = self._create_observability_key()
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            retention_in_days=settings.log_retention_days,
            kms_key_id=self._key.arn,
            tags=self._tags,
            opts=self._child(),
        )
        repository_arn, self.repository_url, self.image_uri = self._create_image()
        execution_role, task_role = self._create_roles(log_group, repository_arn, database)
        task_definition = self._create_task_definition(
            log_group, execution_role, task_role, database
        )
        security_group = self._create_security_group(cluster, database_arg)
        target_group, listener_rule = self._create_routing(cluster)
        service = self._create_service(
            cluster, task_definition, security_group, target_group, listener_rule
        )
        self._create_autoscaling(cluster, service, target_group)
        topic = self._create_alarms(cluster, service, target_group)
        dashboard = self._create_dashboard(cluster, service, target_group, database)

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
        self.register_outputs(
            {
                "url": self.url,
                "service_name": self.service_name,
                "repository_url": self.repository_url,
                "image_uri": self.image_uri,
                "dashboard_name": self.dashboard_name,
                "alarm_topic_arn": self.alarm_topic_arn,
                "log_group_name": self.log_group_name,
                "security_group_id": self.security_group_id,
                "task_role_arn": self.task_role_arn,
                "execution_role_arn": self.execution_role_arn,
                "target_group_arn": self.target_group_arn,
            }
        )

    # --- helpers ----------------------------------------------------------------------

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _create_observability_key(self) -> aws.kms.Key:
        # A customer managed key, not alias/aws/sns: the AWS managed SNS key's policy cannot be
        # edited and does not let CloudWatch alarms publish to the topic it encrypts, so alarms
        # would fail silently. The same key encrypts the log group (rule: log groups KMS).
        account = self._account_id
        policy = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    account_administers(self._partition.partition, account),
                    {
                        "Sid": "CloudWatchAlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    },
                    logs_may_encrypt(self._partition, self._region, account),
                ],
            }
        )
        return aws.kms.Key(
            f"{self._name}-key",
            description=f"Encrypts the logs and alarm topic of web service {self._name}",
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=policy,
            tags=self._tags,
            opts=self._child(),
        )

    def _create_image(
        self,
    ) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None, pulumi.Output[str]]:
        """Return (repository ARN to pull from, repository URL if created, image URI)."""
        build = self._args.get("build")
        if build is None:
            uri = pulumi.Output.from_input(self._args["image"])
            pull_arn = self._args.get("image_repository_arn") or _ecr_repository_arn(
                self._args["image"]
            )
            return (pulumi.Output.from_input(pull_arn) if pull_arn else None), None, uri
        repository = aws.ecr.Repository(
            f"{self._name}-repo",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            force_delete=bool(self._args.get("repository_force_delete", False)),
            encryption_configurations=[{"encryption_type": "KMS"}],
            tags=self._tags,
            opts=self._child(),
        )
        aws.ecr.LifecyclePolicy(
            f"{self._name}-repo-lifecycle",
            repository=repository.name,
            policy=json.dumps(_lifecycle_policy()),
            opts=self._child(),
        )
        image = awsx.ecr.Image(
            f"{self._name}-image",
            repository_url=repository.repository_url,
            context=build["context"],
            dockerfile=build.get("dockerfile"),
            platform=self._settings.platform,
            # Tags are immutable, so each distinct build needs a tag of its own: awsx's default
            # tag hashes only the context *path*, and a second push of changed code to it would
            # be rejected. A hash of the context's *content* changes exactly when the image can.
            image_tag=self._settings.image_tag,
            opts=self._child(),
        )
        # awsx returns ``repository@sha256:...``: the task pins the digest it pushed.
        return repository.arn, repository.repository_url, image.image_uri

    def _create_roles(
        self,
        log_group: aws.cloudwatch.LogGroup,
        repository_arn: pulumi.Output[str] | None,
        database: DatabaseRef | None,
    ) -> tuple[aws.iam.Role, aws.iam.Role]:
        # Only ECS acting for this account's tasks may assume the roles.
        trust = service_trust_policy(
            _ASSUME_ROLE_PRINCIPAL,
            account_id=self._account_id,
            source_arn_like=pulumi.Output.concat(
                "arn:",
                self._partition.partition,
                ":ecs:",
                self._region,
                ":",
                self._account_id,
                ":*",
            ),  # fmt: skip
        )
        execution_role = aws.iam.Role(
            f"{self._name}-execution-role",
            description=f"ECS agent for web service {self._name}: pull image, write logs, secrets",
            assume_role_policy=trust,
            tags=self._tags,
            opts=self._child(),
        )
        task_role = aws.iam.Role(
            f"{self._name}-task-role",
            description=f"Application permissions of web service {self._name}",
            assume_role_policy=trust,
            tags=self._tags,
            opts=self._child(),
        )
        secret_refs = [*self._secret_refs(database).values()]
        kms_keys: list[pulumi.Input[str | None]] = [*self._args.get("secrets_kms_key_arns", ())]
        if database is not None and database.kms_key_arn is not None:
            # An output from another stack or language may resolve to None: dropped below.
            kms_keys.append(database.kms_key_arn)
        policy = pulumi.Output.all(
            log_group.arn,
            repository_arn,
            pulumi.Output.all(*secret_refs),
            pulumi.Output.all(*kms_keys),
        ).apply(lambda v: json.dumps(_execution_policy(v[0], v[1], v[2], v[3])))
        aws.iam.RolePolicy(
            f"{self._name}-execution-policy",
            role=execution_role.id,
            policy=policy,
            opts=self._child(),
        )
        statements: list[Any] = list(self._args.get("task_role_statements", ()))
        if statements or database is not None:
            database_statements: pulumi.Input[list[dict[str, Any]]] = (
                _database_secret_statements(database) if database is not None else []
            )
            document = pulumi.Output.all(statements, database_statements).apply(
                lambda v: {"Version": "2012-10-17", "Statement": [*v[0], *v[1]]}
            )
            aws.iam.RolePolicy(
                f"{self._name}-task-policy",
                role=task_role.id,
                policy=pulumi.Output.json_dumps(document),
                opts=self._child(),
            )
        return execution_role, task_role

    def _secret_refs(self, database: DatabaseRef | None) -> dict[str, pulumi.Input[str]]:
        """Container secret name → ``valueFrom`` (database credentials first)."""
        refs: dict[str, pulumi.Input[str]] = {}
        if database is not None:
            # JSON keys of the RDS-managed secret: ``<arn>:<json-key>:<version-stage>:<id>``.
            refs["DB_USERNAME"] = pulumi.Output.concat(database.master_secret_arn, ":username::")
            refs["DB_PASSWORD"] = pulumi.Output.concat(database.master_secret_arn, ":password::")
        refs.update(self._args.get("secrets", {}))
        return refs

    def _environment(self, database: DatabaseRef | None) -> dict[str, pulumi.Input[str]]:
        env: dict[str, pulumi.Input[str]] = {}
        if database is not None:
            env["DB_HOST"] = database.address
            env["DB_PORT"] = pulumi.Output.from_input(database.port).apply(str)
            env["DB_NAME"] = database.database_name
            env["DB_ENGINE"] = database.engine
            env["DB_SECRET_ARN"] = database.master_secret_arn
        env.update(self._args.get("environment_variables", {}))
        return env

    def _create_task_definition(
        self,
        log_group: aws.cloudwatch.LogGroup,
        execution_role: aws.iam.Role,
        task_role: aws.iam.Role,
        database: DatabaseRef | None,
    ) -> aws.ecs.TaskDefinition:
        s = self._settings
        environment = self._environment(database)
        secrets = self._secret_refs(database)
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
                    "awslogs-region": self._region,
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

    def _create_security_group(
        self, cluster: ClusterRef, database: Database | DatabaseRef | None
    ) -> aws.ec2.SecurityGroup:
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
        if database is None:
            return group
        ref = _database_ref(database)
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
        if isinstance(database, Database):
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

    def _create_routing(
        self, cluster: ClusterRef
    ) -> tuple[aws.lb.TargetGroup, aws.lb.ListenerRule]:
        s = self._settings
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
        cluster: ClusterRef,
        task_definition: aws.ecs.TaskDefinition,
        security_group: aws.ec2.SecurityGroup,
        target_group: aws.lb.TargetGroup,
        listener_rule: aws.lb.ListenerRule,
    ) -> aws.ecs.Service:
        s = self._settings
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
            # `pulumi up` fails (after ECS rolls back) when a deployment never gets healthy.
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
        self, cluster: ClusterRef, service: aws.ecs.Service, target_group: aws.lb.TargetGroup
    ) -> None:
        s = self._settings
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

    def _create_alarms(
        self, cluster: ClusterRef, service: aws.ecs.Service, target_group: aws.lb.TargetGroup
    ) -> aws.sns.Topic:
        s = self._settings
        topic = aws.sns.Topic(
            f"{self._name}-alarms",
            kms_master_key_id=self._key.arn,
            tags=self._tags,
            opts=self._child(),
        )
        email = self._args.get("alarm_email")
        if email:
            aws.sns.TopicSubscription(
                f"{self._name}-alarms-email",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self._child(),
            )
        lb_dimensions = {
            "LoadBalancer": cluster.load_balancer_arn_suffix,
            "TargetGroup": target_group.arn_suffix,
        }
        common: dict[str, Any] = {
            "alarm_actions": [topic.arn],
            "ok_actions": [topic.arn],
            "treat_missing_data": "notBreaching",
            "tags": self._tags,
        }
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-5xx-rate",
            alarm_description=f"{self._name}: more than {s.alarm_5xx_percent}% of requests fail "
            "with a target 5xx",
            comparison_operator="GreaterThanThreshold",
            threshold=s.alarm_5xx_percent,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            metric_queries=[
                {
                    "id": "errors",
                    "return_data": False,
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "HTTPCode_Target_5XX_Count",
                        "dimensions": lb_dimensions,
                        "period": 60,
                        "stat": "Sum",
                    },
                },
                {
                    "id": "requests",
                    "return_data": False,
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "RequestCount",
                        "dimensions": lb_dimensions,
                        "period": 60,
                        "stat": "Sum",
                    },
                },
                {
                    "id": "rate",
                    "label": "5xx rate (%)",
                    "return_data": True,
                    # No traffic is not an error: avoid dividing by zero.
                    "expression": "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)",
                },
            ],
            opts=self._child(),
            **common,
        )
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-p99-latency",
            alarm_description=f"{self._name}: p99 response time above "
            f"{s.alarm_p99_latency_seconds}s",
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            dimensions=lb_dimensions,
            extended_statistic="p99",
            period=60,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            comparison_operator="GreaterThanThreshold",
            threshold=s.alarm_p99_latency_seconds,
            opts=self._child(),
            **common,
        )
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-unhealthy-hosts",
            alarm_description=f"{self._name}: targets failing load balancer health checks",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            dimensions=lb_dimensions,
            statistic="Maximum",
            period=60,
            evaluation_periods=3,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            opts=self._child(),
            **common,
        )
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-cpu-high",
            alarm_description=f"{self._name}: CPU above {s.alarm_cpu_percent}% "
            "(autoscaling at its maximum?)",
            namespace="AWS/ECS",
            metric_name="CPUUtilization",
            dimensions={"ClusterName": cluster.cluster_name, "ServiceName": service.name},
            statistic="Average",
            period=300,
            evaluation_periods=3,
            comparison_operator="GreaterThanThreshold",
            threshold=s.alarm_cpu_percent,
            opts=self._child(),
            **common,
        )
        return topic

    def _create_dashboard(
        self,
        cluster: ClusterRef,
        service: aws.ecs.Service,
        target_group: aws.lb.TargetGroup,
        database: DatabaseRef | None,
    ) -> aws.cloudwatch.Dashboard:
        lb = cluster.load_balancer_arn_suffix
        tg = target_group.arn_suffix
        alb = "AWS/ApplicationELB"
        ecs = ["AWS/ECS", "CPUUtilization", "ClusterName", cluster.cluster_name]
        widgets: list[dict[str, Any]] = [
            _widget(
                "Requests",
                [[alb, "RequestCount", "LoadBalancer", lb, "TargetGroup", tg]],
                "Sum",
                self._region,
            ),  # fmt: skip
            _widget(
                "Response time (p50 / p99)",
                [
                    [
                        alb,
                        "TargetResponseTime",
                        "LoadBalancer",
                        lb,
                        "TargetGroup",
                        tg,
                        {"stat": "p50"},
                    ],
                    [
                        alb,
                        "TargetResponseTime",
                        "LoadBalancer",
                        lb,
                        "TargetGroup",
                        tg,
                        {"stat": "p99"},
                    ],
                ],  # fmt: skip
                "p99",
                self._region,
            ),
            _widget(
                "5xx responses",
                [
                    [alb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg],
                    [alb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
                ],
                "Sum",
                self._region,
            ),
            _widget(
                "CPU and memory (%)",
                [
                    [*ecs, "ServiceName", service.name],
                    [
                        "AWS/ECS",
                        "MemoryUtilization",
                        "ClusterName",
                        cluster.cluster_name,
                        "ServiceName",
                        service.name,
                    ],
                ],  # fmt: skip
                "Average",
                self._region,
            ),
        ]
        if database is not None:
            rds = ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", database.identifier]
            widgets.append(
                _widget(
                    "Database CPU (%) and connections",
                    [
                        rds,
                        [
                            "AWS/RDS",
                            "DatabaseConnections",
                            "DBInstanceIdentifier",
                            database.identifier,
                            {"yAxis": "right"},
                        ],
                    ],  # fmt: skip
                    "Average",
                    self._region,
                )
            )
        for index, widget in enumerate(widgets):
            widget.update(x=(index % 2) * 12, y=(index // 2) * 6, width=12, height=6)
        return aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=_dashboard_name(self._name),
            dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
            opts=self._child(),
        )

    def _url(self, cluster: ClusterRef) -> pulumi.Output[str]:
        hosts = self._settings.host_headers
        if hosts and "*" not in hosts[0] and "?" not in hosts[0]:
            return pulumi.Output.from_input(cluster.https).apply(
                lambda https: f"{'https' if https else 'http'}://{hosts[0]}"
            )
        return pulumi.Output.from_input(cluster.url)


def _cluster_ref(cluster: Cluster | ClusterRef) -> ClusterRef:
    return cluster if isinstance(cluster, ClusterRef) else cluster.ref


def _database_ref(database: Database | DatabaseRef) -> DatabaseRef:
    return database if isinstance(database, DatabaseRef) else database.ref


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


class _Settings:
    """The validated plain values of ``WebServiceArgs``, defaults applied."""

    def __init__(self, name: str, args: WebServiceArgs) -> None:
        def fail(field: str, value: object, expected: str) -> ValueError:
            return invalid(COMPONENT, name, field, value, expected)

        raw: Mapping[str, Any] = args

        def count(field: str, default: int, low: int = 0, high: int = MAX_TASK_COUNT) -> int:
            return require_range(COMPONENT, name, field, raw.get(field, default), low, high)

        if "cluster" not in args:
            raise fail("cluster", None, "a Cluster")
        has_image, build = "image" in args, args.get("build")
        if has_image == (build is not None):
            raise fail(
                "image/build",
                "both" if has_image else "neither",
                "exactly one: `image` (a URI) or `build` (a Docker context)",
            )
        if "repository_force_delete" in args and build is None:
            raise fail(
                "repository_force_delete", args["repository_force_delete"], "only with `build`"
            )
        if "image_repository_arn" in args and not has_image:
            raise fail("image_repository_arn", args["image_repository_arn"], "only with `image`")

        self.container_port = count("container_port", DEFAULT_CONTAINER_PORT, 1, 65535)
        self.cpu = args.get("cpu", DEFAULT_CPU)
        if isinstance(self.cpu, bool) or self.cpu not in FARGATE_MEMORY:
            raise fail("cpu", self.cpu, "a Fargate size: " + ", ".join(map(str, FARGATE_MEMORY)))
        self.memory = args.get("memory", DEFAULT_MEMORY)
        allowed = FARGATE_MEMORY[self.cpu]
        if not isinstance(self.memory, int) or self.memory not in allowed:
            raise fail(
                "memory",
                self.memory,
                f"{_describe(allowed)} MiB for cpu={self.cpu} on Fargate",
            )
        self.cpu_architecture = require_choice(
            COMPONENT, name, "cpu_architecture",
            args.get("cpu_architecture", DEFAULT_CPU_ARCHITECTURE), CPU_ARCHITECTURES,
        )  # fmt: skip
        self.user = args.get("user", DEFAULT_USER)
        if not self.user or self.user.split(":")[0] in _ROOT_USERS:
            raise fail("user", self.user, "a non-root user such as '10001' or '10001:10001'")

        self.min_count = count("min_count", DEFAULT_MIN_COUNT)
        self.max_count = count("max_count", DEFAULT_MAX_COUNT, 1)
        if self.min_count > self.max_count:
            raise fail("min_count", self.min_count, f"at most max_count={self.max_count}")
        self.desired_count = args.get("desired_count", DEFAULT_DESIRED_COUNT)
        if not isinstance(self.desired_count, int) or not (
            self.min_count <= self.desired_count <= self.max_count
        ):
            raise fail(
                "desired_count",
                self.desired_count,
                f"between min_count={self.min_count} and max_count={self.max_count}",
            )
        self.cpu_target = float(args.get("cpu_target", DEFAULT_CPU_TARGET))
        if not 1 <= self.cpu_target <= 100:
            raise fail("cpu_target", args.get("cpu_target"), "a percentage from 1 to 100")
        self.requests_per_target = count(
            "requests_per_target", DEFAULT_REQUESTS_PER_TARGET, 1, 1_000_000
        )

        self.health_check_path = args.get("health_check_path", DEFAULT_HEALTH_CHECK_PATH)
        if not self.health_check_path.startswith("/") or len(self.health_check_path) > 1024:
            raise fail("health_check_path", self.health_check_path, "a path starting with '/'")
        self.health_check_command = list(
            args.get("health_check_command", _default_health_check(self))
        )
        if len(self.health_check_command) < 2 or self.health_check_command[0] not in (
            "CMD",
            "CMD-SHELL",
        ):
            raise fail(
                "health_check_command",
                args.get("health_check_command"),
                '["CMD", executable, ...] or ["CMD-SHELL", "command"]',
            )
        self.health_check_grace_period_seconds = count(
            "health_check_grace_period_seconds", DEFAULT_HEALTH_CHECK_GRACE_PERIOD, 0, 3600
        )
        self.deregistration_delay = count(
            "deregistration_delay", DEFAULT_DEREGISTRATION_DELAY, 0, 3600
        )
        self.path_patterns = list(args.get("path_patterns", DEFAULT_PATH_PATTERNS))
        self.host_headers = list(args.get("host_headers", ()))
        values = len(self.path_patterns) + len(self.host_headers)
        if not 1 <= values <= 5:
            raise fail(
                "path_patterns/host_headers",
                self.path_patterns + self.host_headers,
                "1 to 5 values in all (an ALB rule limit)",
            )
        for pattern in self.path_patterns:
            if not pattern.startswith("/"):
                raise fail("path_patterns", pattern, "patterns starting with '/'")
        self.listener_rule_priority = count(
            "listener_rule_priority", DEFAULT_LISTENER_RULE_PRIORITY, 1, 50000
        )

        self.log_retention_days = args.get("log_retention_days", DEFAULT_LOG_RETENTION_DAYS)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise fail(
                "log_retention_days",
                self.log_retention_days,
                "one of CloudWatch's values: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            )
        self.alarm_5xx_percent = _percent(fail, raw, "alarm_5xx_percent", DEFAULT_ALARM_5XX_PERCENT)
        self.alarm_cpu_percent = _percent(fail, raw, "alarm_cpu_percent", DEFAULT_ALARM_CPU_PERCENT)
        self.alarm_p99_latency_seconds = float(
            args.get("alarm_p99_latency_seconds", DEFAULT_ALARM_P99_LATENCY_SECONDS)
        )
        if not self.alarm_p99_latency_seconds > 0:
            raise fail("alarm_p99_latency_seconds", self.alarm_p99_latency_seconds, "> 0")
        email = args.get("alarm_email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise fail("alarm_email", email, "an e-mail address")

        _check_variables(fail, args)
        _check_statements(fail, args.get("task_role_statements", ()))
        self.platform: str | None = None
        self.image_tag: str | None = None
        if build is not None:
            self.platform, self.image_tag = _check_build(fail, build, self.cpu_architecture)


# --- pure helpers ---------------------------------------------------------------------


def _percent(fail: _Fail, args: Mapping[str, Any], field: str, default: float) -> float:
    value = args.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        raise fail(field, value, "a percentage above 0 and at most 100")
    return float(value)


def _describe(allowed: Sequence[int]) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start} to {allowed[-1]} in steps of {allowed.step}"
    return ", ".join(map(str, allowed))


def _default_health_check(settings: _Settings) -> list[str]:
    # Exec form with the interpreter the service image already has: no curl, no shell needed.
    # urlopen raises on a non-2xx/3xx answer or a timeout, which exits non-zero.
    url = f"http://127.0.0.1:{settings.container_port}{settings.health_check_path}"
    return [
        "CMD",
        "python",
        "-c",
        f"import urllib.request; urllib.request.urlopen({url!r}, timeout=3)",
    ]


def _check_variables(fail: _Fail, args: WebServiceArgs) -> None:
    env = args.get("environment_variables", {})
    secrets = args.get("secrets", {})
    reserved = DATABASE_ENV_NAMES + DATABASE_SECRET_NAMES if "database" in args else ()
    for field, names in (("environment_variables", env), ("secrets", secrets)):
        for key in names:
            if not _ENV_NAME.match(key):
                raise fail(
                    field, key, "names of letters, digits and '_', not starting with a digit"
                )
            if key in reserved:
                raise fail(
                    field, key, f"a name other than {', '.join(reserved)} (set by `database`)"
                )
    for key in env:
        if _SECRET_LOOKING.search(key):
            raise fail(
                "environment_variables",
                key,
                "no secret-looking names (PASSWORD, SECRET, TOKEN, KEY...); pass it in `secrets` "
                "as a Secrets Manager or SSM parameter ARN",
            )
        if key in secrets:
            raise fail("environment_variables", key, "a name not also given in `secrets`")
    for key, ref in secrets.items():
        if isinstance(ref, str) and _arn_service(ref) not in ("secretsmanager", "ssm"):
            raise fail(f"secrets[{key!r}]", ref, "a Secrets Manager secret or SSM parameter ARN")


def _check_statements(fail: _Fail, statements: Sequence[Mapping[str, Any]]) -> None:
    for statement in statements:
        actions = statement.get("Action", statement.get("NotAction"))
        if "NotAction" in statement or not actions:
            raise fail("task_role_statements", statement, "statements with an explicit Action")
        for action in [actions] if isinstance(actions, str) else actions:
            if action == "*" or str(action).endswith(":*"):
                raise fail("task_role_statements", action, "named actions, not `*` or `service:*`")


def _check_build(fail: _Fail, build: DockerBuild, architecture: str) -> tuple[str, str]:
    """Return the build's platform and a tag unique to the content of its context."""
    context = Path(build.get("context", ""))
    if not build.get("context") or not context.is_dir():
        raise fail("build.context", build.get("context"), "an existing directory")
    dockerfile = _dockerfile_path(context, build.get("dockerfile"))
    if dockerfile is None:
        raise fail("build.dockerfile", build.get("dockerfile", "Dockerfile"), "an existing file")
    expected = "linux/arm64" if architecture == "ARM64" else "linux/amd64"
    platform = build.get("platform", expected)
    if platform != expected:
        raise fail("build.platform", platform, f"{expected!r} to match cpu_architecture")
    return platform, "sha-" + _content_hash(context, dockerfile, platform)[:20]


def _dockerfile_path(context: Path, dockerfile: str | None) -> Path | None:
    if dockerfile is None:
        candidate = context / "Dockerfile"
        return candidate if candidate.is_file() else None
    for candidate in (Path(dockerfile), context / dockerfile):
        if candidate.is_file():
            return candidate
    return None


def _content_hash(context: Path, dockerfile: Path, platform: str) -> str:
    """SHA-256 over the files Docker would send, the Dockerfile and the platform."""
    patterns: list[str] = []
    ignore_file = context / ".dockerignore"
    if ignore_file.is_file():
        lines = [line.strip() for line in ignore_file.read_text().splitlines()]
        patterns = [p.strip("/") for p in lines if p and not p.startswith("#")]
    # Negations (`!keep`) re-include files; rather than re-implement Docker's matcher, hash
    # everything then: an extra rebuild is harmless, a stale tag is not.
    if any(p.startswith("!") for p in patterns):
        patterns = []
    digest = hashlib.sha256(f"platform={platform}\n".encode())
    for path in sorted(_context_files(context, patterns)):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(b"dockerfile\0" + dockerfile.read_bytes())
    return digest.hexdigest()


def _context_files(context: Path, patterns: Sequence[str]) -> list[Path]:
    def ignored(relative: str) -> bool:
        return relative == ".git" or any(
            fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(relative, p + "/*") for p in patterns
        )

    files: list[Path] = []
    for root, dirs, names in os.walk(context):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if not ignored((base / d).relative_to(context).as_posix()))
        files.extend(
            base / n for n in names if not ignored((base / n).relative_to(context).as_posix())
        )
    return files


def _arn_service(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[2] if len(parts) >= 6 and parts[0] == "arn" else None


def _secret_resource(value_from: str) -> str:
    """The IAM resource of a ``valueFrom``: a secret ARN without ``:json-key:stage:id``."""
    parts = value_from.split(":")
    if _arn_service(value_from) == "secretsmanager":
        return ":".join(parts[:7])
    return value_from


def _execution_policy(
    log_group_arn: str,
    repository_arn: str | None,
    secret_refs: Sequence[str],
    kms_key_arns: Sequence[str | None],
) -> dict[str, Any]:
    """The execution role's policy: pull its image, write its logs, read its secrets."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        }
    ]
    if repository_arn:
        statements += [
            {
                # GetAuthorizationToken has no resource-level permissions: AWS requires `*`.
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                "Resource": repository_arn,
            },
        ]
    resources = sorted({_secret_resource(ref) for ref in secret_refs})
    secrets = [r for r in resources if _arn_service(r) != "ssm"]
    parameters = [r for r in resources if _arn_service(r) == "ssm"]
    if secrets:
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            }
        )
    if parameters:
        statements.append(
            {
                "Sid": "ReadParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": parameters,
            }
        )
    keys = sorted({key for key in kms_key_arns if key})
    if keys:
        statements.append(
            {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keys}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _lifecycle_policy() -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {UNTAGGED_IMAGE_EXPIRY_DAYS} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_IMAGE_EXPIRY_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                # Keeps enough history for the circuit breaker (and people) to roll back.
                "rulePriority": 2,
                "description": f"Keep the last {KEEP_IMAGE_COUNT} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": KEEP_IMAGE_COUNT,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def _widget(
    title: str, metrics: list[list[Any]], stat: str, region: pulumi.Input[str]
) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "metrics": metrics,
            "stat": stat,
            "period": 60,
            "region": region,
            "view": "timeSeries",
        },
    }


def _dashboard_name(name: str) -> str:
    # Dashboard names are unique per account, so include project and stack; CloudWatch allows
    # only letters, digits, '-' and '_'.
    raw = f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", raw)[:255]


_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def _ecr_repository_arn(image: pulumi.Input[str]) -> str | None:
    """The ARN of the ECR repository a plain image URI points into, else ``None``.

    Lets the execution role pull a private ECR image given only by URI (outputs cannot be
    inspected here; pass ``image_repository_arn`` for those).
    """
    if not isinstance(image, str):
        return None
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    partition = "aws-cn" if image.split("/", 1)[0].endswith(".cn") else "aws"
    return (
        f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
    )


def _database_secret_statements(database: DatabaseRef) -> pulumi.Output[list[dict[str, Any]]]:
    """Let the application re-read the rotating master secret (and decrypt it with a CMK)."""

    def statements(values: list[Any]) -> list[dict[str, Any]]:
        secret_arn, kms_key_arn = values
        result: list[dict[str, Any]] = [
            {
                "Sid": "ReadDatabaseSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        ]
        # Resolved first: a key arriving as an output from another stack may be None.
        if kms_key_arn:
            result.append(
                {
                    "Sid": "DecryptDatabaseSecret",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": kms_key_arn,
                }
            )
        return result

    return pulumi.Output.all(database.master_secret_arn, database.kms_key_arn).apply(statements)
