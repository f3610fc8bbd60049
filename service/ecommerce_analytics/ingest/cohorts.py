"""The cohort rollup of a batch: the locking reads of what ``customer_months`` and
``customer_days`` hold for the batch's customers, and the ``customer_months`` rows and
``cohort_months`` deltas computed from them, including customers whose first order moved to an
earlier month. The order days around the batch's (``day_probes``) are read with them, for
``order_days``."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Select,
    String,
    any_,
    bindparam,
    cast,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..db import DriverStatement
from ..models import Customer, CustomerMonth
from ..upsert import Encoders, Row, pg_array_literal
from .day_probes import pg_probe, read_neighbour_days
from .value_counts import Stored

_IN_CHUNK = 500
_CUSTOMERS = Customer.__table__
_MONTHS = CustomerMonth.__table__


def _member(column: ColumnElement[Any], name: str, pg: bool) -> ColumnElement[bool]:
    """``column IN :name`` (an expanding parameter); on PostgreSQL ``column = ANY(:name)`` with
    the array as one text parameter (``_member_values``): the same statement text whatever the
    number of values, so the server prepares it once instead of planning each IN list."""
    if pg:
        return column == any_(cast(bindparam(name, type_=String), ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def _member_values(values: list[Any], pg: bool) -> Any:
    return pg_array_literal(values) if pg else values


_PG_PLANNER_SWITCHES = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


def key_lookups_only(session: Session, on: bool) -> None:
    """PostgreSQL: plan the cohort reads as index lookups (``on``), then back to the defaults.

    These reads fetch rows by a list of keys: index lookups are always the right plan.
    PostgreSQL without statistics (autovacuum off or behind, a freshly loaded table) estimates
    the key list as a large share of the table and hash-joins a sequential scan of
    ``customer_months`` instead, so every batch reads the whole table and ingest slows down as
    the data grows (seen at 75k-800k orders: 0.6-24 s per read). Disabled for these reads only
    (``SET LOCAL``: this transaction), one statement per setting so they can be pipelined."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for name in _PG_PLANNER_SWITCHES:
        connection.exec_driver_sql(f"SET LOCAL {name} = off" if on else f"RESET {name}")


@functools.lru_cache(maxsize=4)
def _cohort_reads(pg: bool) -> tuple[Select[Any], Select[Any]]:
    """The two locking reads of ``send_cohort_reads``, built once (parameters ``ids``,
    ``months``)."""
    first = (
        select(
            _CUSTOMERS.c.customer_id,
            _CUSTOMERS.c.first_order_month,
            # The stored integer, for ``value_counts``.
            type_coerce(_CUSTOMERS.c.net_sales, BigInteger).label("net_sales"),
            _CUSTOMERS.c.orders,
            _CUSTOMERS.c.last_order_date,
        )
        .where(_member(_CUSTOMERS.c.customer_id, "ids", pg))
        .order_by(_CUSTOMERS.c.customer_id)
        .with_for_update()
    )
    # Only the rows this batch adds to, and those to move to an earlier cohort (tagged with
    # another cohort than the customer's first order month, now lowered by the upsert).
    existing = (
        select(
            _MONTHS.c.customer_id,
            _MONTHS.c.month_start,
            _MONTHS.c.cohort_month,
            # The stored integer: exact sums without Decimal.
            type_coerce(_MONTHS.c.order_value, BigInteger).label("order_value"),
        )
        .join(_CUSTOMERS, _CUSTOMERS.c.customer_id == _MONTHS.c.customer_id)
        .where(
            _member(_MONTHS.c.customer_id, "ids", pg),
            # Implied by the join, but the planners do not carry IN/ANY across it: without it
            # PostgreSQL may hash-join against a scan of every customer.
            _member(_CUSTOMERS.c.customer_id, "ids", pg),
            _member(_MONTHS.c.month_start, "months", pg)
            | (_MONTHS.c.cohort_month != _CUSTOMERS.c.first_order_month),
        )
        .order_by(_MONTHS.c.customer_id, _MONTHS.c.month_start)
        .with_for_update()
    )
    return first, existing


@dataclass
class _CohortState:
    """What ``customer_months`` holds for a batch's customers, read under their row locks."""

    # customer_id -> first order month (after this batch's ``customers`` upsert)
    first: dict[str, date]
    # customer_id -> (net sales, orders, last order day) after this batch's upsert, for
    # ``value_counts``
    values: dict[str, Stored]
    # (customer_id, month_start, cohort_month, order_value) of the stored rows this batch adds
    # to, and of those tagged with another cohort than the customer's first order month
    existing: list[Any]
    # (customer_id, day, orders) of the batch's customers' order days around this batch's
    # (``day_probes``), this batch's orders included
    days: list[Any]

    def add_customers(self, rows: Iterable[Any]) -> None:
        for customer_id, month, net, orders, last_day in rows:
            self.first[customer_id] = month
            self.values[customer_id] = Stored(int(net), int(orders), last_day)


