"""HTTP API: one blueprint per area, every route declared through :func:`routing.endpoint`."""

from __future__ import annotations

from flask import Flask

from . import customers, health, insights, models, orders, products, sales, spec


def register_blueprints(app: Flask) -> None:
    for module in (health, spec, orders, sales, products, customers, insights, models):
        app.register_blueprint(module.bp)
