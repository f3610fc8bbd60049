"""The boto3 boundary: typed client views, session set-up, and errors a user can act on.

``verify`` and ``dr-drill`` talk to AWS only through ``AwsClients``. The ECS, ELBv2 and
CloudWatch views are ``Protocol``s naming the few calls the tools make, so a test can wrap a
moto client and replace one call where moto lacks the behaviour (for example target health
states, or the tasks an ECS service runs) without stubbing everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

T = TypeVar("T")

Sleep = Callable[[float], None]
"""``time.sleep`` or a test's fake."""
Clock = Callable[[], float]
"""``time.monotonic`` or a test's fake; seconds."""

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10)
"""botocore retries throttling and transient errors itself, with exponential backoff."""


class AwsAccessError(Exception):
    """AWS cannot be reached as configured: no credentials, no or wrong region, no network."""


class EcsApi(Protocol):
    """The ECS calls the tools make."""

    def describe_services(self, **kwargs: Any) -> Any: ...
    def list_tasks(self, **kwargs: Any) -> Any: ...
    def describe_tasks(self, **kwargs: Any) -> Any: ...


class Elbv2Api(Protocol):
    """The Elastic Load Balancing v2 calls the tools make."""

    def describe_target_health(self, **kwargs: Any) -> Any: ...
    def describe_listeners(self, **kwargs: Any) -> Any: ...


class CloudWatchApi(Protocol):
    """The CloudWatch calls the tools make."""

    def describe_alarms(self, **kwargs: Any) -> Any: ...


class StsApi(Protocol):
    """The STS call that proves credentials work."""

    def get_caller_identity(self) -> Any: ...


@dataclass(frozen=True)
class AwsClients:
    """One client per service, all in the same account and region."""

    region: str
    ecs: EcsApi
    elbv2: Elbv2Api
    rds: RDSClient
    cloudwatch: CloudWatchApi
    sts: StsApi


def make_clients(region: str | None) -> AwsClients:
    """Clients for ``region`` (else the environment's default region), or ``AwsAccessError``."""
    try:
        session = boto3.session.Session(region_name=region)
    except Exception as exc:  # a malformed profile or config file
        raise AwsAccessError(f"cannot set up an AWS session: {exc}") from exc
    resolved = session.region_name
    if not resolved:
        raise AwsAccessError(
            "no AWS region: pass --region, set AWS_REGION, or export 'region' in the "
            "stack's operations output"
        )

    def client(name: str) -> Any:
        return session.client(name, region_name=resolved, config=RETRY_CONFIG)  # type: ignore[call-overload]

    return AwsClients(
        region=resolved,
        ecs=cast(EcsApi, client("ecs")),
        elbv2=cast(Elbv2Api, client("elbv2")),
        rds=cast("RDSClient", client("rds")),
        cloudwatch=cast(CloudWatchApi, client("cloudwatch")),
        sts=cast(StsApi, client("sts")),
    )


def check_access(clients: AwsClients) -> str:
    """The caller's ARN, proving credentials and region work; else ``AwsAccessError``."""
    return str(call(clients.region, clients.sts.get_caller_identity)["Arn"])


def call(region: str, function: Callable[[], T]) -> T:
    """``function()``, translating credential and connectivity failures into advice."""
    try:
        return function()
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise AwsAccessError(
            "no AWS credentials found: set AWS_PROFILE (after `aws sso login`) or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or in GitHub Actions assume the "
            f"deploy role with aws-actions/configure-aws-credentials ({exc})"
        ) from exc
    except NoRegionError as exc:
        raise AwsAccessError("no AWS region: pass --region or set AWS_REGION") from exc
    except EndpointConnectionError as exc:
        raise AwsAccessError(
            f"cannot reach AWS in region {region!r}: check --region (a typo gives an "
            f"endpoint that does not exist) and the network ({exc})"
        ) from exc
    except ClientError as exc:
        code = error_code(exc)
        if code in {
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "ExpiredToken",
            "ExpiredTokenException",
            "SignatureDoesNotMatch",
            "AuthFailure",
        }:
            raise AwsAccessError(
                f"AWS rejected the credentials ({code}): refresh them, e.g. `aws sso login`"
            ) from exc
        raise


def error_code(exc: ClientError) -> str:
    """The AWS error code of ``exc`` (``DBInstanceNotFound``, ``ClusterNotFoundException``)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def backoff_delays(attempts: int, base: float = 5.0, cap: float = 60.0) -> list[float]:
    """Delays between ``attempts`` tries: exponential from ``base``, at most ``cap``."""
    return [min(cap, base * 2**n) for n in range(max(attempts - 1, 0))]


def default_sleep(seconds: float) -> None:
    """``time.sleep``, named so tests can see what production uses."""
    time.sleep(seconds)
