"""Run a Pulumi Python program in this process, the way the Pulumi language host would.

The entry point runs as ``__main__`` through ``runpy`` with its directory first on
``sys.path`` and the project's working directory as cwd (see ``project``). Whatever the
program changes in the interpreter (``sys.path``, cwd, ``sys.argv``, the modules it imported
from its own directory) is restored afterwards, so one process (a test session) can run several
programs, including two that each have a ``components.py``, one after the other.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pulumi

from platformkit.preview.answers import Answers
from platformkit.preview.aws_region import (
    RegionCheck,
    default_provider_error,
    default_provider_region,
)
from platformkit.preview.errors import PreviewError, ProgramError
from platformkit.preview.fake_cloud import Mode
from platformkit.preview.identity import DEFAULT_REGION, Identity
from platformkit.preview.project import Project
from platformkit.preview.recording import Recording, run_under_mocks
from platformkit.preview.stack_config import StackConfig
from platformkit.preview.watchdog import DEFAULT_TIMEOUT, describe_resource

# Frames from these places are machinery, not the user's code: dropped from tracebacks.
_ENGINE_DIR = Path(__file__).resolve().parent
_CLI_FILE = _ENGINE_DIR.parent / "cli.py"
_STDLIB_MACHINERY = ("runpy.py", "threading.py", "contextvars.py")
_STDLIB_PACKAGES = ("asyncio", "concurrent")
_THIRD_PARTY_MACHINERY = ("pulumi", "grpc", "google")


def run_program(
    project: Project,
    stack: str,
    config: StackConfig,
    mode: Mode,
    *,
    answers: Answers | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Recording:
    """Run ``project``'s program for ``stack`` under the mock runtime and record it.

    ``mode`` is ``"up"`` (computed outputs known) or ``"preview"`` (left unknown); ``answers``
    supplies invoke results and other stacks' outputs; ``timeout`` bounds the run. The
    program's environment has the stack's ESC ``environmentVariables`` added; the AWS region
    is found as pulumi-aws finds it (``aws_region``), and an AWS call without one fails with
    ``MissingRegion``. Raises ``ProgramError`` with a traceback trimmed to the user's frames
    when the program raises, ``ProgramTimeout`` when it does not finish in time,
    ``MissingStackOutputs`` when it references a stack whose outputs were not supplied.
    """

    def program() -> None:
        runpy.run_path(str(project.entry_point), run_name="__main__")

    environ = {**os.environ, **config.environment_variables}
    region = default_provider_region(config.values, environ)
    missing = None if region else default_provider_error(config.stack_file.name, stack)
    with _program_environment(project, config.environment_variables):
        try:
            return run_under_mocks(
                program,
                project=project.name,
                stack=stack,
                config=config.values,
                secret_keys=config.secret_keys,
                mode=mode,
                identity=Identity(region=region or DEFAULT_REGION),
                answers=answers,
                timeout=timeout,
                regions=RegionCheck(missing, environ),
            )
        except PreviewError:
            raise
        except SystemExit as exc:
            if exc.code in (None, 0):
                raise ProgramError(
                    f"error: program {_shown(project)} called sys.exit() before finishing",
                    "",
                    exc,
                ) from exc
            raise program_error(project, exc) from exc
        except Exception as exc:  # noqa: BLE001 - any failure of user code is reported as such
            raise program_error(project, exc) from exc


def program_error(project: Project, exc: BaseException) -> ProgramError:
    """A ``ProgramError`` for ``exc``: the user's frames, then a one-line summary.

    When no frame of the user's is involved (the error surfaced inside Pulumi's machinery,
    resolving a resource's outputs or an invoke's result), the summary says which resource,
    output or invoke Pulumi was handling. A ``pulumi.RunError`` (invalid or missing config,
    among others) is reported by its message alone, as the Pulumi CLI reports it: the program
    raised it to say exactly what is wrong, so a traceback would only bury that.
    """
    cause = _original(exc)
    if isinstance(cause, pulumi.RunError) and str(cause).strip():
        return ProgramError(f"error: {str(cause).strip()}", "", exc)
    message = str(cause).strip().splitlines()
    detail = f": {message[0]}" if message else ""
    summary = f"error: program {_shown(project)} raised {type(cause).__name__}{detail}"
    traceback_text = format_user_traceback(exc)
    context = "" if traceback_text.startswith("Traceback") else pulumi_context(exc)
    if context:
        summary += f" ({context})"
    return ProgramError(summary, traceback_text, exc)


def _original(exc: BaseException) -> BaseException:
    # The SDK re-raises an error met while preparing a resource's inputs (an apply callback
    # that raised) as "While processing input: ... has risen: <error>", chained to it: the
    # summary names the error the user's code raised, not the wrapper.
    while isinstance(exc.__cause__, type(exc)) and str(exc).startswith("While processing "):
        exc = exc.__cause__
    return exc


def format_user_traceback(exc: BaseException) -> str:
    """Format ``exc`` like Python does, minus frames of Pulumi, the engine, runpy, asyncio.

    The SDK re-raises a failure of an ``apply`` callback as a copy chained to the original
    (``raise exn from cause``); the frames of every exception in that chain are shown, the
    original's first, so the user's callback is never lost.
    """
    frames: list[traceback.FrameSummary] = []
    seen: set[tuple[str, int | None, str]] = set()
    for link in reversed(_chain(exc)):
        for frame in traceback.extract_tb(_traceback(link)):
            key = (frame.filename, frame.lineno, frame.name)
            if _is_user_frame(frame.filename) and key not in seen:
                seen.add(key)
                frames.append(frame)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def pulumi_context(exc: BaseException) -> str:
    """Which resource, output or invoke Pulumi's code was handling when ``exc`` was raised."""
    found = ""
    for link in _chain(exc):
        for frame, _ in traceback.walk_tb(_traceback(link)):
            if _is_user_frame(frame.f_code.co_filename):
                continue
            described = _frame_context(frame.f_locals)
            if described:
                found = described  # the innermost frame that knows says it best
        if found:
            return found
    return ""


