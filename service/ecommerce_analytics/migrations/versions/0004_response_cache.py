"""Analytics responses shared by every worker and task, keyed by request and data version.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_cache",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "body",
            sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_response_cache")),
    )
    op.create_index(op.f("ix_response_cache_version"), "response_cache", ["version"])


def downgrade() -> None:
    op.drop_index(op.f("ix_response_cache_version"), table_name="response_cache")
    op.drop_table("response_cache")
