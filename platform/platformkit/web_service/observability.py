"""What tells operators how a web service is doing: its KMS key, alarms and dashboard."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_aws as aws

from platformkit.component_base import Component
from platformkit.iam import Caller
from platformkit.log_key import DELETION_WINDOW_DAYS, account_administers, logs_may_encrypt
from platformkit.web_service.settings import WebServiceSettings


def create_observability_key(owner: Component, caller: Caller) -> aws.kms.Key:
    # A customer managed key, not alias/aws/sns: the AWS managed SNS key's policy cannot be
    # edited and does not let CloudWatch alarms publish to the topic it encrypts, so alarms
    # would fail silently. The same key encrypts the log group (rule: log groups KMS).
    account = caller.account_id
    policy = pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers(caller.partition.partition, account),
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                },
                logs_may_encrypt(caller.partition, caller.region, account),
            ],
        }
    )
    return aws.kms.Key(
        f"{owner._name}-key",
        description=f"Encrypts the logs and alarm topic of web service {owner._name}",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        tags=owner._tags,
        opts=owner._child(),
    )


def create_alarms(
    owner: Component,
    settings: WebServiceSettings,
    key: aws.kms.Key,
    service: aws.ecs.Service,
    target_group: aws.lb.TargetGroup,
) -> aws.sns.Topic:
    """The alarm topic (encrypted with ``key``) and the alarms notifying it."""
    cluster = settings.cluster
    s = settings
    topic = aws.sns.Topic(
        f"{owner._name}-alarms",
        kms_master_key_id=key.arn,
        tags=owner._tags,
        opts=owner._child(),
    )
    email = settings.alarm_email
    if email:
        aws.sns.TopicSubscription(
            f"{owner._name}-alarms-email",
            topic=topic.arn,
            protocol="email",
            endpoint=email,
            opts=owner._child(),
        )
    lb_dimensions = {
        "LoadBalancer": cluster.load_balancer_arn_suffix,
        "TargetGroup": target_group.arn_suffix,
    }
    common: dict[str, Any] = {
        "alarm_actions": [topic.arn],
        "ok_actions": [topic.arn],
        "treat_missing_data": "notBreaching",
        "tags": owner._tags,
    }
    aws.cloudwatch.MetricAlarm(
        f"{owner._name}-5xx-rate",
        alarm_description=f"{owner._name}: more than {s.alarm_5xx_percent}% of requests fail "
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
        opts=owner._child(),
        **common,
    )
    aws.cloudwatch.MetricAlarm(
        f"{owner._name}-p99-latency",
        alarm_description=f"{owner._name}: p99 response time above {s.alarm_p99_latency_seconds}s",
        namespace="AWS/ApplicationELB",
        metric_name="TargetResponseTime",
        dimensions=lb_dimensions,
        extended_statistic="p99",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=3,
        comparison_operator="GreaterThanThreshold",
        threshold=s.alarm_p99_latency_seconds,
        opts=owner._child(),
        **common,
    )
    aws.cloudwatch.MetricAlarm(
        f"{owner._name}-unhealthy-hosts",
        alarm_description=f"{owner._name}: targets failing load balancer health checks",
        namespace="AWS/ApplicationELB",
        metric_name="UnHealthyHostCount",
        dimensions=lb_dimensions,
        statistic="Maximum",
        period=60,
        evaluation_periods=3,
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        opts=owner._child(),
        **common,
    )
    aws.cloudwatch.MetricAlarm(
        f"{owner._name}-cpu-high",
        alarm_description=f"{owner._name}: CPU above {s.alarm_cpu_percent}% "
        "(autoscaling at its maximum?)",
        namespace="AWS/ECS",
        metric_name="CPUUtilization",
        dimensions={"ClusterName": cluster.cluster_name, "ServiceName": service.name},
        statistic="Average",
        period=300,
        evaluation_periods=3,
        comparison_operator="GreaterThanThreshold",
        threshold=s.alarm_cpu_percent,
        opts=owner._child(),
        **common,
    )
    return topic


def create_dashboard(
    owner: Component,
    settings: WebServiceSettings,
    caller: Caller,
    service: aws.ecs.Service,
    target_group: aws.lb.TargetGroup,
) -> aws.cloudwatch.Dashboard:
    """A dashboard of the service's traffic, latency, errors, CPU and memory (and database)."""
    cluster, database = settings.cluster, settings.database
    lb = cluster.load_balancer_arn_suffix
    tg = target_group.arn_suffix
    alb = "AWS/ApplicationELB"
    ecs = ["AWS/ECS", "CPUUtilization", "ClusterName", cluster.cluster_name]
    widgets: list[dict[str, Any]] = [
        _widget(
            "Requests",
            [[alb, "RequestCount", "LoadBalancer", lb, "TargetGroup", tg]],
            "Sum",
            caller.region,
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
            caller.region,
        ),
        _widget(
            "5xx responses",
            [
                [alb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg],
                [alb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
            ],
            "Sum",
            caller.region,
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
            caller.region,
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
                caller.region,
            )
        )
    for index, widget in enumerate(widgets):
        widget.update(x=(index % 2) * 12, y=(index // 2) * 6, width=12, height=6)
    return aws.cloudwatch.Dashboard(
        f"{owner._name}-dashboard",
        dashboard_name=_dashboard_name(owner._name),
        dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
        opts=owner._child(),
    )


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
