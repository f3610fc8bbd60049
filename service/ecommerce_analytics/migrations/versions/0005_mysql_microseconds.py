"""MySQL/MariaDB: timestamps keep their microseconds (``DATETIME(6)``), as on the other backends.

Earlier MySQL schemas stored ``DATETIME``, which drops the fraction of a second: two orders of
one customer within a second compared equal, and an order read back differed from what was
sent. PostgreSQL (``timestamp``) and SQLite (text) always kept microseconds; nothing changes
there. Rows stored before this migration keep their truncated values.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, column, nullable)
COLUMNS = (
    ("api_keys", "created_at", False),
    ("api_keys", "revoked_at", True),
    ("customers", "first_order_at", False),
    ("customers", "last_order_at", False),
    ("orders", "created_at", False),
    ("orders", "ingested_at", False),
    ("products", "first_sold_at", False),
    ("refunds", "created_at", False),
)


def _alter(new: sa.types.TypeEngine[Any], old: sa.types.TypeEngine[Any]) -> None:
    if op.get_bind().dialect.name != "mysql":
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=nullable)


def upgrade() -> None:
    _alter(mysql.DATETIME(fsp=6), sa.DateTime())


def downgrade() -> None:
    _alter(sa.DateTime(), mysql.DATETIME(fsp=6))
