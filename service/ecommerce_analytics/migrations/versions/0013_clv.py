"""Predictive lifetime value: ``clv_models`` (each fit's parameters and diagnostics, one JSON
document per fit) and ``clv_predictions`` (the latest fit's per-customer predictions, one index
per sort key of ``GET /api/v1/customers/clv``). Both start empty: ``flask clv fit`` fills them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from ecommerce_analytics.models import UTCDateTime, identifier

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_SORT_KEYS = ("predicted_value", "expected_orders", "p_alive", "expected_spend")


def upgrade() -> None:
    op.create_table(
        "clv_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fitted_at", UTCDateTime(), nullable=False),
        sa.Column(
            "document",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clv_models")),
    )
    op.create_index(op.f("ix_clv_models_fitted_at"), "clv_models", ["fitted_at"])
    op.create_table(
        "clv_predictions",
        sa.Column("customer_id", identifier(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Double(), nullable=False),
        sa.Column("age", sa.Double(), nullable=False),
        sa.Column("mean_repeat_spend", sa.Double(), nullable=True),
        sa.Column("p_alive", sa.Double(), nullable=False),
        sa.Column("expected_orders", sa.Double(), nullable=False),
        sa.Column("expected_spend", sa.Double(), nullable=False),
        sa.Column("predicted_value", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_clv_predictions")),
    )
    for column in _SORT_KEYS:
        op.create_index(
            op.f(f"ix_clv_predictions_{column}"),
            "clv_predictions",
            [sa.text(f"{column} DESC"), "customer_id"],
        )


def downgrade() -> None:
    for column in _SORT_KEYS:
        op.drop_index(op.f(f"ix_clv_predictions_{column}"), table_name="clv_predictions")
    op.drop_table("clv_predictions")
    op.drop_index(op.f("ix_clv_models_fitted_at"), table_name="clv_models")
    op.drop_table("clv_models")
