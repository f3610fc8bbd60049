"""Run Pulumi code under the mock runtime and record every resource registration.

``RecordingMonitor`` extends Pulumi's own ``MockMonitor`` (the public test double for the
engine) and keeps, per registration, what the engine would see: type, name, URN, parent,
inputs, dependencies, provider, options and the source position of the constructor call.
``run_under_mocks`` wires it up with ``FakeCloud`` and waits for the program to settle.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from platformkit.preview import wire
from platformkit.preview.answers import Answers
from platformkit.preview.aws_region import RegionCheck
from platformkit.preview.fake_cloud import FakeCloud, Identity, Mode
from platformkit.preview.stack_outputs import DEFAULT_ORGANIZATION
from platformkit.preview.watchdog import DEFAULT_TIMEOUT, ProgramTimeout, deadline, pending_tasks

# Signatures of Pulumi's wire encoding (pulumi/sdk/go/common/resource/sig).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


class Computed:
    """Marks a value the engine will only know after the update (shown as ``<computed>``)."""

    _instance: Computed | None = None

    def __new__(cls) -> Computed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<computed>"


COMPUTED = Computed()
"""The single ``Computed`` marker used in recorded inputs."""


@dataclass
class SourcePosition:
    """Where the program called the resource constructor."""

    uri: str
    line: int
    column: int


@dataclass
class ResourceRecord:
    """One resource registration, as the engine received it."""

    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    remote: bool
    inputs: dict[str, Any]
    """Inputs with secrets unwrapped, unknowns as ``COMPUTED``, resource refs as URNs."""
    secret_inputs: list[str]
    """Top-level input keys whose value is (or contains) a secret."""
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str | None
    options: dict[str, Any]
    source: SourcePosition | None
    raw_inputs: struct_pb2.Struct = field(repr=False)
    """The inputs exactly as serialized on the wire (for the analyzer protocol)."""
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: list[str] = field(default_factory=list)
    """Output keys that are secret: marked so on the wire, derived from a secret input, or
    listed in ``additionalSecretOutputs`` (the mock runtime drops secretness otherwise)."""


@dataclass(frozen=True)
class Diagnostic:
    """A message the program logged through ``pulumi.log`` (or the SDK on its behalf)."""

    severity: str
    """``info``, ``warning`` or ``error``."""
    message: str


class ResourceArgs(pulumi_mocks.MockResourceArgs):
    """``MockResourceArgs`` plus what the fake cloud needs to answer like a provider would."""

    remote: bool = False
    """A multi-language component (awsx): its outputs come from its schema, not its inputs."""
    read: bool = False
    """``Resource.get`` / a ``StackReference``: an existing resource, known even in preview."""
    secret_inputs: frozenset[str] = frozenset()
    urn: str = ""
    """The URN the engine gives the resource (its parents' types are part of it)."""


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A ``MockMonitor`` that keeps a ``ResourceRecord`` per registration, in order.

    It decodes what the SDK sends itself (``wire``) instead of through the SDK's
    ``deserialize_properties``, which rebuilds a ``Resource`` for every reference it meets and,
    on the monitor's thread, waits forever for the id of one created during a preview. The
    fake cloud receives inputs as a provider does (references flattened to ids or URNs,
    secrets unwrapped) and its outputs go back with secret inputs and
    ``additionalSecretOutputs`` marked secret, as the engine marks them.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []
        self._lock = threading.Lock()
        self._in_flight: dict[int, str] = {}
        self._next_call = 0

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The real engine leaves the root stack out of a child's qualified type; the base
        # class does not, so resources would get URNs no deployment would ever show.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return str(super().make_urn(parent, type_, name))

    def in_flight(self) -> list[str]:
        """Engine calls started and not finished (what a hung program waits on)."""
        with self._lock:
            return list(self._in_flight.values())

    @contextmanager
    def _call(self, description: str) -> Iterator[None]:
        with self._lock:
            self._next_call += 1
            key = self._next_call
            self._in_flight[key] = description
        try:
            yield
        finally:
            with self._lock:
                del self._in_flight[key]

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        with self._call(f"resource {request.type} {request.name!r} (registration)"):
            inputs, secrets = wire.provider_inputs(request.object)
            args = ResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=_transforms(request),
            )
            args.remote = bool(request.remote)
            args.secret_inputs = frozenset(secrets)
            args.urn = urn
            resource_id, state = self.mocks.new_resource(args)
            secret_outputs = (secrets | set(request.additionalSecretOutputs)) & set(state)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(
                urn, resource_id or "", state
            )
            response = resource_pb2.RegisterResourceResponse(
                urn=urn, id=resource_id or "", object=wire.to_struct(state, secret_outputs)
            )
        self._record(request, response, secrets)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._call(f"resource {request.type} {request.name!r} (read of {request.id!r})"):
            inputs, _ = wire.provider_inputs(request.properties)
            args = ResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.id,
            )
            args.read = True
            args.urn = urn
            resource_id, state = self.mocks.new_resource(args)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(
                urn, resource_id or request.id, state
            )
            return resource_pb2.ReadResourceResponse(urn=urn, properties=wire.to_struct(state))

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        with self._call(f"invoke {request.tok}"):
            args, _ = wire.provider_inputs(request.args)
            if request.tok == "pulumi:pulumi:getResource":
                result = self._get_resource(str(args.get("urn", "")))
                return resource_pb2.ResourceInvokeResponse(**{"return": wire.to_struct(result)})
            answer = self.mocks.call(
                pulumi_mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider)
            )
            result, failures = answer if isinstance(answer, tuple) else (answer, [])
            return resource_pb2.ResourceInvokeResponse(
                **{
                    "return": wire.to_struct(result),
                    "failures": [
                        provider_pb2.CheckFailure(property=prop, reason=reason)
                        for prop, reason in failures or []
                    ],
                }
            )

    def _get_resource(self, urn: str) -> dict[str, Any]:
        registration = self.resources.get(urn)
        if registration is None:
            raise LookupError(
                f"get_resource: no resource with URN {urn} was registered by this program"
            )
        return {"urn": urn, "id": registration.id, "state": registration.state}

    def _record(self, request: Any, response: Any, secrets: set[str]) -> None:
        raw = struct_pb2.Struct()
        raw.CopyFrom(request.object)
        inputs, _ = _plain(json_format.MessageToDict(raw))
        position = request.sourcePosition if request.HasField("sourcePosition") else None
        outputs, secret_outputs = _plain(json_format.MessageToDict(response.object))
        secret_outputs |= secrets | set(request.additionalSecretOutputs)
        record = ResourceRecord(
            type=request.type,
            name=request.name,
            urn=response.urn,
            parent=request.parent or None,
            custom=bool(request.custom),
            remote=bool(request.remote),
            inputs=inputs,
            secret_inputs=sorted(secrets),
            dependencies=list(request.dependencies),
            property_dependencies={
                key: list(deps.urns) for key, deps in request.propertyDependencies.items()
            },
            provider=request.provider or None,
            options=_options(request),
            source=(
                SourcePosition(position.uri, position.line, position.column)
                if position is not None and position.uri
                else None
            ),
            raw_inputs=raw,
            id=response.id or None,
            outputs=outputs,
            secret_outputs=sorted(k for k in secret_outputs if k in outputs),
        )
        with self._lock:
            self.records.append(record)


