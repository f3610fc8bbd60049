"""The order days ``order_days`` needs of a batch's customers, read by index probes: a bounded
number of rows per order of the batch, however long each customer's history.

For each ``(customer, day)`` of the batch: the customer's order day before it, the day itself
and the two after it; for each customer: their first order day (each row with its
``orders``). That is a part ``R`` of each customer's order-day sequence, enough for the
order-day deltas computed over it (``order_days.order_day_rows``) to be exact:

- every batch day comes with its neighbours, so each ``customer_gaps`` link that the batch
  adds or removes is between rows of ``R``; a link between two rows of ``R`` that are not
  neighbours in the full sequence (days not read lie between) joins two days the batch did
  not touch, so it appears before and after the batch alike and cancels;
- the first day of ``R`` is the customer's first, and that of ``R`` without the days the
  batch added is their first before it (the days it added at the start are batch days, each
  read with the two after it), so ``lone_first_orders`` sees the true first day and its
  orders on both sides. The day that follows it in ``R`` is the true next one whenever the
  row changes (a batch day next to the first comes with its neighbours); when it does not,
  the same row comes out on both sides and cancels.

Each probe is an index range read on ``customer_days (customer_id, day)`` with ``LIMIT``.
PostgreSQL runs them as one ``LATERAL`` join over the batch's pairs passed as arrays (one
statement text, prepared once, pipelined with the cohort reads). MariaDB has no ``LATERAL``
and plans a correlated subquery as a scan of the customer's whole index range, so elsewhere
each probe is a branch of a ``UNION ALL`` with its own constant parameters (a range read of a
row or three), chunked under SQLite's 500-term limit on compound selects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Date,
    Engine,
    Select,
    String,
    bindparam,
    cast,
    column,
    func,
    select,
    true,
    union_all,
)

from ..db import DriverStatement
from ..models import CustomerDay

_DAYS = CustomerDay.__table__
# Under SQLite's SQLITE_MAX_COMPOUND_SELECT (500); MySQL's placeholder limit is far above.
_BRANCHES_PER_STATEMENT = 400
# Rows read from a batch day on: the day itself and the two after it (when the batch added the
# day at the start, the first of those after it is the first day before the batch, and the
# second is that day's neighbour).
_FROM_DAY_ON = 3


def _probes(
    customer: ColumnElement[Any], day: ColumnElement[Any] | None
) -> tuple[Select[Any], ...]:
    """The probes of one batch day (``day``), or of one customer's first day (``day`` None)."""
    x = _DAYS.alias("x")
    near = select(x.c.customer_id, x.c.day, x.c.orders).where(x.c.customer_id == customer)
    if day is None:
        return (near.order_by(x.c.day).limit(1),)
    return (
        near.where(x.c.day < day).order_by(x.c.day.desc()).limit(1),
        near.where(x.c.day >= day).order_by(x.c.day).limit(_FROM_DAY_ON),
    )


@functools.lru_cache(maxsize=1)
def _pg_probe() -> Select[Any]:
    """Every probe of the pairs ``pair_ids[i], pair_days[i]`` (array literals) in one
    statement. The customer's first day is read for each of their pairs: a repeated index
    read costs less than a second statement."""
    pairs = (
        func.unnest(
            cast(bindparam("pair_ids", type_=String), ARRAY(_DAYS.c.customer_id.type)),
            cast(bindparam("pair_days", type_=String), ARRAY(Date())),
        )
        .table_valued(column("customer_id", String), column("day", Date))
        .render_derived("p")
    )
    near = union_all(
        *_probes(pairs.c.customer_id, pairs.c.day), *_probes(pairs.c.customer_id, None)
    )
    rows = near.subquery().lateral("w")
    return (
        select(rows.c.customer_id, rows.c.day, rows.c.orders).select_from(pairs).join(rows, true())
    )


@functools.lru_cache(maxsize=8)
def pg_probe(engine: Engine) -> DriverStatement:
    """The PostgreSQL probe compiled for ``engine``'s driver (parameters ``pair_ids``,
    ``pair_days``)."""
    return DriverStatement(engine, _pg_probe())


class _Branch:
    """One probe as a ``UNION ALL`` branch: its SQL with positional placeholders (the
    driver's: ``?`` or ``%s``), the order of its parameters, and the values of its constant
    ones (the ``LIMIT``), worked out once: a batch sends hundreds of branches."""

    def __init__(self, engine: Engine, probe: Select[Any]) -> None:
        self.statement = DriverStatement(engine, probe)  # decodes its rows
        compiled = probe.compile(dialect=engine.dialect)
        sql = compiled.string
        names: list[str] = re.findall(_NAMED, sql)
        if names:  # PyMySQL's pyformat: named in the text, sent positionally here
            sql = re.sub(_NAMED, "%s", sql)
        else:
            names = list(compiled.positiontup or ())
        self._names = names
        self._constants = {
            name: value for name, value in compiled.construct_params().items() if value is not None
        }
        # SQLite takes ORDER BY/LIMIT only in a subquery of a compound select; MySQL in
        # parentheses.
        self.sql = f"SELECT * FROM ({sql})" if engine.dialect.name == "sqlite" else f"({sql})"

    def parameters(self, values: dict[str, Any]) -> list[Any]:
        constants = self._constants
        return [values[name] if name in values else constants[name] for name in self._names]


_NAMED = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=8)
def _branches(engine: Engine) -> tuple[_Branch, _Branch, _Branch]:
    """The three probes (before a day, from a day on, a customer's first day) as locking reads
    for ``engine``'s driver: under MySQL's REPEATABLE READ a plain read would read the
    transaction's snapshot, which may predate the commits of the customer's last writer."""
    # Given per branch (``None`` here only marks them apart from the constant LIMITs).
    customer = bindparam("customer_id", None, type_=String)
    day = bindparam("day", None, type_=Date)
    before, from_day = _probes(customer, day)
    (start,) = _probes(customer, None)
    locking = engine.dialect.name == "mysql"
    return tuple(  # type: ignore[return-value]
        _Branch(engine, probe.with_for_update() if locking else probe)
        for probe in (before, from_day, start)
    )


def read_neighbour_days(connection: Connection, pairs: list[tuple[str, date]]) -> list[Any]:
    """Rows ``(customer_id, day, orders)`` of every probe of ``pairs`` (``(customer_id,
    day)`` of a batch, this batch's orders already written), on MySQL/MariaDB and SQLite;
    a row may come more than once."""
    assert connection.dialect.name != "postgresql", "PostgreSQL reads them with pg_probe"
    before, from_day, start = _branches(connection.engine)
    decode = before.statement.row  # every branch has the same columns and types
    sqlite = connection.dialect.name == "sqlite"
    encode = date.isoformat if sqlite else (lambda day: day)

    def branches() -> Iterator[tuple[_Branch, dict[str, Any]]]:
        for customer_id, day in pairs:
            params = {"customer_id": customer_id, "day": encode(day)}
            yield before, params
            yield from_day, params
        for customer_id in sorted({customer_id for customer_id, _ in pairs}):
            yield start, {"customer_id": customer_id}

    todo = list(branches())
    rows: list[Any] = []
    for i in range(0, len(todo), _BRANCHES_PER_STATEMENT):
        chunk = todo[i : i + _BRANCHES_PER_STATEMENT]
        sql = " UNION ALL ".join(branch.sql for branch, _ in chunk)
        flat = [value for branch, params in chunk for value in branch.parameters(params)]
        rows.extend(decode(raw) for raw in connection.exec_driver_sql(sql, tuple(flat)))
    return rows
