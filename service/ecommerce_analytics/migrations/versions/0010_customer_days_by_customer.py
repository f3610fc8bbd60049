"""``customer_days`` indexed by ``(customer_id, day)`` instead of ``customer_id`` alone.

Ingest reads a customer's order days around a batch's by index range probes (the day before,
the days from it on, the first two: ``ingest.day_probes``) instead of every order day of the
customer; the old index could only find all of them. The new one serves every lookup the old
one did (its leading column).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Created first, so the table is never without an index by customer.
    op.create_index(
        op.f("ix_customer_days_customer_id_day"), "customer_days", ["customer_id", "day"]
    )
    op.drop_index(op.f("ix_customer_days_customer_id"), table_name="customer_days")


def downgrade() -> None:
    op.create_index(op.f("ix_customer_days_customer_id"), "customer_days", ["customer_id"])
    op.drop_index(op.f("ix_customer_days_customer_id_day"), table_name="customer_days")