def _transforms(request: Any) -> list[Any]:
    # The transforms registered for this resource, as the base monitor resolves them.
    resolve: Callable[[Any], list[Any]] = getattr(pulumi_mocks, "_resolve_callbacks")  # noqa: B009
    return resolve(request.transforms)


def _options(request: Any) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.protect:
        options["protect"] = True
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if request.retainOnDelete:
        options["retainOnDelete"] = True
    for key in ("ignoreChanges", "replaceOnChanges", "additionalSecretOutputs"):
        values = list(getattr(request, key))
        if values:
            options[key] = values
    aliases = [
        alias.urn or alias.spec.name for alias in request.aliases if alias.urn or alias.spec.name
    ]
    if aliases:
        options["aliases"] = aliases
    if request.deletedWith:
        options["deletedWith"] = request.deletedWith
    if request.importId:
        options["import"] = request.importId
    timeouts = request.customTimeouts
    custom_timeouts = {
        key: getattr(timeouts, key)
        for key in ("create", "update", "delete")
        if getattr(timeouts, key)
    }
    if custom_timeouts:
        options["customTimeouts"] = custom_timeouts
    return options


def _plain(raw: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Turn wire-format properties into plain values; return them and the secret keys."""
    secrets: set[str] = set()
    plain: dict[str, Any] = {}
    for key, value in raw.items():
        converted, secret = _plain_value(value)
        plain[key] = converted
        if secret:
            secrets.add(key)
    return plain, secrets


def _plain_value(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        return (COMPUTED if value == rpc.UNKNOWN else value), False
    if isinstance(value, list):
        converted = [_plain_value(v) for v in value]
        return [v for v, _ in converted], any(s for _, s in converted)
    if isinstance(value, dict):
        signature = value.get(_SIG_KEY)
        if signature == _SECRET_SIG:
            inner, _ = _plain_value(value.get("value"))
            return inner, True
        if signature == _RESOURCE_SIG:
            return value.get("urn"), False
        if signature is not None:
            # An asset or archive: keep its descriptor without the signature key.
            return {k: v for k, v in value.items() if k != _SIG_KEY}, False
        items = {k: _plain_value(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, float) and value.is_integer():
        # JSON on the wire has no integers; give programs' whole numbers back as ints.
        return int(value), False
    return value, False


@dataclass
class Recording:
    """Everything one run registered, in registration order."""

    project: str
    stack: str
    mode: Mode
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """Warnings and errors logged during the run, in order (e.g. deprecations)."""
    stack_urn: str | None = None
    """URN of the root ``pulumi:pulumi:Stack`` (the parent of top-level resources)."""

    def __iter__(self) -> Iterator[ResourceRecord]:
        return iter(self.resources)

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        """Every resource of ``type_token``, e.g. ``aws:ec2/subnet:Subnet``."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> ResourceRecord:
        """The single resource of ``type_token``; raise ``LookupError`` unless exactly one."""
        found = self.of_type(type_token)
        if len(found) != 1:
            raise LookupError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def named(self, name: str) -> ResourceRecord:
        """The resource whose logical name is ``name``."""
        for record in self.resources:
            if record.name == name:
                return record
        raise LookupError(f"no resource named {name!r}")

    def children_of(self, urn: str) -> list[ResourceRecord]:
        """Resources whose parent is ``urn``."""
        return [r for r in self.resources if r.parent == urn]


def run_under_mocks(
    program: Callable[[], object],
    *,
    project: str = "project",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    mode: Mode = "up",
    identity: Identity | None = None,
    answers: Answers | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    regions: RegionCheck | None = None,
) -> Recording:
    """Run ``program`` under the mock runtime and return what it registered.

    ``config`` maps fully qualified keys (``"aws:region"``, ``"myproj:azCount"``) to their
    string values, as the Pulumi CLI passes them. ``mode="preview"`` runs as a dry run, with
    computed outputs left unknown. The region of the fake cloud is ``aws:region`` from the
    config unless ``identity`` is given; ``answers`` supplies what cannot be derived (invoke
    results, other stacks' outputs); ``regions`` (default: none) makes AWS calls without a
    region fail as the provider would. ``pulumi.get_organization()`` is ``organization``, as
    on a self-managed backend. Exceptions raised by the program propagate; a run longer
    than ``timeout`` seconds (default ``DEFAULT_TIMEOUT``; ``None``: unbounded) raises
    ``ProgramTimeout`` naming what it was waiting on.
    """
    config = dict(config or {})
    identity = identity or Identity(region=config.get("aws:region") or Identity().region)
    cloud = FakeCloud(identity, mode, answers, regions)
    monitor = RecordingMonitor(cloud)
    # Always pass a list: ``None`` would keep the previous run's secret keys.
    pulumi.runtime.set_all_config(config, list(secret_keys or []))
    # ``set_mocks`` reuses an existing root stack; a previous run's would keep its project,
    # stack name and exported outputs, so every run starts from a fresh one.
    pulumi.runtime.settings.ROOT.set(None)
    collector = _DiagnosticCollector()
    pulumi.runtime.set_mocks(
        cloud,
        project=project,
        stack=stack,
        preview=mode == "preview",
        logger=collector.logger,
        monitor=monitor,
        organization=DEFAULT_ORGANIZATION,
    )
    # ``pulumi.runtime.test`` resets these too before running a test body.
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()

    def body() -> None:
        program()

    loop: asyncio.AbstractEventLoop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    loop.set_exception_handler(_ignore_unretrieved)
    executor = _LoopClosingExecutor(thread_name_prefix="platformkit-preview")
    loop.set_default_executor(executor)

    def pending() -> list[str]:
        return list(dict.fromkeys(monitor.in_flight() + pending_tasks(loop)))

    timed_out: ProgramTimeout | None = None
    try:
        with deadline(timeout, pending):
            _sync_await(run_pulumi_func(body))
    except ProgramTimeout as exc:
        # Kept without its traceback: its frames would keep the abandoned run alive.
        timed_out = ProgramTimeout(exc.seconds, exc.pending)
    except BaseException:
        # A failed run leaves tasks waiting on what failed (outputs derived from a failed
        # stack reference, say); unwound now, they do not warn "never awaited" in whatever
        # runs next in this process.
        executor.shutdown(wait=False, cancel_futures=True)
        _abandon(loop)
        raise
    if timed_out is not None:
        # Whatever was waiting will never finish: drop it, so the next run in this process
        # starts from a clean event loop and no thread is waited for.
        executor.shutdown(wait=False, cancel_futures=True)
        _abandon(loop)
        raise timed_out
    executor.shutdown(wait=True)
    root = pulumi.runtime.get_root_resource()
    outputs: dict[str, Any] = dict(getattr(root, "outputs", {}) or {}) if root is not None else {}
    return Recording(
        project,
        stack,
        mode,
        list(monitor.records),
        outputs,
        diagnostics=list(collector.diagnostics),
        stack_urn=f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}",
    )


