"""Start a policy pack as the Pulumi CLI does and talk to it over the analyzer gRPC protocol.

The CLI boots a Python policy pack through the ``pulumi-analyzer-policy-python`` shim, which is
``python -u -m pulumi.policy ENGINE_ADDRESS .`` run in the pack directory, with the interpreter
of the ``virtualenv`` named in ``PulumiPolicy.yaml``'s ``runtime.options`` (the CLI hands the
options to the shim as ``-virtualenv=...``; the shim consumes them), with the stack in
``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` and its config as JSON in
``PULUMI_CONFIG``. ``pulumi.policy`` runs the pack's ``__main__.py``; ``PolicyPack(...)`` starts
a gRPC server on 127.0.0.1 and prints its port on stdout. ``PolicyPackProcess`` does the same
and then speaks only the public protocol (``pulumi.runtime.proto.analyzer_pb2``):
``Handshake``, ``GetAnalyzerInfo``, ``Configure``, ``ConfigureStack``, ``Analyze``,
``AnalyzeStack``. Nothing here imports ``pulumi_policy``, so any Python pack works.

A ``nodejs`` pack (TypeScript or JavaScript) starts as the CLI starts it too (``pack_launch``)
and speaks the same protocol; the requests are shaped as the CLI shapes them, because the
Node.js analyzer reads fields the Python one tolerates missing.

No engine is served: the Python analyzer parses the engine address but never dials it, so a
placeholder is passed. Interrupting the pack (SIGINT) makes ``PolicyPack`` stop its server and
exit, which is how ``close`` shuts it down; a pack that does not exit in time is killed.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from platformkit.preview.pack_launch import ENGINE_ADDRESS as ENGINE_ADDRESS
from platformkit.preview.pack_launch import START_TIMEOUT as START_TIMEOUT
from platformkit.preview.pack_launch import PackError as PackError
from platformkit.preview.pack_launch import pack_command, pack_environment, read_pack_project

CALL_TIMEOUT = 120.0
"""Seconds one gRPC call may take."""
STOP_TIMEOUT = 5.0
"""Seconds a pack gets to exit after SIGINT before it is killed."""
_MAX_MESSAGE = 1024 * 1024 * 400
"""Message size limit, as the SDK's server sets it."""

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
"""Wire enforcement level → the name used in config files and reports."""
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as ``GetAnalyzerInfo`` describes it."""

    name: str
    description: str
    enforcement_level: str
    """The policy's default level (before any config)."""
    severity: str
    kind: str
    """``resource`` or ``stack``."""
    config_properties: dict[str, Any] = field(default_factory=dict)
    config_required: list[str] = field(default_factory=list)
    display_name: str = ""
    tags: list[str] = field(default_factory=list)
    remediation: str = ""
    url: str = ""
    framework: str = ""


@dataclass(frozen=True)
class AnalyzerInfo:
    """A pack's ``GetAnalyzerInfo`` answer; ``version`` is ``PulumiPolicy.yaml``'s when set."""

    name: str
    version: str
    description: str
    supports_config: bool
    policies: list[PolicyInfo]
    initial_config: dict[str, dict[str, Any]]
    """Per policy: ``enforcementLevel`` (when set) and properties, as a config file entry."""


@dataclass(frozen=True)
class AnalyzeDiagnostic:
    """One diagnostic (violation or note) a pack returned."""

    policy_name: str
    pack_name: str
    pack_version: str
    description: str
    message: str
    urn: str
    enforcement_level: str
    severity: str


@dataclass(frozen=True)
class PolicyConfig:
    """What ``Configure`` sends for one policy."""

    enforcement_level: str
    properties: dict[str, Any]


@dataclass
class AnalyzerResource:
    """A resource as the engine hands it to an analyzer."""

    urn: str
    type: str
    name: str
    properties: struct_pb2.Struct
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """Options as ``ResourceRecord.options`` holds them (camelCase keys)."""
    provider: AnalyzerResource | None = None


