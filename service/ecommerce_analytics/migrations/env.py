"""Alembic environment: the app's engine and metadata (via Flask-Migrate)."""

from __future__ import annotations

from alembic import context
from flask import current_app

from ecommerce_analytics.db import Database


def _database() -> Database:
    database: Database = current_app.extensions["migrate"].db
    return database


def run_offline() -> None:
    database = _database()
    context.configure(
        url=database.engine.url.render_as_string(hide_password=False),
        target_metadata=database.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    database = _database()
    # Without the app's statement timeout: a migration may run for minutes.
    with database.migration_engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=database.metadata,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
