"""Argument validation shared by the components: one error shape, naming field and value."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pulumi


class InvalidArgument(pulumi.RunError, ValueError):
    """A component argument outside what the component accepts; ``field`` is its path
    (``network.public_subnet_ids``).

    A ``ValueError`` to callers. Also a ``pulumi.RunError``, so ``pulumi up`` and
    ``platformkit preview`` print the one-line message alone, as they do for invalid config:
    it names the instance, the field and the value, which locates the mistake better than a
    traceback through the component's internals. The component provider reports it as an
    input error on ``field``.
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def invalid(component: str, name: str, field: str, value: Any, expected: str) -> InvalidArgument:
    """Build the ``InvalidArgument`` a component raises for a bad argument.

    The message names the component instance, the field and the value received, then says
    what is accepted, e.g. ``Network 'core': az_count=1 is invalid; expected 2 to 6.``
    """
    message = f"{component} {name!r}: {field}={value!r} is invalid; expected {expected}."
    return InvalidArgument(message, field)


def require_range(component: str, name: str, field: str, value: int, low: int, high: int) -> int:
    """Return ``value`` when ``low <= value <= high``; raise ``invalid(...)`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(component, name, field, value, f"an integer from {low} to {high}")
    return value


def require_choice(
    component: str, name: str, field: str, value: str, choices: Collection[str]
) -> str:
    """Return ``value`` when it is one of ``choices``; raise ``invalid(...)`` otherwise."""
    if value not in choices:
        raise invalid(component, name, field, value, "one of " + ", ".join(sorted(choices)))
    return value


CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The retention periods CloudWatch Logs accepts (never-expire is deliberately absent)."""


def require_log_retention(component: str, name: str, field: str, value: int) -> int:
    """Return ``value`` when CloudWatch Logs accepts it as a retention; raise otherwise."""
    if isinstance(value, bool) or value not in CLOUDWATCH_RETENTION_DAYS:
        raise invalid(
            component, name, field, value,
            "one of CloudWatch's retention periods: "
            + ", ".join(str(d) for d in CLOUDWATCH_RETENTION_DAYS),
        )  # fmt: skip
    return value