def send_cohort_reads(
    session: Session,
    activity: dict[tuple[str, date], list[int]],
    days: list[tuple[str, date]],
) -> Callable[[], _CohortState]:
    """Send the locking reads behind the cohort and order-day rollups for this batch's
    customers (``activity`` per customer and month, ``days`` the batch's ``(customer_id,
    day)``); the returned function gives their rows. On PostgreSQL they go on driver cursors
    (compiled once, ``DriverStatement``), so they can travel in the same pipeline as the writes
    before them (``pipelined``): call the function after the block. Elsewhere they run at once.

    Runs after the ``customers`` upsert: this transaction then holds the row lock of every
    customer in the batch (PostgreSQL, MySQL; SQLite holds the database write lock), and only a
    holder of that lock writes the customer's ``customer_months`` and ``customer_days`` rows. So
    the customer's first order month, months and days read here (locking reads: the latest
    committed rows, also under MySQL's REPEATABLE READ) are settled, and moving the customer's
    contributions from the old cohort to the new one cannot race with another writer of the same
    customer. On PostgreSQL the caller brackets this with ``key_lookups_only``.
    """
    state = _CohortState({}, {}, [], [])
    if not activity:
        return lambda: state
    connection = session.connection()
    pg = connection.dialect.name == "postgresql"
    ids = sorted({customer_id for customer_id, _ in activity})
    months = _member_values(sorted({month for _, month in activity}), pg)
    chunks = [
        {"ids": _member_values(ids[i : i + _IN_CHUNK], pg), "months": months}
        for i in range(0, len(ids), _IN_CHUNK)
    ]
    pairs = sorted(days)
    if not pg:
        for params in chunks:
            first, existing = (connection.execute(read, params) for read in _cohort_reads(pg))
            state.add_customers(first)
            state.existing.extend(existing)
        state.days = read_neighbour_days(connection, pairs)
        return lambda: state
    read_first, read_existing = _driver_reads(connection.engine)
    probe = pg_probe(connection.engine)
    driver = connection.connection.driver_connection
    sent = []

    def send(statement: DriverStatement, params: dict[str, Any]) -> None:
        cursor = driver.cursor()  # type: ignore[union-attr]
        cursor.execute(statement.sql, statement.parameters(params))
        sent.append((statement, cursor))

    for params in chunks:
        send(read_first, params)
        send(read_existing, params)
    for i in range(0, len(pairs), _IN_CHUNK):
        chunk = pairs[i : i + _IN_CHUNK]
        send(
            probe,
            {
                "pair_ids": pg_array_literal([cid for cid, _ in chunk]),
                "pair_days": pg_array_literal([day.isoformat() for _, day in chunk]),
            },
        )

    def rows() -> _CohortState:
        for statement, cursor in sent:
            found = [statement.row(raw) for raw in cursor.fetchall()]
            cursor.close()
            if statement is read_first:
                state.add_customers(found)
            elif statement is read_existing:
                state.existing.extend(found)
            else:
                state.days.extend(found)
        return state

    return rows


@functools.lru_cache(maxsize=8)
def _driver_reads(engine: Engine) -> tuple[DriverStatement, DriverStatement]:
    """The PostgreSQL cohort reads compiled for ``engine``'s driver."""
    first, existing = _cohort_reads(True)
    return DriverStatement(engine, first), DriverStatement(engine, existing)


def cohort_rows(
    activity: dict[tuple[str, date], list[int]], state: _CohortState, enc: Encoders
) -> tuple[list[Row], list[Row]]:
    """This batch's per-customer-month activity (``[orders, order_value]``) as encoded
    ``customer_months`` rows to add (``customer_id, month_start, cohort_month, orders,
    order_value``) and ``cohort_months`` deltas (``cohort_month, month_start, customers,
    revenue``), exact, including customers whose first order moved to an earlier month."""
    first = state.first
    # (cohort, month) -> [distinct customers delta, revenue delta]
    deltas: dict[tuple[date, date], list[int]] = defaultdict(lambda: [0, 0])
    # (customer, month) -> [cohort, orders, order_value]
    rows: dict[tuple[str, date], list[Any]] = {}

    def row(customer_id: str, month: date) -> list[Any]:
        return rows.setdefault((customer_id, month), [first[customer_id], 0, 0])

    stored = set()
    for customer_id, month, cohort, value in state.existing:
        stored.add((customer_id, month))
        cohort_now = first[customer_id]
        if cohort != cohort_now:
            # An older order arrived: the customer now belongs to an earlier cohort.
            old, new = deltas[(cohort, month)], deltas[(cohort_now, month)]
            old[0] -= 1
            old[1] -= value
            new[0] += 1
            new[1] += value
            row(customer_id, month)  # re-tagged by the upsert (cohort_month only decreases)
    for (customer_id, month), (orders, value) in activity.items():
        d = deltas[(first[customer_id], month)]
        if (customer_id, month) not in stored:
            d[0] += 1
        d[1] += value
        r = row(customer_id, month)
        r[1] += orders
        r[2] += value
    day = enc.date
    return (
        [(cid, day(m), day(cohort), n, v) for (cid, m), (cohort, n, v) in rows.items()],
        [(day(c), day(m), n, v) for (c, m), (n, v) in deltas.items() if n or v],
    )
