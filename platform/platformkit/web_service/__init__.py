"""``WebService``: one container on the cluster's Fargate capacity, behind the cluster's ALB.

- ``args``: ``WebServiceArgs``, ``DockerBuild`` and the defaults, ranges and tables they use;
- ``settings``: the arguments read into ``WebServiceSettings``;
- ``build_context``: a built image's Docker context, checked and hashed into its tag;
- ``image``: the ECR repository and the image built into it;
- ``iam``: the execution and task roles; ``observability``: key, alarms, dashboard;
- ``component``: the ``WebService`` component (task definition, security group, routing,
  ECS service, autoscaling).
"""

from platformkit.web_service.args import CONTAINER_NAME as CONTAINER_NAME
from platformkit.web_service.args import DEFAULT_USER as DEFAULT_USER
from platformkit.web_service.args import FARGATE_CPU as FARGATE_CPU
from platformkit.web_service.args import FARGATE_MEMORY as FARGATE_MEMORY
from platformkit.web_service.args import FARGATE_MEMORY_MIB as FARGATE_MEMORY_MIB
from platformkit.web_service.args import DockerBuild as DockerBuild
from platformkit.web_service.args import WebServiceArgs as WebServiceArgs
from platformkit.web_service.component import WebService as WebService

__all__ = [
    "CONTAINER_NAME",
    "DEFAULT_USER",
    "FARGATE_CPU",
    "FARGATE_MEMORY",
    "FARGATE_MEMORY_MIB",
    "DockerBuild",
    "WebService",
    "WebServiceArgs",
]
