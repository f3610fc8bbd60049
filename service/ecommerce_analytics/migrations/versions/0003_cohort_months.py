"""Per-customer-month activity and per-cohort-month rollups, backfilled from existing rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    customer_months = op.create_table(
        "customer_months",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("cohort_month", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("order_value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month_start", name=op.f("pk_customer_months")),
    )
    cohort_months = op.create_table(
        "cohort_months",
        sa.Column("cohort_month", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("revenue", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("cohort_month", "month_start", name=op.f("pk_cohort_months")),
    )
    assert customer_months is not None and cohort_months is not None
    # Backfill from the existing rollups (portable INSERT ... SELECT).
    days = sa.table(
        "customer_days",
        sa.column("customer_id", sa.String()),
        sa.column("month_start", sa.Date()),
        sa.column("orders", sa.Integer()),
        sa.column("order_value", sa.BigInteger()),
    )
    customers = sa.table(
        "customers",
        sa.column("customer_id", sa.String()),
        sa.column("first_order_month", sa.Date()),
    )
    op.execute(
        customer_months.insert().from_select(
            ["customer_id", "month_start", "cohort_month", "orders", "order_value"],
            sa.select(
                days.c.customer_id,
                days.c.month_start,
                customers.c.first_order_month,
                sa.func.sum(days.c.orders),
                sa.func.sum(days.c.order_value),
            )
            .join(customers, customers.c.customer_id == days.c.customer_id)
            .group_by(days.c.customer_id, days.c.month_start, customers.c.first_order_month),
        )
    )
    op.execute(
        cohort_months.insert().from_select(
            ["cohort_month", "month_start", "customers", "revenue"],
            sa.select(
                customer_months.c.cohort_month,
                customer_months.c.month_start,
                sa.func.count(),
                sa.func.sum(customer_months.c.order_value),
            ).group_by(customer_months.c.cohort_month, customer_months.c.month_start),
        )
    )


def downgrade() -> None:
    op.drop_table("cohort_months")
    op.drop_table("customer_months")
