"""Fixtures for the offline engine's tests: the fixture programs and cached preview runs."""

from __future__ import annotations

import gc
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from platformkit.preview.report_json import render_json
from platformkit.preview.result import PreviewResult, run_preview

PROGRAMS = Path(__file__).parent / "programs"
"""Small Pulumi projects used as fixtures, one directory each."""
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "aws-py-static-site"
"""The plain ``pulumi_aws`` program (no platformkit import) the engine must run unchanged."""
CIPHERTEXT = "AAABAOpaqueCiphertextNeverShown0123456789=="
"""The ``secure:`` value in the basic fixture's stack files."""


@pytest.fixture(scope="session")
def basic_up() -> PreviewResult:
    """The basic fixture, stack dev, mode up."""
    return run_preview(PROGRAMS / "basic", "dev", "up")


@pytest.fixture(scope="session")
def basic_preview() -> PreviewResult:
    """The basic fixture, stack dev, mode preview."""
    return run_preview(PROGRAMS / "basic", "dev", "preview")


@pytest.fixture(scope="session")
def example_up() -> PreviewResult:
    """The foreign example program, stack dev, mode up."""
    return run_preview(EXAMPLE, "dev", "up")


def document(result: PreviewResult) -> dict[str, Any]:
    """The JSON report of ``result``, parsed back."""
    parsed: dict[str, Any] = json.loads(render_json(result))
    return parsed


def resource(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The resource named ``name`` in a JSON report."""
    for entry in doc["resources"]:
        if entry["name"] == name:
            found: dict[str, Any] = entry
            return found
    raise LookupError(name)


def collect_failed_run() -> None:
    """Collect what a failed run left half-built, here rather than in a later test.

    Outputs derived from a failed one never start some of their coroutines; when collected,
    Python warns that they were "never awaited" (harmless: the failure was reported).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gc.collect()
