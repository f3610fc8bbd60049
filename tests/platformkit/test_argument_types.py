"""Arguments of the wrong type or shape get an ``InvalidArgument`` naming the instance, the
field (a nested path for nested keys), the value and what is expected: never a ``TypeError``
from deep inside a component, a string split into characters, or a silent acceptance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from platformkit import Cluster, Database, Network, WebService
from platformkit.validation import InvalidArgument
from tests.platformkit.conftest import NETWORK, Run

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"
PRIVATE_PLAN = {
    "private": ["10.0.0.0/24", "10.0.1.0/24"],
    "isolated": ["10.0.2.0/24", "10.0.3.0/24"],
}


def network(**args: Any) -> Callable[[], object]:
    return lambda: Network("n", args)  # type: ignore[arg-type]


def cluster(**args: Any) -> Callable[[], object]:
    return lambda: Cluster("c", {"network": NETWORK, **args})  # type: ignore[typeddict-item]


def database(**args: Any) -> Callable[[], object]:
    return lambda: Database("d", {"network": NETWORK, **args})  # type: ignore[typeddict-item]


def service(**args: Any) -> Callable[[], object]:
    def build() -> None:
        core = Cluster("c", {"network": NETWORK, "waf": False, "access_logs": False})
        WebService("w", {"cluster": core, "image": IMAGE, **args})  # type: ignore[typeddict-item]

    return build


def bare_service(**args: Any) -> Callable[[], object]:
    """A ``WebService`` without the cluster ``service`` adds."""
    return lambda: WebService("w", {"image": IMAGE, **args})  # type: ignore[typeddict-item]


# (component call, instance, field, value as shown, expectation)
CASES: list[tuple[Callable[[], object], str, str, str, str]] = [
    (network(vpc_endpoints="logs"), "Network 'n'", "vpc_endpoints", "'logs'", "a list of strings"),
    (
        network(availability_zones="us-east-1a"),
        "Network 'n'",
        "availability_zones",
        "'us-east-1a'",
        "a list of strings",
    ),
    (
        network(subnet_cidrs="10.0.0.0/24"),
        "Network 'n'",
        "subnet_cidrs",
        "'10.0.0.0/24'",
        "a mapping of public, private, isolated",
    ),
    (
        network(
            public_subnets=False, nat_strategy="none", subnet_cidrs={**PRIVATE_PLAN, "publik": []}
        ),
        "Network 'n'",
        "subnet_cidrs.keys",
        "['publik']",
        "only public, private, isolated",
    ),
    (
        network(
            public_subnets=False,
            nat_strategy="none",
            subnet_cidrs={**PRIVATE_PLAN, "private": ["10.0.0.0/24", 5]},
        ),
        "Network 'n'",
        "subnet_cidrs.private[1]",
        "5",
        "a string",
    ),
    (network(cidr_block=5), "Network 'n'", "cidr_block", "5", "a string"),
    (network(tags=["x"]), "Network 'n'", "tags", "['x']", "a mapping of names to strings"),
    (network(tags={"team": 5}), "Network 'n'", "tags['team']", "5", "a string"),
    (network(owner=5), "Network 'n'", "owner", "5", "a string"),
    (network(environment=["dev"]), "Network 'n'", "environment", "['dev']", "a string"),
    (cluster(network="vpc-1"), "Cluster 'c'", "network", "'vpc-1'", "a Network or a NetworkRef"),
    (
        cluster(capacity_provider_strategy=["FARGATE"]),
        "Cluster 'c'",
        "capacity_provider_strategy[0]",
        "'FARGATE'",
        "a mapping",
    ),
    (
        cluster(
            capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1, "bse": 1}]
        ),
        "Cluster 'c'",
        "capacity_provider_strategy[0].keys",
        "['bse']",
        "only capacity_provider, weight, base",
    ),
    (cluster(certificate_arn=5), "Cluster 'c'", "certificate_arn", "5", "a string or an output"),
    (cluster(ingress_cidrs=[5]), "Cluster 'c'", "ingress_cidrs[0]", "5", "a string"),
    (cluster(owner=5), "Cluster 'c'", "owner", "5", "a string"),
    (database(instance_class=5), "Database 'd'", "instance_class", "5", "a string"),
    (database(database_name=5), "Database 'd'", "database_name", "5", "a string"),
    (database(master_username=5), "Database 'd'", "master_username", "5", "a string"),
    (database(identifier=5), "Database 'd'", "identifier", "5", "a string"),
    (database(backup_window=3), "Database 'd'", "backup_window", "3", "a string"),
    (database(maintenance_window=3), "Database 'd'", "maintenance_window", "3", "a string"),
    (
        database(max_allocated_storage="200"),
        "Database 'd'",
        "max_allocated_storage",
        "'200'",
        "an integer at least allocated_storage (20)",
    ),
    (
        database(max_allocated_storage=True),
        "Database 'd'",
        "max_allocated_storage",
        "True",
        "an integer at least",
    ),
    (
        database(allowed_security_group_ids="sg-1"),
        "Database 'd'",
        "allowed_security_group_ids",
        "'sg-1'",
        "a list of strings or outputs",
    ),
    (database(log_exports="error"), "Database 'd'", "log_exports", "'error'", "a list of strings"),
    (database(kms_key_arn=5), "Database 'd'", "kms_key_arn", "5", "a string or an output"),
    (database(tags="x"), "Database 'd'", "tags", "'x'", "a mapping of names to strings"),
    (bare_service(), "WebService 'w'", "cluster", "None", "a Cluster or a ClusterRef"),
    (bare_service(cluster="c"), "WebService 'w'", "cluster", "'c'", "a Cluster or a ClusterRef"),
    (service(database="db"), "WebService 'w'", "database", "'db'", "a Database or a DatabaseRef"),
    (service(user=10001), "WebService 'w'", "user", "10001", "a string"),
    (service(health_check_path=5), "WebService 'w'", "health_check_path", "5", "a string"),
    (
        service(cpu_target="high"),
        "WebService 'w'",
        "cpu_target",
        "'high'",
        "a percentage from 1 to 100",
    ),
    (
        service(cpu_target=True),
        "WebService 'w'",
        "cpu_target",
        "True",
        "a percentage from 1 to 100",
    ),
    (
        service(alarm_5xx_percent="5"),
        "WebService 'w'",
        "alarm_5xx_percent",
        "'5'",
        "a percentage above 0 and at most 100",
    ),
    (
        service(alarm_cpu_percent=False),
        "WebService 'w'",
        "alarm_cpu_percent",
        "False",
        "a percentage above 0 and at most 100",
    ),
    (
        service(alarm_p99_latency_seconds="x"),
        "WebService 'w'",
        "alarm_p99_latency_seconds",
        "'x'",
        "a number above 0",
    ),
    (
        service(desired_count=True, min_count=0),
        "WebService 'w'",
        "desired_count",
        "True",
        "an integer between min_count=0",
    ),
    (
        service(task_role_statements=["s3:GetObject"]),
        "WebService 'w'",
        "task_role_statements[0]",
        "'s3:GetObject'",
        "a mapping",
    ),
    (
        service(path_patterns="/api/*"),
        "WebService 'w'",
        "path_patterns",
        "'/api/*'",
        "a list of strings",
    ),
    (service(host_headers=[5]), "WebService 'w'", "host_headers[0]", "5", "a string"),
    (
        service(health_check_command="CMD-SHELL true"),
        "WebService 'w'",
        "health_check_command",
        "'CMD-SHELL true'",
        "a list of strings",
    ),
    (
        service(environment_variables=["A=1"]),
        "WebService 'w'",
        "environment_variables",
        "['A=1']",
        "a mapping of names to strings or outputs",
    ),
    (service(secrets={"A": 5}), "WebService 'w'", "secrets['A']", "5", "a string or an output"),
    (
        service(image=None, build="./app"),
        "WebService 'w'",
        "build",
        "'./app'",
        "a mapping of context, dockerfile, platform",
    ),
    (
        service(image=None),
        "WebService 'w'",
        "image/build",
        "'neither'",
        "exactly one: `image` (a URI) or `build`",
    ),
    (service(owner=5), "WebService 'w'", "owner", "5", "a string"),
]


@pytest.mark.parametrize(("build", "instance", "field", "value", "expected"), CASES)
def test_wrong_types_name_instance_field_value_and_expectation(
    run: Run, build: Callable[[], object], instance: str, field: str, value: str, expected: str
) -> None:
    with pytest.raises(InvalidArgument) as error:
        run(build)
    assert str(error.value).startswith(
        f"{instance}: {field}={value} is invalid; expected {expected}"
    )
    assert error.value.field == field


def test_build_rejects_unknown_keys_by_path(run: Run, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(InvalidArgument) as error:
        run(service(image=None, build={"context": str(tmp_path), "dockerfil": "X"}))
    assert str(error.value) == (
        "WebService 'w': build.keys=['dockerfil'] is invalid; "
        "expected only context, dockerfile, platform."
    )