class PolicyPackProcess:
    """A running policy pack and a client of its analyzer server.

    ``PolicyPackProcess.spawn(...)`` starts the process; the first call waits for its port.
    Use it as a context manager (or call ``close``) so the process never outlives the run.
    """

    def __init__(self, directory: Path, process: subprocess.Popen[bytes], version: str) -> None:
        self.directory = directory
        self.process = process
        self.version = version
        self._ports: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._channel: Any = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    @classmethod
    def spawn(
        cls,
        directory: Path,
        *,
        project: str,
        stack: str,
        dry_run: bool,
        config: Mapping[str, str],
    ) -> PolicyPackProcess:
        """Start the pack in ``directory`` for this project and stack (does not wait)."""
        directory = directory.absolute()
        pack_project = read_pack_project(directory)
        command = pack_command(directory, pack_project)
        try:
            process = subprocess.Popen(
                command,
                cwd=directory,
                env=pack_environment(project, stack, dry_run, config),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise PackError(f"error: policy pack {directory} failed to start: {exc}") from exc
        return cls(directory, process, str(pack_project.get("version") or ""))

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- process management ------------------------------------------------------------

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        announced = False
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not announced and line.isdigit():
                announced = True
                self._ports.put(line)
        self._ports.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    def stderr_tail(self, lines: int = 30) -> str:
        """The last lines the pack wrote to stderr (its traceback, when it crashed)."""
        text = "".join(self._stderr[-lines:]).rstrip()
        return text

    def _failure(self, what: str) -> PackError:
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        code = self.process.poll()
        detail = self.stderr_tail()
        status = f" (exit code {code})" if code is not None else ""
        message = f"error: policy pack {self.directory} {what}{status}"
        if detail:
            message += "\n" + "\n".join(f"  {line}" for line in detail.splitlines())
        return PackError(message)

    def _connect(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is not None:
            return self._stub
        try:
            port = self._ports.get(timeout=START_TIMEOUT)
        except queue.Empty:
            raise self._failure(f"did not print its port within {START_TIMEOUT:.0f} s") from None
        if port is None:
            raise self._failure("exited before serving the analyzer protocol")
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", _MAX_MESSAGE)]
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT)
        except grpc.FutureTimeoutError:
            raise self._failure(f"printed port {port} but does not answer on it") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self._stub

    def close(self) -> None:
        """Close the connection and stop the pack: SIGINT, then kill after ``STOP_TIMEOUT``."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self.process.poll() is None:
            try:
                if os.name == "nt":
                    self.process.terminate()
                else:
                    self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _call(self, method: str, request: Any) -> Any:
        stub = self._connect()
        try:
            return getattr(stub, method)(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            if self.process.poll() is not None:
                raise self._failure(f"crashed during {method}") from exc
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise PackError(
                f"error: policy pack {self.directory} failed in {method}: {details}"
            ) from exc

    # -- the protocol --------------------------------------------------------------------

    def handshake(self) -> None:
        """``Handshake`` as the CLI sends it; packs that do not implement it are fine."""
        directory = str(self.directory)
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=ENGINE_ADDRESS, root_directory=directory, program_directory=directory
        )
        stub = self._connect()
        try:
            stub.Handshake(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure(f"failed in Handshake: {exc.details()}") from exc

    def info(self) -> AnalyzerInfo:
        """``GetAnalyzerInfo``: the pack's name, version and policies."""
        response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = [_policy_info(p) for p in response.policies]
        initial: dict[str, dict[str, Any]] = {}
        for name, value in response.initialConfig.items():
            entry = json_format.MessageToDict(value.properties)
            if value.enforcementLevel in LEVELS and value.enforcementLevel != 0:
                entry["enforcementLevel"] = LEVELS[value.enforcementLevel]
            initial[name] = entry
        return AnalyzerInfo(
            name=response.name,
            version=self.version or response.version,
            description=response.description,
            supports_config=response.supportsConfig,
            policies=policies,
            initial_config=initial,
        )

    def configure(self, config: Mapping[str, PolicyConfig]) -> None:
        """``Configure``: the level and properties of every policy."""
        self._call("Configure", configure_request(config))

    def configure_stack(
        self, project: str, stack: str, config: Mapping[str, str], dry_run: bool
    ) -> None:
        """``ConfigureStack``: the stack's identity and config; optional for a pack."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            project=project, stack=stack, organization="organization", dry_run=dry_run
        )
        request.config.update(dict(config))
        stub = self._connect()
        try:
            stub.ConfigureStack(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure(f"failed in ConfigureStack: {exc.details()}") from exc

    def analyze(self, resource: AnalyzerResource) -> list[AnalyzeDiagnostic]:
        """``Analyze`` one resource; diagnostics without a URN get the resource's."""
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=resource.properties,
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
        )
        if resource.provider is not None:
            request.provider.CopyFrom(_provider(resource.provider))
        response = self._call("Analyze", request)
        return [_diagnostic(d, resource.urn) for d in response.diagnostics]

    def analyze_stack(self, resources: Sequence[AnalyzerResource]) -> list[AnalyzeDiagnostic]:
        """``AnalyzeStack`` once with every resource, its parent and dependencies."""
        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            entry = request.resources.add(
                type=resource.type,
                properties=resource.properties,
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
                parent=resource.parent,
                dependencies=resource.dependencies,
            )
            for key, urns in resource.property_dependencies.items():
                if urns:  # the engine skips properties without dependencies
                    entry.propertyDependencies[key].urns.extend(urns)
            if resource.provider is not None:
                entry.provider.CopyFrom(_provider(resource.provider))
        response = self._call("AnalyzeStack", request)
        return [_diagnostic(d, "") for d in response.diagnostics]


