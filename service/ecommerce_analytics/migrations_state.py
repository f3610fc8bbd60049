"""Where the schema stands relative to the migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def pending_migrations(connection: Connection) -> list[str]:
    """Heads not yet applied to the connected database (empty when current)."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    return sorted(head_revisions() - current)
