"""A stand-in for the Pulumi engine, so a component provider can be driven over gRPC.

``Construct`` makes the provider register the component and its children with a resource
monitor, and log to the engine. ``FakeEngine`` serves both on one local port: the monitor
records every registration and answers like the offline preview engine does (ids, ARNs and
invoke results from ``platformkit.preview``'s ``FakeCloud``); the engine side collects logs.
What it does not do is what the real engine does beyond answering: diffing against state,
calling the AWS provider, checkpointing. See docs/components.md.
"""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from platformkit.preview import wire
from platformkit.preview.fake_cloud import FakeCloud
from platformkit.preview.recording import ResourceArgs

PROJECT = "consumer"
STACK = "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"

FEATURES = [
    resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
]
"""What the monitor says it supports (a subset of the real engine's)."""


@dataclass
class Registration:
    """One ``RegisterResource`` call, decoded."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    """A custom resource's outputs as the fake cloud made them; a component's registered ones."""


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return resource_pb2.DeploymentInfo(supportedFeatures=FEATURES)

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # noqa: N802
        names = {resource_pb2.ResourceMonitorFeature.Name(f) for f in FEATURES}
        known = any(name.endswith("_" + _upper_snake(request.id)) for name in names)
        return resource_pb2.SupportsFeatureResponse(hasSupport=known)

    def RegisterResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self.engine.register(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:  # noqa: N802
        outputs, _ = wire.provider_inputs(request.outputs)
        self.engine.record_outputs(request.urn, outputs)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        arguments, _ = wire.provider_inputs(request.args)
        result = self.engine.invoke(request.tok, arguments, request.provider)
        return resource_pb2.ResourceInvokeResponse(**{"return": wire.to_struct(result)})

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.engine.logs.append((engine_pb2.LogSeverity.Name(request.severity), request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=STACK_URN)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


class FakeEngine:
    """Engine and resource monitor on ``address`` (``127.0.0.1:<port>``) until ``stop()``."""

    def __init__(self, mode: str = "up") -> None:
        self.cloud = FakeCloud(mode="up" if mode == "up" else "preview")
        self.registrations: list[Registration] = []
        self.logs: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(self), self._server)
        engine_pb2_grpc.add_EngineServicer_to_server(_Engine(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)

    def reset(self, mode: str = "up") -> None:
        """Forget every registration and log; answer as ``up`` or ``preview`` from now on."""
        with self._lock:
            self.registrations.clear()
            self.logs.clear()
            self.cloud = FakeCloud(mode="up" if mode == "up" else "preview")

    # --- what the monitor does ---------------------------------------------------------

    def register(self, request: Any) -> Any:
        urn = _urn(request.parent, request.type, request.name)
        inputs, _ = wire.provider_inputs(request.object)
        resource_id, outputs = "", dict(inputs)
        if request.custom:
            args = ResourceArgs(request.type, request.name, inputs, request.provider, custom=True)
            args.urn = urn  # the fake cloud derives its ids from the URN
            found_id, outputs = self.cloud.new_resource(args)
            resource_id = found_id or ""
        with self._lock:
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=inputs,
                    dependencies=list(request.dependencies),
                    outputs=dict(outputs) if request.custom else {},
                )
            )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id, object=wire.to_struct(outputs)
        )

    def record_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            for registration in self.registrations:
                if registration.urn == urn:
                    registration.outputs = outputs

    def invoke(self, token: str, arguments: dict[str, Any], provider: str) -> dict[str, Any]:
        from pulumi.runtime.mocks import MockCallArgs

        result, _ = self.cloud.call(MockCallArgs(token=token, args=arguments, provider=provider))
        return result

    # --- what tests read ---------------------------------------------------------------

    def named(self, name: str) -> Registration:
        found = [r for r in self.registrations if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name!r}"
        return found[0]

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_token]

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]


def _urn(parent: str, type_: str, name: str) -> str:
    # As the engine qualifies types: by the parent's chain, the stack itself left out.
    qualified = type_
    if parent and parent != STACK_URN:
        qualified = f"{parent.split('::')[2]}${type_}"
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def _upper_snake(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() else c.upper() for c in name).lstrip("_")