def _ignore_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # When a program fails, every output derived from the failing one holds the same error;
    # it was reported once, as the program's failure, so the copies the garbage collector
    # finds later ("exception was never retrieved") are not reported again.
    if "exception was never retrieved" in str(context.get("message", "")):
        return
    loop.default_exception_handler(context)


def _abandon(loop: asyncio.AbstractEventLoop) -> None:
    # Unwinding the abandoned run finalizes coroutines it created and never started; their
    # "never awaited" warnings say nothing the timeout error does not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks and not loop.is_running():
            # Let the cancellations unwind (briefly: a task may swallow them) before closing.
            loop.run_until_complete(asyncio.wait(tasks, timeout=2))
        if not loop.is_running():
            loop.close()
        asyncio.set_event_loop(asyncio.new_event_loop())
        _forget_run()
        del tasks
        gc.collect()


def _forget_run() -> None:
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()
    pulumi.runtime.settings.ROOT.set(None)


class _LoopClosingExecutor(ThreadPoolExecutor):
    """The run's default executor: closes the event loop each call leaves in its thread.

    The SDK's engine calls run in executor threads and create an event loop there
    (``_ensure_event_loop``) that nothing closes; left to the garbage collector at interpreter
    exit, such loops print "Exception ignored ... Invalid file descriptor" tracebacks.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(_close_thread_loop_after, fn, *args, **kwargs)


def _close_thread_loop_after(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    finally:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
        if loop is not None and not loop.is_running():
            loop.close()
            asyncio.set_event_loop(None)


class _DiagnosticCollector(logging.Handler):
    """Collects what the mock engine logs instead of letting it reach the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.diagnostics: list[Diagnostic] = []
        # A private, non-propagating logger per run: nothing leaks to stderr or to the next run.
        self.logger = logging.Logger("platformkit.preview.engine", logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            severity = "error"
        elif record.levelno >= logging.WARNING:
            severity = "warning"
        else:
            severity = "info"
        self.diagnostics.append(Diagnostic(severity, record.getMessage()))
