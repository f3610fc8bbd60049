"""Exact money: decimals in Python, scaled integers in the database, strings in JSON.

SQLite has no exact decimal type (NUMERIC values become floats), so amounts are stored as
integers in ten-thousandths of the currency unit on every backend. Sums stay exact and
``x = x + excluded.x`` upserts never round.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Dialect, type_coerce
from sqlalchemy.types import TypeDecorator

SCALE = Decimal(10_000)
ZERO = Decimal(0)


class Money(TypeDecorator[Decimal]):
    """A ``Decimal`` with at most four decimal places stored as a ``BIGINT``."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if type(value) is int:
            return value * 10_000
        scaled = (value if type(value) is Decimal else Decimal(value)) * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than four decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) / SCALE


def quantize(value: Decimal, exponent: int) -> Decimal:
    """Round ``value`` to ``exponent`` decimal places, half to even (banker's rounding)."""
    return value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)


def fmt(value: Decimal | None, exponent: int) -> str:
    """Format money for JSON: a plain decimal string with the currency's decimal places."""
    return f"{quantize(value if value is not None else ZERO, exponent):f}"


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: int = 4) -> str | None:
    """``numerator / denominator`` as a decimal string, or ``None`` when the denominator is 0."""
    if not denominator:
        return None
    return f"{quantize(Decimal(numerator) / Decimal(denominator), places):f}"


def as_money(expr: ColumnElement[Any]) -> ColumnElement[Decimal]:
    """Arithmetic on ``Money`` columns is typed as the integer underneath; re-attach ``Money``."""
    return type_coerce(expr, Money())
