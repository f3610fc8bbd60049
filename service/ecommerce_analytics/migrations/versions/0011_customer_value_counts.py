"""Ranks over every customer without sorting them: ``customers.net_sales`` stored and indexed,
``customer_value_counts`` (customers per bucket of net spend and per order count) and
``customer_last_days`` (customers per last order day), backfilled from ``customers``.

The LTV distribution, RFM's cut points, churn risk's threshold and the customer list sorted a
table of every customer on each computation (seconds at 10M orders); with these they read a
few thousand bucket counts and one short index range (``queries.ranks``). The bucket scheme is
``value_buckets`` (imported, not copied: it is part of the schema, and a change to it comes
with a migration that recounts this table).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ecommerce_analytics.value_buckets import NET, ORDERS, bucket_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INT32 = "BETWEEN -2147483648 AND 2147483647"
_CUSTOMER_SUMS = ("orders", "units", "gross_sales", "discounts", "returns")
_COUNTS = {"orders", "units"}


def _customers_check(columns: tuple[str, ...]) -> str:
    """SQLite's CHECK on ``customers`` (migration 0007) over ``columns``."""
    return " AND ".join(
        f"typeof({c}) = 'integer'" + (f" AND {c} {_INT32}" if c in _COUNTS else "") for c in columns
    )


def _count_check(table: str, sqlite: bool) -> list[sa.CheckConstraint]:
    """SQLite only, as every rollup (migration 0007): the count stays an exact 32-bit integer."""
    if not sqlite:
        return []
    return [
        sa.CheckConstraint(
            f"typeof(customers) = 'integer' AND customers {_INT32}",
            name=op.f(f"ck_{table}_integers"),
        )
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    net = sa.Column("net_sales", sa.BigInteger(), server_default="0", nullable=False)
    if sqlite:
        # SQLite cannot change a CHECK in place: the table is copied (batch mode), and the
        # new column joins the check every other summed column has.
        with op.batch_alter_table("customers") as batch:
            batch.add_column(net)
            batch.drop_constraint(op.f("ck_customers_integers"), type_="check")
            batch.create_check_constraint(
                op.f("ck_customers_integers"), _customers_check((*_CUSTOMER_SUMS, "net_sales"))
            )
    else:
        op.add_column("customers", net)
    customers = sa.table(
        "customers",
        sa.column("customer_id", sa.String()),
        sa.column("orders", sa.Integer()),
        sa.column("gross_sales", sa.BigInteger()),
        sa.column("discounts", sa.BigInteger()),
        sa.column("returns", sa.BigInteger()),
        sa.column("net_sales", sa.BigInteger()),
    )
    c = customers.c
    op.execute(customers.update().values(net_sales=c.gross_sales - c.discounts - c.returns))
    op.create_index(
        op.f("ix_customers_net_sales"), "customers", [sa.text("net_sales DESC"), "customer_id"]
    )
    last_days = op.create_table(
        "customer_last_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_customer_last_days")),
        *_count_check("customer_last_days", sqlite),
    )
    assert last_days is not None
    customers_last = sa.table(
        "customers", sa.column("last_order_date", sa.Date()), sa.column("customer_id", sa.String())
    )
    op.execute(
        last_days.insert().from_select(
            ["day", "customers"],
            sa.select(customers_last.c.last_order_date, sa.func.count()).group_by(
                customers_last.c.last_order_date
            ),
        )
    )
    counts = op.create_table(
        "customer_value_counts",
        sa.Column("figure", sa.String(16), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("figure", "bucket", name=op.f("pk_customer_value_counts")),
        *_count_check("customer_value_counts", sqlite),
    )
    assert counts is not None
    for figure, value in ((NET, bucket_sql(c.net_sales)), (ORDERS, c.orders)):
        bucket = value.label("bucket")
        op.execute(
            counts.insert().from_select(
                ["figure", "bucket", "customers"],
                sa.select(sa.literal(figure), bucket, sa.func.count()).group_by(bucket),
            )
        )


def downgrade() -> None:
    op.drop_table("customer_value_counts")
    op.drop_table("customer_last_days")
    op.drop_index(op.f("ix_customers_net_sales"), table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("customers") as batch:
            batch.drop_constraint(op.f("ck_customers_integers"), type_="check")
            batch.create_check_constraint(
                op.f("ck_customers_integers"), _customers_check(_CUSTOMER_SUMS)
            )
            batch.drop_column("net_sales")
    else:
        op.drop_column("customers", "net_sales")
