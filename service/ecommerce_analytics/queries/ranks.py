"""Ranks among every customer without sorting them: the bucket counts of
``customer_value_counts`` and ``customer_last_days`` (kept exact at write time,
``value_buckets``) say which bucket holds a rank and how many customers come before it; for
net spend, one short range of the ``customers.net_sales`` index then gives the value. A few
thousand bucket rows and a walk of at most one bucket, instead of a sort of every customer
(seconds at 10M orders).

Consistency: PostgreSQL reads the buckets and the index in one snapshot (``one_snapshot``);
MySQL/MariaDB's REPEATABLE READ does so by default. SQLite reads each statement on its own, so
there a write committed in between may shift a value by the customers it moved; the next
computation after writes pause is exact.
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
    """PostgreSQL: run this session's next transaction in REPEATABLE READ, so every statement
    of a computation sees the same committed data (the default, READ COMMITTED, takes a new
    snapshot per statement). A no-op once the transaction has begun, and elsewhere."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
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
        # No upper bound: if a write moved customers between the two reads (SQLite only), the
        # walk runs on into the next bucket rather than off the end of this one.
        value = session.scalar(stmt.order_by(stored_net()).offset(within - 1).limit(1))
        if value is None:
            value = session.scalar(select(Customer.net_sales).order_by(stored_net().desc()))
        found[rank] = value if value is not None else Decimal(0)
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
