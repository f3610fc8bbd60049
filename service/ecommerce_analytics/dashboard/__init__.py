"""Pages for people: the dashboard (``/dashboard/``), its sign-in, and the API reference
(``/docs``). They read the JSON API like any client; nothing here queries the database
except the sign-in's key check."""

from __future__ import annotations

from .views import bp as bp
