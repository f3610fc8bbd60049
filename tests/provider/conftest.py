"""Fixtures: the component package's provider, started as the Pulumi CLI starts it, and a fake
engine for it to register resources with."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from platformkit.preview import wire
from tests.provider.fake_engine import PROJECT, STACK, STACK_URN, FakeEngine

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "provider"
STARTUP_SECONDS = 120
"""How long the provider may take to print its port (it imports pulumi_aws; CI is busy)."""


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh_engine(request: pytest.FixtureRequest) -> None:
    if "engine" in request.fixturenames:
        request.getfixturevalue("engine").reset()


class Provider:
    """A running provider process and a gRPC client for it."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self._stderr = tempfile.TemporaryFile()
        # As the CLI's Python language host runs a plugin: `python <plugin dir> <engine>`,
        # from the plugin directory; the plugin prints its port on its first line.
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(PLUGIN), engine.address],
            cwd=PLUGIN,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        timer = threading.Timer(STARTUP_SECONDS, self.process.kill)
        timer.start()
        try:
            assert self.process.stdout is not None
            line = self.process.stdout.readline().strip()
        finally:
            timer.cancel()
        if not line.isdigit():
            raise AssertionError(f"the provider printed no port ({line!r}):\n{self.stderr()}")
        self.port = int(line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def construct(
        self,
        component: str,
        name: str,
        inputs: dict[str, Any],
        *,
        dry_run: bool = False,
        dependencies: dict[str, list[str]] | None = None,
    ) -> provider_pb2.ConstructResponse:
        """``Construct`` a ``platformkit:index:<component>`` under the stack, as the engine asks."""
        request = provider_pb2.ConstructRequest(
            project=PROJECT,
            stack=STACK,
            organization="organization",
            config={"aws:region": "us-east-1"},
            dryRun=dry_run,
            parallel=8,
            monitorEndpoint=self.engine.address,
            type=f"platformkit:index:{component}",
            name=name,
            parent=STACK_URN,
            inputs=wire.to_struct(inputs),
            inputDependencies={
                key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                for key, urns in (dependencies or {}).items()
            },
            accepts_output_values=True,
        )
        response: provider_pb2.ConstructResponse = self.stub.Construct(request, timeout=180)
        return response


@pytest.fixture(scope="module")
def provider(engine: FakeEngine) -> Iterator[Provider]:
    started = Provider(engine)
    yield started
    started.close()


def output_value(
    value: Any = None, *, dependencies: Sequence[str] = (), known: bool = True
) -> dict[str, Any]:
    """An output as another language's SDK sends it to a remote component (``OutputValue``)."""
    encoded: dict[str, Any] = {
        wire.SIG_KEY: wire.OUTPUT_VALUE_SIG,
        "dependencies": list(dependencies),
    }
    if known:
        encoded["value"] = value
    return encoded


def state(response: provider_pb2.ConstructResponse) -> dict[str, Any]:
    """The component's outputs from a ``Construct`` response, as plain values."""
    values, _ = wire.provider_inputs(response.state)
    return values
