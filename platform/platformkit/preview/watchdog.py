"""Bound a program's run: fail with what it was waiting on instead of hanging forever.

A program can await something that never comes (an output nothing resolves, a look-up the
engine never answers). ``deadline`` arms a ``SIGALRM`` timer on the main thread; when it fires,
``ProgramTimeout`` is raised wherever the main thread is (in the program, in the event loop's
``select``) and raised again every second until the run has unwound, because the SDK catches
the first one and goes on waiting for its outstanding RPCs. The message lists what was still
pending: resource registrations and invokes in flight in the mock monitor, and the resources
and invokes the event loop's unfinished tasks were working on.

Off the main thread (or where ``SIGALRM`` does not exist) no timer can interrupt the run, so
``deadline`` does nothing there.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pulumi

from platformkit.preview.errors import PreviewError

DEFAULT_TIMEOUT = 120.0
"""Seconds a program may run before it is reported as waiting forever."""


class ProgramTimeout(PreviewError):
    """The program did not finish in time; ``pending`` says what it was waiting on."""

    def __init__(self, seconds: float, pending: list[str]) -> None:
        self.seconds = seconds
        self.pending = pending
        listing = "".join(f"\n  - {item}" for item in pending) or "\n  - (nothing in flight)"
        super().__init__(
            f"error: the program did not finish within {seconds:g} s; it was still waiting on:"
            f"{listing}\n(raise the bound with --timeout SECONDS if the program is just slow)"
        )


@contextmanager
def deadline(seconds: float | None, describe: Callable[[], list[str]]) -> Iterator[None]:
    """Raise ``ProgramTimeout`` in the main thread if the body runs longer than ``seconds``."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert seconds is not None
    fired: list[ProgramTimeout] = []

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if not fired:
            fired.append(ProgramTimeout(seconds, describe()))
        raise fired[0]

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        raise fired[0]


def pending_tasks(loop: asyncio.AbstractEventLoop) -> list[str]:
    """What the unfinished tasks of ``loop`` are working on: resources and invokes, deduped."""
    found: dict[str, None] = {}
    for task in asyncio.all_tasks(loop):
        coroutine: Any = task.get_coro()
        while coroutine is not None:
            frame = getattr(coroutine, "cr_frame", None)
            if frame is not None:
                for item in _described(frame.f_locals):
                    found.setdefault(item, None)
            coroutine = getattr(coroutine, "cr_await", None)
    return list(found)


def _described(local_vars: dict[str, Any]) -> list[str]:
    items = []
    for key in ("res", "resource", "self"):
        value = local_vars.get(key)
        if isinstance(value, pulumi.Resource):
            items.append(describe_resource(value))
    token = local_vars.get("tok")
    if isinstance(token, str) and ":" in token:
        items.append(f"invoke {token}")
    return items


def describe_resource(resource: pulumi.Resource) -> str:
    """``resource aws:iam/role:Role 'r'``."""
    return f"resource {getattr(resource, '_type', '?')} {getattr(resource, '_name', '?')!r}"
