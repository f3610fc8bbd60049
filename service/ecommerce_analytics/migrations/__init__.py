"""Alembic migrations, run by ``flask --app ecommerce_analytics db upgrade``."""
