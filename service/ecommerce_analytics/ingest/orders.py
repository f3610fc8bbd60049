"""``ingest_orders``: one batch of orders written in the caller's transaction, raw rows first,
then the rollups, in the order that keeps concurrent batches from deadlocking."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

from sqlalchemy.orm import Session

from ..cache import bump_version
from ..config import StoreSettings
from ..models import Order, OrderLine
from ..schemas import OrderIn
from ..upsert import encoders, insert_ignore_rows, insert_rows, pipelined
from .cohorts import cohort_rows, key_lookups_only, send_cohort_reads
from .order_days import order_day_rows
from .rollups import BatchRows, write_customer_rollups, write_shared_rollups
from .stored_form import LINE_COLUMNS, ORDER_COLUMNS, prepare_order
from .value_counts import batch_value_count_rows


@dataclass
class IngestResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def ingest_orders(
    session: Session, orders: list[OrderIn], store: StoreSettings, now: datetime
) -> IngestResult:
    """Store ``orders`` (already validated) and update rollups; the caller commits."""
    enc = encoders(session)
    # Sorted so concurrent batches take row locks in one global order.
    prepared = [prepare_order(order, store) for order in sorted(orders, key=attrgetter("order_id"))]
    # Every row is built before the first write, assuming every order is new (the usual case):
    # on SQLite the write lock is taken by the first INSERT and held until commit, so Python
    # work done before it does not serialize concurrent writers.
    rows = BatchRows.of(prepared, store, now, enc)
    inserted = insert_ignore_rows(
        session,
        Order.__table__,  # type: ignore[arg-type]
        ORDER_COLUMNS,
        rows.orders,
    )
    if len(inserted) != len(prepared):
        # Some orders were stored before (a retry): count only the ones inserted now.
        rows = BatchRows.of([o for o in prepared if o.order_id in inserted], store, now, enc)
    # Two round trips on PostgreSQL (``pipelined``) for what took one per statement: the
    # customer rows locked in the first block stay locked until commit, and concurrent batches
    # sharing a customer (loyal customers are in many) queue for as long as that takes.
    with pipelined(session):
        insert_rows(
            session,
            OrderLine.__table__,  # type: ignore[arg-type]
            LINE_COLUMNS,
            rows.lines,
        )
        write_customer_rollups(session, rows)
        key_lookups_only(session, True)
        cohort_state = send_cohort_reads(session, rows.customer_months, list(rows.day_orders))
    stored = cohort_state()
    customer_months, cohort_deltas = cohort_rows(rows.customer_months, stored, enc)
    order_days = order_day_rows(rows.day_orders, stored.days, enc)
    value_counts = batch_value_count_rows(
        rows.customer_deltas, stored.values, order_days.latest_read, enc
    )
    with pipelined(session):
        key_lookups_only(session, False)
        write_shared_rollups(
            session, rows, customer_months, cohort_deltas, order_days, value_counts
        )
        if inserted:
            bump_version(session)
    # Report in request order.
    result = IngestResult()
    for order in orders:
        (result.created if order.order_id in inserted else result.existing).append(order.order_id)
    return result
