"""Argument validation shared by the components: one reader, one error shape, shared tables.

Every component reads its ``*Args`` through an ``ArgumentReader``: it rejects keys the
component does not declare (nested ones too, ``nested``), applies defaults, checks each
value's type (``string``, ``strings``, ``mapping``, ``number``, ``boolean``...) and checks it
against a constraint (``IntRange``, ``OneOf``). Constraints are plain values, so a range or a
table is defined once, next to the component that owns it, and the stack layer
(``stacks/analytics_settings.py``) imports the same value to check its configuration keys;
each reader words its own errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

R = TypeVar("R")

Accepts = type | tuple[type, ...] | Callable[[Any], bool]
"""What ``ArgumentReader.required`` accepts: a type (or several), or a predicate."""


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
    what is accepted, e.g. ``Network 'core': az_count=1 is invalid; expected an integer
    from 2 to 6.``
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
    otherwise be ignored silently and its default used). Each typed read refuses a value of
    another type rather than coerce it (``"200"`` is no integer, ``True`` no number, a bare
    string no list of strings). Every error is an
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

    def _given(self, field: str, default: Any) -> Any:
        """The value of ``field``; ``default`` when it is absent or ``None`` (a caller passing an
        optional setting of its own through)."""
        value = self.args.get(field)
        return default if value is None else value

    def required(self, field: str, expected: str, accepts: Accepts) -> Any:
        """The value of a field without default, when ``accepts`` (a type, a tuple of types
        or a predicate) accepts it; missing or not accepted, it is an error saying
        ``expected``."""
        value = self.args.get(field)
        if field not in self.args or not _accepted(value, accepts):
            raise self.fail(field, value, expected)
        return value

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

    def string(self, field: str, default: str | None = None) -> str | None:
        """A plain string (``default``, which may be ``None``, when absent or ``None``)."""
        value = self._given(field, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(field, value, "a string")
        return value

    def string_input(self, field: str) -> pulumi.Input[str] | None:
        """A string or an output (an ARN from another resource); ``None`` when absent."""
        value = self.args.get(field)
        if value is not None and not isinstance(value, str | pulumi.Output):
            raise self.fail(field, value, "a string or an output")
        return value

    def strings(
        self, field: str, default: Iterable[str] = (), *, outputs: bool = False
    ) -> list[Any]:
        """A list of strings (``default`` when absent or ``None``; ``outputs`` admits outputs
        among them).

        A bare string is refused, not split into its characters."""
        value = self._given(field, default)
        return self.items(field, value, (str, pulumi.Output) if outputs else str)

    def items(self, field: str, value: object, kind: type | tuple[type, ...]) -> list[Any]:
        """``value`` (of ``field``) as a list when it is a list or tuple of ``kind`` items."""
        if not isinstance(value, list | tuple):
            raise self.fail(field, value, "a list of " + _kind(kind, plural=True))
        for index, item in enumerate(value):
            if not isinstance(item, kind):
                raise self.fail(f"{field}[{index}]", item, _kind(kind))
        return list(value)

    def mapping(
        self,
        field: str,
        default: Mapping[str, Any] | None = None,
        *,
        values: type | tuple[type, ...] = object,
    ) -> dict[str, Any]:
        """A mapping of string keys to ``values`` items (``default``, else empty, when absent
        or ``None``)."""
        value = self._given(field, {} if default is None else default)
        expected = "a mapping of names"
        if values is not object:
            expected += " to " + _kind(values, plural=True)
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise self.fail(field, value, expected)
        for key, item in value.items():
            if not isinstance(item, values):
                raise self.fail(f"{field}[{key!r}]", item, _kind(values))
        return dict(value)

    def number(
        self,
        field: str,
        default: float,
        low: float,
        high: float | None = None,
        *,
        above: bool = False,
        kind: str = "a number",
    ) -> float:
        """An integer or a float (never a boolean) from ``low`` (excluded when ``above``) to
        ``high`` (``None``: no upper bound), returned as a float."""
        value = self.args.get(field, default)
        expected = f"{kind} {'above' if above else 'from'} {low:g}"
        if high is not None:
            expected += f" {'and at most' if above else 'to'} {high:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, value, expected)
        number = float(value)
        if number < low or (above and number == low) or (high is not None and number > high):
            raise self.fail(field, number, expected)
        return number

    def nested(self, field: str, value: object, declared: type) -> Mapping[str, Any]:
        """``value`` (at path ``field``) when it is a mapping whose keys all are fields of
        the TypedDict ``declared``: a misspelt nested key is refused as a top-level one is."""
        known = list(declared.__annotations__)
        if not isinstance(value, Mapping):
            raise self.fail(field, value, "a mapping of " + ", ".join(known))
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise self.fail(f"{field}.keys", unknown, "only " + ", ".join(known))
        return value


_KIND_NAMES: dict[type, tuple[str, str]] = {
    str: ("a string", "strings"),
    pulumi.Output: ("an output", "outputs"),
    Mapping: ("a mapping", "mappings"),
}


def _kind(kind: type | tuple[type, ...], *, plural: bool = False) -> str:
    """``kind`` in words for an error: ``a string or an output``, ``strings``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_KIND_NAMES.get(k, (k.__name__, k.__name__))[plural] for k in kinds)


def _accepted(value: object, accepts: Accepts) -> bool:
    if isinstance(accepts, type | tuple):
        return isinstance(value, accepts)
    return accepts(value)


def is_ref(ref_type: type) -> Callable[[Any], bool]:
    """A predicate for ``ArgumentReader.required``: a ``ref_type``, or anything whose ``ref``
    is one (``Network`` for ``NetworkRef``)."""
    return lambda value: (
        isinstance(value, ref_type) or isinstance(getattr(value, "ref", None), ref_type)
    )


def resolve_ref(
    value: object,
    ref_type: type[R],
    expected: str,
    read: ArgumentReader | None = None,
    field: str = "",
) -> R:
    """``value`` itself when a ``ref_type``, else its ``ref`` (a ``Network``'s ``NetworkRef``...).

    Anything else is an error saying ``expected``: raised through ``read`` (an
    ``InvalidArgument`` naming the instance and ``field``) when given, else a ``TypeError``.
    """
    if isinstance(value, ref_type):
        return value
    ref = getattr(value, "ref", None)
    if isinstance(ref, ref_type):
        return ref
    if read is not None:
        raise read.fail(field, value, expected)
    raise TypeError(f"{field or ref_type.__name__}={value!r} is invalid; expected {expected}.")