def _frame_context(local_vars: dict[str, object]) -> str:
    resource = next(
        (v for k in ("res", "resource") if isinstance(v := local_vars.get(k), pulumi.Resource)),
        None,
    )
    token = local_vars.get("tok")
    key = local_vars.get("key")
    output = f"output {key!r} of " if isinstance(key, str) and resource is not None else ""
    if resource is not None:
        return f"while resolving the {output}{describe_resource(resource)}"
    if isinstance(token, str) and token.count(":") == 2:
        return f"while handling the result of invoke {token}"
    return ""


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def _traceback(exc: BaseException) -> TracebackType | None:
    return exc.__traceback__


def _is_user_frame(filename: str) -> bool:
    path = Path(filename)
    if filename.startswith("<"):
        # ``<frozen runpy>`` and friends: never the user's.
        return False
    try:
        resolved = path.resolve()
    except OSError:
        return True
    if resolved == _CLI_FILE or _ENGINE_DIR in resolved.parents:
        return False
    parts = resolved.parts
    if "site-packages" in parts or "dist-packages" in parts:
        index = max(i for i, p in enumerate(parts) if p in ("site-packages", "dist-packages"))
        top = parts[index + 1] if index + 1 < len(parts) else ""
        return not top.startswith(_THIRD_PARTY_MACHINERY)
    stdlib = Path(os.__file__).resolve().parent
    if stdlib in resolved.parents or resolved.parent == stdlib:
        relative = resolved.relative_to(stdlib).parts
        return not (relative[0] in _STDLIB_MACHINERY or relative[0] in _STDLIB_PACKAGES)
    return True


def _shown(project: Project) -> str:
    return project.display_path(project.entry_point)


@contextmanager
def _program_environment(project: Project, variables: dict[str, str]) -> Iterator[None]:
    search_dir = project.entry_point.parent
    saved_path = list(sys.path)
    saved_argv = list(sys.argv)
    saved_cwd = os.getcwd()
    saved_variables = {name: os.environ.get(name) for name in variables}
    before = set(sys.modules)
    sys.path.insert(0, str(search_dir))
    sys.argv = [str(project.entry_point)]
    os.chdir(project.working_directory)
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved_variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        sys.path[:] = saved_path
        _forget_modules(search_dir, set(sys.modules) - before)


def _forget_modules(directory: Path, names: set[str]) -> None:
    # Only modules this run imported from the program's own directory: a library such as
    # platformkit may live below it (a project at a repository root) and must stay loaded.
    for name in names:
        module = sys.modules.get(name)
        filename = getattr(module, "__file__", None)
        if not filename:
            continue
        try:
            resolved = Path(filename).resolve()
        except OSError:
            continue
        if (
            directory in resolved.parents
            and _ENGINE_DIR.parent not in resolved.parents
            and "site-packages" not in resolved.parts
        ):
            del sys.modules[name]
