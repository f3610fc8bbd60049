"""The analytics deployment: Network → Cluster → Database → WebService (and its nightly model
fit, a ScheduledTask), per stack config.

Every difference between environments lives in ``Pulumi.<stack>.yaml``; this program only
composes the platformkit components and exports what operators need.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
from analytics_settings import load_settings

from platformkit import (
    Cluster,
    ClusterArgs,
    Database,
    DatabaseArgs,
    Network,
    NetworkArgs,
    ScheduledTask,
    ScheduledTaskArgs,
    WebService,
    WebServiceArgs,
    create_log_key,
)
from platformkit.ops.contract import DatabaseContract, OperationsContract
from platformkit.tags import standard_tags
from platformkit.web_service import CONTAINER_NAME

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
NAME = "analytics"

settings = load_settings()
environment, owner = settings.stack, settings.owner

# One customer-managed key (rotated) for every log group and Performance Insights, where the
# environment asks for it; otherwise AWS-owned keys.
log_key = (
    create_log_key(NAME, tags=standard_tags(environment=environment, owner=owner))
    if settings.customer_managed_keys
    else None
)

network_args: NetworkArgs = {
    "environment": environment,
    "owner": owner,
    "cidr_block": settings.vpc_cidr,
    "az_count": settings.az_count,
    "nat_strategy": settings.nat_strategy,
    "vpc_endpoints": settings.vpc_endpoints,
    "flow_log_retention_days": settings.flow_log_retention_days,
}
if log_key is not None:
    network_args["flow_log_kms_key_arn"] = log_key.arn
network = Network(NAME, network_args)

cluster_args: ClusterArgs = {
    "environment": environment,
    "owner": owner,
    "network": network,
    "capacity_provider_strategy": [
        {"capacity_provider": settings.capacity_provider, "weight": 1, "base": 1}
    ],
    "ingress_cidrs": settings.ingress_cidrs,
    "deletion_protection": settings.alb_deletion_protection,
    # Access logs are kept at least as long as the environment's other logs.
    "access_log_retention_days": settings.log_retention_days,
    "waf": settings.waf,
    "waf_logging": settings.waf_logging,
    "waf_log_retention_days": settings.log_retention_days,
}
if log_key is not None:
    cluster_args["log_kms_key_arn"] = log_key.arn
if settings.certificate_arn:
    cluster_args["certificate_arn"] = settings.certificate_arn
cluster = Cluster(NAME, cluster_args)

database_args: DatabaseArgs = {
    "environment": environment,
    "owner": owner,
    "network": network,
    "engine": settings.db_engine,
    "instance_class": settings.db_instance_class,
    "multi_az": settings.db_multi_az,
    "deletion_protection": settings.db_deletion_protection,
    "backup_retention_days": settings.db_backup_retention_days,
    "performance_insights": settings.db_performance_insights,
    "log_retention_days": settings.log_retention_days,
}
if log_key is not None:
    database_args["log_kms_key_arn"] = log_key.arn
    database_args["performance_insights_kms_key_arn"] = log_key.arn
database = Database(NAME, database_args)

service_args: WebServiceArgs = {
    "environment": environment,
    "owner": owner,
    "cluster": cluster,
    "database": database,
    "cpu": settings.service_cpu,
    "memory": settings.service_memory,
    "desired_count": settings.desired_count,
    "min_count": settings.min_count,
    "max_count": settings.max_count,
    "log_retention_days": settings.log_retention_days,
    # How far the customer figures may lag the latest orders (docs/api.md, "Caching and
    # consistency").
    "environment_variables": {
        "ANALYTICS_MAX_STALENESS": str(settings.analytics_max_staleness),
        "ANALYTICS_RANKING_MAX_STALENESS": str(settings.analytics_ranking_max_staleness),
        "ANALYTICS_KEEP_WARM": str(settings.analytics_keep_warm),
    },
}
if settings.image_uri:
    service_args["image"] = settings.image_uri
else:
    service_args["build"] = {
        "context": str(REPOSITORY_ROOT),
        "dockerfile": str(REPOSITORY_ROOT / "service" / "Dockerfile"),
    }
    service_args["repository_force_delete"] = settings.ecr_force_delete
if settings.alarm_email:
    service_args["alarm_email"] = settings.alarm_email
service = WebService(NAME, service_args)

# The predicted lifetime value models are refitted nightly off the request path, by the
# service's own image, network and roles (docs/api.md, "flask clv fit").
clv_fit_args: ScheduledTaskArgs = {
    "environment": environment,
    "owner": owner,
    "cluster_arn": cluster.cluster_arn,
    # The service's current revision: a deployment moves the schedule to the new image once
    # the service is steady on it (not when ECS rolled it back).
    "task_definition_arn": service.task_definition_arn,
    "container_name": CONTAINER_NAME,
    "command": ["flask", "clv", "fit"],
    "subnet_ids": network.private_subnet_ids,
    "security_group_ids": [service.security_group_id],
    "task_role_arn": service.task_role_arn,
    "execution_role_arn": service.execution_role_arn,
}
if log_key is not None:
    clv_fit_args["kms_key_arn"] = log_key.arn
clv_fit = ScheduledTask(f"{NAME}-clv-fit", clv_fit_args)

pulumi.export("url", service.url)
pulumi.export("databaseEndpoint", database.endpoint)
pulumi.export("repositoryUrl", service.repository_url)
pulumi.export("dashboardName", service.dashboard_name)
pulumi.export("alarmTopicArn", service.alarm_topic_arn)

# What `platformkit verify` and `platformkit dr-drill` check the live stack against
# (docs/operations.md): built with the class the tools parse it back with.
operations = OperationsContract(
    environment=settings.stack,
    region=pulumi.Config("aws").get("region"),
    url=service.url,
    cluster_name=cluster.cluster_name,
    service_name=service.service_name,
    load_balancer_arn=cluster.load_balancer_arn,
    target_group_arn=service.target_group_arn,
    https=cluster.https,
    alarm_topic_arn=service.alarm_topic_arn,
    # Tasks must be spread over two AZs whenever at least two run.
    min_task_azs=2 if settings.min_count >= 2 else 1,
    database=DatabaseContract(
        identifier=database.identifier,
        subnet_group_name=database.instance.db_subnet_group_name,
        security_group_id=database.security_group_id,
        multi_az=settings.db_multi_az,
        backup_retention_days=settings.db_backup_retention_days,
        deletion_protection=settings.db_deletion_protection,
        storage_encrypted=True,
    ),
    rto_minutes=settings.rto_minutes,
    rpo_minutes=settings.rpo_minutes,
)
pulumi.export("operations", operations.to_json())
