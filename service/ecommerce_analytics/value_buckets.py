"""Buckets of customer values, kept counted at write time (``customer_value_counts``), so a
rank among every customer is found from a few thousand bucket counts and one short index
range instead of a sort of every customer.

Two figures are counted per customer:

- ``net``: net lifetime spend (``customers.net_sales``, the stored integer in ten-thousandths),
  in buckets of three significant digits: every value below 1,000 (0.1000) is a bucket of its
  own; above, a bucket spans 1/100 of its decade's lower bound (so 12,345,678 falls in
  [12,300,000, 12,400,000)). About 900 buckets per decade whatever the currency, and at most
  about 1% of the spread of values in one bucket: at 5.5M customers (10M benchmark orders)
  ~2,000 buckets, the fullest holding ~1% of customers. Negative values (a refund cannot
  exceed what was paid, so none are expected) share one bucket, ``NEGATIVE``.
- ``orders``: the number of orders, one bucket per value.

Keys grow with the values they hold (``bucket_of`` is monotonic), so a cumulative sum over
keys in order counts the customers below any bucket. The scheme is part of the schema:
changing it needs a migration that recounts the table (``ingest.rebuild``).

RFM's cells (``rfm_cells``) count customers per coarser *band* of net spend: two significant
digits (``band_of``: a net bucket key divided by ten, so a band is ten whole buckets, or fewer
at a decade's start), about 90 per decade, so that the cells over (last order day, orders,
band) stay in the low hundreds of thousands at millions of customers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, literal, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

NET = "net"
ORDERS = "orders"
FIGURES = (NET, ORDERS)

NEGATIVE = -1
_EXACT_BELOW = 1_000
# Decades up to 10**18 (BIGINT holds up to ~9.2 x 10**18).
_DECADES = range(3, 19)


def bucket_of(value: int) -> int:
    """The ``net`` bucket key of a stored (scaled) integer amount."""
    if value < 0:
        return NEGATIVE
    if value < _EXACT_BELOW:
        return value
    decade = len(str(value)) - 1
    return decade * 1_000 + value // int(10 ** (decade - 2))


def bucket_bounds(key: int) -> tuple[int | None, int]:
    """``[low, high)`` of the stored values in ``net`` bucket ``key`` (``low`` None: no lower
    bound, the negative bucket)."""
    if key == NEGATIVE:
        return None, 0
    if key < _EXACT_BELOW:
        return key, key + 1
    decade, mantissa = divmod(key, 1_000)
    width = 10 ** (decade - 2)
    return mantissa * width, (mantissa + 1) * width


def band_of(value: int) -> int:
    """The net *band* of a stored (scaled) amount: two significant digits (``bucket_of``'s key
    divided by ten; negative values share band ``NEGATIVE``). Monotonic, like the buckets."""
    key = bucket_of(value)
    return NEGATIVE if key == NEGATIVE else key // 10


def band_bounds(band: int) -> tuple[int | None, int]:
    """``[low, high)`` of the stored values in net band ``band`` (``low`` None: the negative
    band)."""
    if band == NEGATIVE:
        return None, 0
    if band < _EXACT_BELOW // 10:
        return band * 10, band * 10 + 10
    decade, mantissa = divmod(band, 100)
    width = 10 ** (decade - 1)
    return mantissa * width, (mantissa + 1) * width


class integer_division(FunctionElement[int]):  # noqa: N801 (an SQL function's name)
    """``a / b`` on integers, truncated: ``/`` on PostgreSQL and SQLite (integer operands),
    ``DIV`` on MySQL/MariaDB, where ``/`` (and SQLAlchemy's ``//``, ``FLOOR(a / b)``) divides
    as DECIMAL, rounded to ``div_precision_increment`` places."""

    type = BigInteger()
    name = "integer_division"
    inherit_cache = True


@compiles(integer_division)
def _divide(element: integer_division, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({a} / {b})"


@compiles(integer_division, "mysql")
@compiles(integer_division, "mariadb")
def _divide_mysql(element: integer_division, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({a} DIV {b})"


def bucket_sql(value: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[int]:
    """``bucket_of`` in SQL, in integer arithmetic on every engine (``integer_division``), for
    set-based recounts."""
    # Compared as the stored integer: a ``Money`` column would scale the bounds.
    value = type_coerce(value, BigInteger())

    def in_decade(decade: int) -> ColumnElement[int]:
        divisor = literal(10 ** (decade - 2), BigInteger())
        return literal(decade * 1_000, BigInteger()) + integer_division(value, divisor)

    whens: list[tuple[ColumnElement[bool], ColumnElement[int]]] = [
        (value < 0, literal(NEGATIVE, BigInteger())),
        (value < _EXACT_BELOW, value),
    ]
    # The last decade is the ``else``: its upper bound, 10**19, is past BIGINT.
    whens += [(value < 10 ** (decade + 1), in_decade(decade)) for decade in _DECADES[:-1]]
    return case(*whens, else_=in_decade(_DECADES[-1]))


def band_sql(value: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[int]:
    """``band_of`` in SQL (``bucket_sql`` divided by ten; SQL's division truncates towards
    zero, so the negative band is its own case)."""
    stored = type_coerce(value, BigInteger())
    return case(
        (stored < 0, literal(NEGATIVE, BigInteger())),
        else_=integer_division(bucket_sql(value), literal(10, BigInteger())),
    )
