"""The shared answers keep the latest answer per request with when it was computed, and a lease.

Bounded-staleness serving (``cache/serving.py``) serves the newest answer while it is recent
enough, so a row now holds the latest answer for its request whatever the data version
(``computed_at``: when its computation began), and ``lease_until`` marks the one worker
computing the next. The table is a cache: it is recreated empty (every answer is recomputed
on its next request), in both directions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BODY = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
KEY = sa.String(length=64).with_variant(
    mysql.VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
MOMENT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.drop_index(op.f("ix_response_cache_version"), table_name="response_cache")
    op.drop_table("response_cache")
    op.create_table(
        "response_cache",
        sa.Column("key_hash", KEY, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", MOMENT, nullable=True),
        sa.Column("body", BODY, nullable=True),
        sa.Column("lease_until", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_response_cache")),
    )
    op.create_index(op.f("ix_response_cache_computed_at"), "response_cache", ["computed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_response_cache_computed_at"), table_name="response_cache")
    op.drop_table("response_cache")
    op.create_table(
        "response_cache",
        sa.Column("key_hash", KEY, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("body", BODY, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_response_cache")),
    )
    op.create_index(op.f("ix_response_cache_version"), "response_cache", ["version"])
