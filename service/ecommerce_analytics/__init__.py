"""E-commerce analytics service: ``flask --app ecommerce_analytics run``."""

from .app import create_app as create_app

__all__ = ["create_app"]
