"""MySQL/MariaDB: identifiers compare exactly (``utf8mb4_bin``), as on the other backends.

The columns used to take the server's default collation, which folds case
(``utf8mb4_general_ci``; MySQL 8's ``utf8mb4_0900_ai_ci`` also folds accents): an order
``CASE-1`` posted after ``case-1`` was answered as already stored and never written, a customer
id differing only in case failed the batch, and so did SKUs ``abc`` and ``ABC`` in one order.
PostgreSQL and SQLite always compared them exactly; nothing changes there.

Binary comparison is strictly finer than the old one, so no stored row can conflict after the
change. Orders dropped before it (a case variant answered as ``existing``) are not recovered:
their senders were told they were stored, and must send them again; rollup rows of SKUs or
customers differing only in case that were summed into one row stay summed.

One ``ALTER TABLE`` per table (each rebuilds the table once, however many columns change). The
three foreign keys between identifier columns are dropped first and added back after their two
sides match: MySQL refuses a key between columns of different collations.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# table -> (column, length); every identifier column is NOT NULL.
IDENTIFIERS: dict[str, tuple[tuple[str, int], ...]] = {
    "api_keys": (("prefix", 16), ("key_hash", 64), ("scopes", 64)),
    "customers": (("customer_id", 64),),
    "customer_days": (("customer_id", 64),),
    "customer_months": (("customer_id", 64),),
    "orders": (("order_id", 64), ("customer_id", 64)),
    "order_lines": (("order_id", 64), ("sku", 64)),
    "products": (("sku", 64),),
    "product_daily_sales": (("sku", 64),),
    "product_pairs": (("sku_a", 64), ("sku_b", 64)),
    "refunds": (("refund_id", 64), ("order_id", 64)),
    "refund_lines": (("refund_id", 64), ("sku", 64)),
    "response_cache": (("key_hash", 64),),
}
# (name, table, column, referred table, referred column); all ON DELETE CASCADE.
FOREIGN_KEYS = (
    ("fk_order_lines_order_id_orders", "order_lines", "order_id", "orders", "order_id"),
    ("fk_refunds_order_id_orders", "refunds", "order_id", "orders", "order_id"),
    ("fk_refund_lines_refund_id_refunds", "refund_lines", "refund_id", "refunds", "refund_id"),
)


def _collate(collation: str | None) -> None:
    """Set every identifier column to ``collation`` (``None``: the table's default)."""
    if op.get_bind().dialect.name != "mysql":
        return
    for name, table, *_ in FOREIGN_KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
    suffix = f" CHARACTER SET utf8mb4 COLLATE {collation}" if collation else ""
    for table, columns in IDENTIFIERS.items():
        changes = ", ".join(
            f"MODIFY `{column}` VARCHAR({length}){suffix} NOT NULL" for column, length in columns
        )
        op.execute(f"ALTER TABLE `{table}` {changes}")
    for name, table, column, referred, key in FOREIGN_KEYS:
        op.create_foreign_key(name, table, referred, [column], [key], ondelete="CASCADE")


# The keys that would collide if ids differing only in case compared equal again.
UNIQUE_KEYS = {
    "api_keys": ("prefix",),
    "customers": ("customer_id",),
    "customer_days": ("day", "customer_id"),
    "customer_months": ("customer_id", "month_start"),
    "orders": ("order_id",),
    "order_lines": ("order_id", "sku"),
    "products": ("sku",),
    "product_daily_sales": ("day", "sku"),
    "product_pairs": ("sku_a", "sku_b"),
    "refunds": ("refund_id",),
    "response_cache": ("key_hash",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        # A refund posted to /orders/abc/refunds of the stored order ABC was accepted (the order
        # was found case-insensitively) and kept the URL's spelling; once comparison is exact,
        # the foreign key would not find its order. Spelled as the order first.
        op.execute(
            "UPDATE refunds r JOIN orders o ON o.order_id = r.order_id "
            "SET r.order_id = o.order_id WHERE BINARY r.order_id <> BINARY o.order_id"
        )
    _collate("utf8mb4_bin")


def downgrade() -> None:
    """Back to the tables' default collation, refused before any change when stored ids
    differ only in case: the old schema cannot hold both (MySQL's DDL is not transactional,
    so a failure halfway would leave some tables converted)."""
    if op.get_bind().dialect.name != "mysql":
        return
    for table, key in UNIQUE_KEYS.items():
        folded = ", ".join(f"`{column}` COLLATE utf8mb4_general_ci" for column in key)
        clash = op.get_bind().exec_driver_sql(
            f"SELECT {folded} FROM `{table}` GROUP BY {folded} HAVING COUNT(*) > 1 LIMIT 1"
        )
        found = clash.first()
        if found is not None:
            raise RuntimeError(
                f"cannot downgrade below 0006: {table} holds ids that differ only in case "
                f"({', '.join(map(str, found))}); the case-insensitive schema cannot store "
                "both. Remove one of each pair first, or stay at 0006."
            )
    _collate(None)
