"""Argument validation shared by the components: one reader, one error shape, shared tables.

Every component reads its ``*Args`` through an ``ArgumentReader``: it rejects keys the
component does not declare, applies defaults and checks each value against a constraint
(``IntRange``, ``OneOf``). Constraints are plain values, so a range or a table is defined
once, next to the component that owns it, and the stack layer (``stacks/analytics_settings.py``)
imports the same value to check its configuration keys; each reader words its own errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IntRange:
    """The integers from ``low`` to ``high``, both included."""

    low: int
    high: int

    def accepts(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    @property
    def expected(self) -> str:
        return f"an integer from {self.low} to {self.high}"


@dataclass(frozen=True)
class OneOf:
    """A closed set of values; ``label`` (optional) says what they are in an error."""

    values: tuple[Any, ...]
    label: str = ""
    ordered: bool = False
    """List the values in their given order in errors (numbers); else sorted (names)."""

    def accepts(self, value: object) -> bool:
        # ``True == 1``: a boolean is never one of a table of numbers or names.
        return not isinstance(value, bool) and value in self.values

    @property
    def listed(self) -> str:
        shown = self.values if self.ordered else sorted(self.values)
        return ", ".join(map(str, shown))

    @property
    def expected(self) -> str:
        return f"one of {self.label}: {self.listed}" if self.label else f"one of {self.listed}"


CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The retention periods CloudWatch Logs accepts (never-expire is deliberately absent)."""

LOG_RETENTION = OneOf(
    CLOUDWATCH_RETENTION_DAYS, label="CloudWatch's retention periods", ordered=True
)
"""Every log group retention argument and stack setting is checked against this."""


class ArgumentReader:
    """Reads one component instance's arguments: defaults, checks, errors naming the field.

    Construction rejects keys ``accepted`` does not list (a misspelt optional key would
    otherwise be ignored silently and its default used). Every error is an
    ``InvalidArgument`` naming the component instance, the field, the value and what is
    expected. Settings dataclasses are built from the values it returns.
    """

    def __init__(
        self, component: str, name: str, args: Mapping[str, Any], accepted: Iterable[str]
    ) -> None:
        self.component = component
        self.name = name
        self.args = args
        known = list(accepted)
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise self.fail("args", unknown, "only " + ", ".join(known))

    def fail(self, field: str, value: object, expected: str) -> InvalidArgument:
        """The error for ``field=value``; the caller raises it."""
        return invalid(self.component, self.name, field, value, expected)

    def has(self, field: str) -> bool:
        return field in self.args

    def get(self, field: str, default: Any = None) -> Any:
        """The raw value of ``field`` (``default`` when absent), for checks of its own."""
        return self.args.get(field, default)

    def required(self, field: str, expected: str) -> Any:
        """The value of a field without default; missing, it is an error saying ``expected``."""
        if field not in self.args:
            raise self.fail(field, None, expected)
        return self.args[field]

    def check(self, field: str, value: Any, allowed: IntRange | OneOf) -> Any:
        """``value`` (of ``field``, or a path into it) when ``allowed`` accepts it."""
        if not allowed.accepts(value):
            raise self.fail(field, value, allowed.expected)
        return value

    def integer(self, field: str, default: int, allowed: IntRange) -> int:
        value: int = self.check(field, self.args.get(field, default), allowed)
        return value

    def choice(self, field: str, default: str, allowed: OneOf) -> str:
        value: str = self.check(field, self.args.get(field, default), allowed)
        return value

    def retention(self, field: str, default: int) -> int:
        """A CloudWatch Logs retention in days (``LOG_RETENTION``)."""
        value: int = self.check(field, self.args.get(field, default), LOG_RETENTION)
        return value

    def boolean(self, field: str, default: bool) -> bool:
        value = self.args.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, value, "True or False")
        return value
