"""Ranks among every customer without sorting them: the bucket counts of
``customer_value_counts`` and ``customer_last_days`` (kept exact at write time,
``value_buckets``) say which bucket holds a rank and how many customers come before it; for
net spend, one short range of the ``customers.net_sales`` index then gives the value. A few
thousand bucket rows and a walk of at most one bucket, instead of a sort of every customer
(seconds at 10M orders).

Consistency: a computation reads the buckets and the index in one snapshot on every engine
(``one_snapshot``), so a write committing meanwhile is either wholly in its figures or not at
all (without it, SQLite could count a customer in one read and not the other: a negative
histogram bucket).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, ColumnElement, func, select, type_coerce
from sqlalchemy.orm import Session

from ..models import Customer, CustomerLastDay, CustomerValueCount
from ..value_buckets import bucket_bounds, bucket_of

# A bucket key: a net spend bucket or an order count, or a day.
K = TypeVar("K", int, date)


def one_snapshot(session: Session) -> None:
    """Read the rest of this session's transaction in one snapshot, so the bucket counts and
    the index walks of a computation see the same committed writes: PostgreSQL in REPEATABLE
    READ (its default, READ COMMITTED, takes a snapshot per statement); MySQL/MariaDB in
    REPEATABLE READ explicitly (their default, unless the server was set otherwise); SQLite in
    an explicit ``BEGIN`` (its driver opens no transaction for a ``SELECT``, so each would read
    the latest commit; in WAL mode the snapshot blocks no writer). A no-op once the
    transaction has begun."""
    if session.in_transaction():
        return
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN")
    else:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def stored_net() -> ColumnElement[int]:
    """``customers.net_sales`` as the stored integer (the bucket bounds are integers)."""
    return type_coerce(Customer.net_sales, BigInteger())


@dataclass(frozen=True)
class Buckets(Generic[K]):
    """One figure's non-empty buckets in ascending order and the customers up to each."""

    keys: list[K]
    # customers in buckets[0..i], inclusive
    through: list[int]

    @property
    def customers(self) -> int:
        return self.through[-1] if self.through else 0

    def locate(self, rank: int) -> tuple[K, int]:
        """The bucket holding the ``rank``-th smallest value (1-based) and the rank within it."""
        i = bisect_left(self.through, rank)
        if i == len(self.keys):
            raise ValueError(f"rank {rank} beyond {self.customers} customers")
        return self.keys[i], rank - (self.through[i - 1] if i else 0)

    def customers_below(self, key: K) -> int:
        """Customers in the buckets before bucket ``key``."""
        i = bisect_left(self.keys, key)
        return self.through[i - 1] if i else 0


def _buckets(rows: Sequence[Any]) -> Buckets[Any]:
    return Buckets(keys=[key for key, _ in rows], through=list(accumulate(int(n) for _, n in rows)))


def read_buckets(session: Session, figure: str) -> Buckets[int]:
    """A figure of ``customer_value_counts`` (``value_buckets.NET``, ``ORDERS``)."""
    c = CustomerValueCount
    return _buckets(
        session.execute(
            select(c.bucket, c.customers)
            .where(c.figure == figure, c.customers != 0)
            .order_by(c.bucket)
        ).all()
    )


def read_last_days(session: Session) -> Buckets[date]:
    """Customers per last order day (``customer_last_days``), one bucket per day."""
    d = CustomerLastDay
    return _buckets(
        session.execute(select(d.day, d.customers).where(d.customers != 0).order_by(d.day)).all()
    )


def values_at_ranks(buckets: Buckets[K], ranks: Iterable[int]) -> dict[int, K]:
    """``{rank: value}`` for a figure whose buckets are its values (order counts, days)."""
    return {rank: buckets.locate(rank)[0] for rank in set(ranks)}


def net_at_ranks(
    session: Session, buckets: Buckets[int], ranks: Iterable[int]
) -> dict[int, Decimal]:
    """``{rank: net spend}``: the ``rank``-th smallest net spend among all customers (1-based),
    ``buckets`` being the ``net`` figure's. One index range walk per rank, within its bucket."""
    found: dict[int, Decimal] = {}
    for rank in set(ranks):
        key, within = buckets.locate(rank)
        low, _high = bucket_bounds(key)
        stmt = select(Customer.net_sales)
        if low is not None:
            stmt = stmt.where(stored_net() >= low)
        value = session.scalar(stmt.order_by(stored_net()).offset(within - 1).limit(1))
        if value is None:
            # Read in one snapshot (``one_snapshot``), the counts and the rows agree unless the
            # counts are wrong: say so rather than answer with another rank's value.
            raise RuntimeError(
                f"customer_value_counts disagrees with customers: net bucket {key} holds "
                f"fewer than {within} customers"
            )
        found[rank] = value
    return found


def net_count_below(session: Session, buckets: Buckets[int], bound: int) -> int:
    """Customers whose stored net spend is below ``bound`` (an integer): the buckets wholly
    below it, plus one index range count in the bucket that holds it."""
    key = bucket_of(bound)
    low, _high = bucket_bounds(key)
    net = stored_net()
    within = select(func.count()).select_from(Customer).where(net < bound)
    if low is not None:
        within = within.where(net >= low)
    return buckets.customers_below(key) + int(session.scalar(within) or 0)
