"""SQLite: a rollup counter past 64 bits is refused, as PostgreSQL and MySQL refuse it.

SQLite turns an integer sum that overflows 64 bits into an approximate REAL and stores it, so a
day's or a customer's total would silently lose its exactness, and it stores counts past the
32 bits PostgreSQL's and MySQL's INTEGER hold; those fail the statement instead ("out of
range"), and the API answers 422 with nothing written. A CHECK per rollup table (every counter
and amount still an integer, counts within 32 bits) gives SQLite the same behaviour. The
other engines are unchanged. SQLite cannot add a constraint to a table in place: each table is
copied into a new one with it (Alembic's batch mode).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> its summed columns (what the API adds to on every write); the counts among them are
# INTEGER (32 bits) on PostgreSQL and MySQL.
COUNTS = {"orders", "units", "units_returned", "customers"}
SUMS = {
    "customers": ("orders", "units", "gross_sales", "discounts", "returns"),
    "products": ("orders", "units"),
    "daily_sales": ("orders", "units", "gross_sales", "discounts", "returns", "shipping", "tax"),
    "product_daily_sales": (
        "orders",
        "units",
        "units_returned",
        "gross_sales",
        "discounts",
        "returns",
    ),
    "customer_days": ("orders", "order_value"),
    "customer_months": ("orders", "order_value"),
    "cohort_months": ("customers", "revenue"),
    "product_pairs": ("orders",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in SUMS.items():
        condition = " AND ".join(
            f"typeof({column}) = 'integer'"
            + (f" AND {column} BETWEEN -2147483648 AND 2147483647" if column in COUNTS else "")
            for column in columns
        )
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_integers"), condition)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in SUMS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_integers"), type_="check")
