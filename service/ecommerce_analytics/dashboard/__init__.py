"""Pages for people: the dashboard (``/dashboard/``), its sign-in, and the API reference
(``/docs``). They read the JSON API like any client; nothing here queries the database
except the sign-in's key check and, until the first fit, the dashboard page's probe for a
lifetime value model (``views._clv_fitted``)."""

from __future__ import annotations

from .views import bp as bp
