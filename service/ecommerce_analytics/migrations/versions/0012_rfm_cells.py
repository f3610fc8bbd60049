"""RFM without scoring every customer: ``rfm_cells``, customers and their net spend per (last
order day, order count, net band), backfilled from ``customers``; the ``customers.net_sales``
index carries the last order day and order count, so the walk of a band reads the index alone.

RFM's segment summary scored each of millions of customers on every computation (1.6 s at 10M
orders); with the cells it scores a few hundred thousand cells and walks the customers of the
(at most four) net bands its cut points fall in (``queries.rfm_cells``). The band scheme is
``value_buckets.band_of`` (imported, not copied: a change to it comes with a migration that
recounts this table).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ecommerce_analytics.value_buckets import band_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_INT32 = "BETWEEN -2147483648 AND 2147483647"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite only, as every rollup (migration 0007): the sums stay exact integers.
    checks = (
        [
            sa.CheckConstraint(
                f"typeof(customers) = 'integer' AND customers {_INT32} "
                "AND typeof(net_sales) = 'integer'",
                name=op.f("ck_rfm_cells_integers"),
            )
        ]
        if sqlite
        else []
    )
    cells = op.create_table(
        "rfm_cells",
        sa.Column("last_order_date", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("net_band", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("net_sales", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("last_order_date", "orders", "net_band", name=op.f("pk_rfm_cells")),
        *checks,
    )
    assert cells is not None
    customers = sa.table(
        "customers",
        sa.column("last_order_date", sa.Date()),
        sa.column("orders", sa.Integer()),
        sa.column("net_sales", sa.BigInteger()),
    )
    c = customers.c
    band = band_sql(c.net_sales).label("net_band")
    op.execute(
        cells.insert().from_select(
            ["last_order_date", "orders", "net_band", "customers", "net_sales"],
            sa.select(
                c.last_order_date, c.orders, band, sa.func.count(), sa.func.sum(c.net_sales)
            ).group_by(c.last_order_date, c.orders, band),
        )
    )
    _net_sales_index("last_order_date", "orders")


def _net_sales_index(*riding: str) -> None:
    """``ix_customers_net_sales`` recreated with ``riding`` after its key (MySQL has no
    ``INCLUDE``, so they are key columns everywhere)."""
    op.drop_index(op.f("ix_customers_net_sales"), table_name="customers")
    op.create_index(
        op.f("ix_customers_net_sales"),
        "customers",
        [sa.text("net_sales DESC"), "customer_id", *riding],
    )


def downgrade() -> None:
    _net_sales_index()
    op.drop_table("rfm_cells")
