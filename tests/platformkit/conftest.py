"""Fixtures for component tests: run code under the offline engine's mock runtime."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from platformkit.network_ref import NetworkRef
from platformkit.preview.recording import Recording, ResourceRecord, run_under_mocks
from platformkit.tags import STANDARD_TAG_KEYS

Run = Callable[..., Recording]


@pytest.fixture
def run() -> Run:
    """Return ``run(build, stack="dev", mode="up", config=None)`` → ``Recording``.

    ``build`` constructs components; the returned ``Recording`` lists every registered
    resource with its inputs, parent and options. Exceptions from ``build`` propagate.
    """

    def _run(
        build: Callable[[], object],
        *,
        stack: str = "dev",
        mode: str = "up",
        config: dict[str, str] | None = None,
    ) -> Recording:
        settings: dict[str, Any] = {"aws:region": "us-east-1", **(config or {})}
        return run_under_mocks(build, project="test", stack=stack, config=settings, mode=mode)  # type: ignore[arg-type]

    return _run


NETWORK = NetworkRef(
    vpc_id="vpc-0123456789abcdef0",
    vpc_cidr_block="10.20.0.0/16",
    public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
    private_subnet_ids=["subnet-priv-a", "subnet-priv-b"],
    isolated_subnet_ids=["subnet-iso-a", "subnet-iso-b"],
)
"""An existing network given by literal ids, so component tests need no ``Network``."""


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Whether the ``pulumi_aws`` resource class behind ``type_token`` takes ``tags``.

    ``aws:ec2/vpc:Vpc`` → ``pulumi_aws.ec2.Vpc``; non-AWS types (components) take none.
    """
    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return False
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    init = getattr(module, class_name)._internal_init
    return "tags" in inspect.signature(init).parameters


def missing_standard_tags(records: Iterable[ResourceRecord]) -> list[str]:
    """The resources that take tags but lack one of the standard keys, as ``type name``."""
    return [
        f"{r.type} {r.name}"
        for r in records
        if accepts_tags(r.type) and not set(STANDARD_TAG_KEYS) <= set(r.inputs.get("tags") or {})
    ]