def configure_request(
    config: Mapping[str, PolicyConfig],
) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The ``Configure`` request: every policy's level and properties, as the CLI sends it."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, value in config.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = LEVEL_VALUES[value.enforcement_level]
        # Present even when empty, as the CLI sends it: the Node.js analyzer reads it
        # unconditionally (undefined.toJavaScript() otherwise).
        entry.properties.SetInParent()
        entry.properties.update(value.properties)
    return request


def _policy_info(policy: Any) -> PolicyInfo:
    schema = json_format.MessageToDict(policy.configSchema.properties)
    kind = "stack" if policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
    return PolicyInfo(
        name=policy.name,
        description=policy.description,
        enforcement_level=LEVELS.get(policy.enforcementLevel, "advisory"),
        severity=SEVERITIES.get(policy.severity, "unspecified"),
        kind=kind,
        config_properties=schema,
        config_required=list(policy.configSchema.required),
        display_name=policy.displayName,
        tags=list(policy.tags),
        remediation=policy.remediation_steps,
        url=policy.url,
        framework=policy.framework.name,
    )


def _options(resource: AnalyzerResource) -> analyzer_pb2.AnalyzerResourceOptions:
    options = resource.options
    result = analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(options.get("protect", False)),
        ignoreChanges=list(options.get("ignoreChanges", [])),
        additionalSecretOutputs=list(options.get("additionalSecretOutputs", [])),
        aliases=list(options.get("aliases", [])),
        parent=resource.parent,
    )
    if "deleteBeforeReplace" in options:
        result.deleteBeforeReplace = bool(options["deleteBeforeReplace"])
        result.deleteBeforeReplaceDefined = True
    # The CLI always sends customTimeouts (zeros when unset); the Node.js analyzer reads it
    # unconditionally.
    result.customTimeouts.SetInParent()
    timeouts = options.get("customTimeouts", {})
    result.customTimeouts.create = _seconds(timeouts.get("create"))
    result.customTimeouts.update = _seconds(timeouts.get("update"))
    result.customTimeouts.delete = _seconds(timeouts.get("delete"))
    return result


def _seconds(duration: Any) -> float:
    """A Go duration string (``"5m"``, ``"1h30m"``, ``"10s"``) in seconds; 0 when unset."""
    if not duration:
        return 0.0
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in str(duration):
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
    return total


def _provider(provider: AnalyzerResource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=provider.properties, urn=provider.urn, name=provider.name
    )


def _diagnostic(diagnostic: Any, default_urn: str) -> AnalyzeDiagnostic:
    return AnalyzeDiagnostic(
        policy_name=diagnostic.policyName,
        pack_name=diagnostic.policyPackName,
        pack_version=diagnostic.policyPackVersion,
        description=diagnostic.description,
        message=diagnostic.message,
        urn=diagnostic.urn or default_urn,
        enforcement_level=LEVELS.get(diagnostic.enforcementLevel, "advisory"),
        severity=SEVERITIES.get(diagnostic.severity, "unspecified"),
    )
