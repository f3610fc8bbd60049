"""The image a web service runs: a given URI, or an ECR repository and an image built into it."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from platformkit.component_base import Component
from platformkit.web_service.build_context import content_tag
from platformkit.web_service.settings import WebServiceSettings

UNTAGGED_IMAGE_EXPIRY_DAYS = 7
KEEP_IMAGE_COUNT = 50


def create_image(
    owner: Component, settings: WebServiceSettings
) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None, pulumi.Output[str]]:
    """Return (repository ARN to pull from, repository URL if created, image URI)."""
    build, platform = settings.build, settings.platform
    if build is None or platform is None:
        assert settings.image is not None  # the reader requires exactly one of the two
        uri = pulumi.Output.from_input(settings.image)
        pull_arn = settings.image_repository_arn or _ecr_repository_arn(settings.image)
        return (pulumi.Output.from_input(pull_arn) if pull_arn else None), None, uri
    repository = aws.ecr.Repository(
        f"{owner._name}-repo",
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration={"scan_on_push": True},
        force_delete=settings.repository_force_delete,
        encryption_configurations=[{"encryption_type": "KMS"}],
        tags=owner._tags,
        opts=owner._child(),
    )
    aws.ecr.LifecyclePolicy(
        f"{owner._name}-repo-lifecycle",
        repository=repository.name,
        policy=json.dumps(_lifecycle_policy()),
        opts=owner._child(),
    )
    image = awsx.ecr.Image(
        f"{owner._name}-image",
        repository_url=repository.repository_url,
        context=build["context"],
        dockerfile=build.get("dockerfile"),
        platform=platform,
        # Tags are immutable, so each distinct build needs a tag of its own: awsx's default
        # tag hashes only the context *path*, and a second push of changed code to it would
        # be rejected. A hash of the context's *content* changes exactly when the image can.
        image_tag=content_tag(build, platform),
        opts=owner._child(),
    )
    # awsx returns ``repository@sha256:...``: the task pins the digest it pushed.
    return repository.arn, repository.repository_url, image.image_uri


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
