"""Fixtures for component tests: run code under the offline engine's mock runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from platformkit.preview.recording import Recording, run_under_mocks

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
