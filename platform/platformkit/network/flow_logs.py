"""VPC flow logs: a CloudWatch log group, the role delivering to it, the flow log itself."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformkit.component_base import Component
from platformkit.iam import service_trust_policy
from platformkit.network.settings import NetworkSettings


def create_flow_logs(
    owner: Component, settings: NetworkSettings, vpc: aws.ec2.Vpc
) -> pulumi.Output[str]:
    """Flow logs of every packet of ``vpc`` to a log group, through a role only they may use;
    return the group's name."""
    tags = {**owner._tags, "Name": f"{owner._name}-flow-logs"}
    group = aws.cloudwatch.LogGroup(
        f"{owner._name}-flow-logs",
        retention_in_days=settings.flow_log_retention_days,
        kms_key_id=settings.flow_log_kms_key_arn,
        tags=tags,
        opts=owner._child(),
    )
    account_id = aws.get_caller_identity_output().account_id
    role = aws.iam.Role(
        f"{owner._name}-flow-logs",
        # Only flow logs acting for this account may assume the role.
        assume_role_policy=service_trust_policy(
            "vpc-flow-logs.amazonaws.com", account_id=account_id
        ),
        tags=tags,
        opts=owner._child(),
    )
    aws.iam.RolePolicy(
        f"{owner._name}-flow-logs",
        role=role.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [group.arn, pulumi.Output.concat(group.arn, ":*")],
                    }
                ],
            }
        ),
        opts=owner._child(),
    )
    aws.ec2.FlowLog(
        f"{owner._name}-flow-logs",
        vpc_id=vpc.id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=group.arn,
        iam_role_arn=role.arn,
        max_aggregation_interval=60,
        tags=tags,
        opts=owner._child(),
    )
    return group.name
