"""Deliberately insecure application tier: every resource breaks the policy named beside it."""

import json

import pulumi_aws as aws

TAGS = {"environment": "test", "project": "gate", "owner": "qa", "managed-by": "pulumi"}

# ecs-no-privileged-containers and ecs-no-secrets-in-environment.
aws.ecs.TaskDefinition(
    "task",
    family="app",
    requires_compatibilities=["FARGATE"],
    network_mode="awsvpc",
    cpu="256",
    memory="512",
    container_definitions=json.dumps(
        [
            {
                "name": "app",
                "image": "nginx:1.27",
                "privileged": True,
                "readonlyRootFilesystem": True,
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "app", "awslogs-region": "eu-west-1"},
                },
            }
        ]
    ),
    tags=TAGS,
)

# alb-drop-invalid-headers: malformed headers reach the targets.
aws.lb.LoadBalancer(
    "alb",
    load_balancer_type="application",
    internal=True,
    subnets=["subnet-a", "subnet-b"],
    drop_invalid_header_fields=False,
    desync_mitigation_mode="defensive",
    tags=TAGS,
)

# iam-no-wildcard-actions: an allow-everything policy.
aws.iam.Policy(
    "admin-ish",
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    ),
    tags=TAGS,
)

# alb-waf-attached: a web ACL is associated, but it has no rules (and no managed rule groups,
# and no logging: waf-managed-rule-groups, waf-logging-enabled).
public_alb = aws.lb.LoadBalancer(
    "public-alb",
    load_balancer_type="application",
    internal=False,
    subnets=["subnet-a", "subnet-b"],
    drop_invalid_header_fields=True,
    tags=TAGS,
)
empty_acl = aws.wafv2.WebAcl(
    "empty-acl",
    scope="REGIONAL",
    default_action={"allow": {}},
    visibility_config={
        "cloudwatch_metrics_enabled": True,
        "metric_name": "empty-acl",
        "sampled_requests_enabled": True,
    },
    tags=TAGS,
)
aws.wafv2.WebAclAssociation(
    "empty-acl-association", resource_arn=public_alb.arn, web_acl_arn=empty_acl.arn
)
