"""Distinct customers over any range as a sum over days: ``customer_gaps`` (customers per order
day and previous order day) and ``lone_first_orders`` (customers whose first order day held
one order, per that day and their next one), backfilled from ``customer_days``.

Sales' customer counts and the ranged returning rate were distinct counts over every
customer-day of the range (seconds at 10M orders); these rollups answer them in O(days x
previous days) (``models.CustomerGap``). The backfill uses window functions (PostgreSQL,
MySQL 8, MariaDB 10.2, SQLite 3.25).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INT32 = "BETWEEN -2147483648 AND 2147483647"


def _integers_check(table: str) -> list[sa.CheckConstraint]:
    """SQLite only, as every rollup (migration 0007): the count stays an exact 32-bit integer."""
    if op.get_bind().dialect.name != "sqlite":
        return []
    return [
        sa.CheckConstraint(
            f"typeof(customers) = 'integer' AND customers {_INT32}",
            name=op.f(f"ck_{table}_integers"),
        )
    ]


def upgrade() -> None:
    gaps = op.create_table(
        "customer_gaps",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "previous_day", name=op.f("pk_customer_gaps")),
        *_integers_check("customer_gaps"),
    )
    lone = op.create_table(
        "lone_first_orders",
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("next_day", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("first_day", "next_day", name=op.f("pk_lone_first_orders")),
        *_integers_check("lone_first_orders"),
    )
    assert gaps is not None and lone is not None
    days = sa.table(
        "customer_days",
        sa.column("day", sa.Date()),
        sa.column("customer_id", sa.String()),
        sa.column("week_start", sa.Date()),
        sa.column("month_start", sa.Date()),
        sa.column("orders", sa.Integer()),
    )
    linked = sa.select(
        days.c.day,
        days.c.week_start,
        days.c.month_start,
        days.c.orders,
        sa.func.lag(days.c.day)
        .over(partition_by=days.c.customer_id, order_by=days.c.day)
        .label("previous_day"),
        sa.func.lead(days.c.day)
        .over(partition_by=days.c.customer_id, order_by=days.c.day)
        .label("next_day"),
    ).subquery()
    previous = sa.func.coalesce(linked.c.previous_day, linked.c.day)
    op.execute(
        gaps.insert().from_select(
            ["day", "previous_day", "week_start", "month_start", "customers"],
            sa.select(
                linked.c.day, previous, linked.c.week_start, linked.c.month_start, sa.func.count()
            ).group_by(linked.c.day, previous, linked.c.week_start, linked.c.month_start),
        )
    )
    following = sa.func.coalesce(linked.c.next_day, linked.c.day)
    op.execute(
        lone.insert().from_select(
            ["first_day", "next_day", "customers"],
            sa.select(linked.c.day, following, sa.func.count())
            .where(linked.c.previous_day.is_(None), linked.c.orders == 1)
            .group_by(linked.c.day, following),
        )
    )


def downgrade() -> None:
    op.drop_table("lone_first_orders")
    op.drop_table("customer_gaps")
