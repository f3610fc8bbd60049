"""The dashboard's routes: the page shell, sign-in and sign-out, and ``/docs``.

The pages carry no data and need no credentials; the figures come from ``/api/v1`` read by
the page's script with the session cookie set here (``browser_session.py``). The one fact the
dashboard's shell carries is whether a lifetime value model has been fitted (``_clv_fitted``).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from .. import browser_session
from ..auth import find_key, hash_key
from ..config import DEFAULT_DASHBOARD_POLL_S, DEFAULT_DASHBOARD_SESSION_S
from ..db import get_db, get_session
from ..db.failures import is_unavailable
from ..queries.clv import has_model

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

# Scripts, styles and API calls from this origin only; no framing (the sign-in form cannot be
# overlaid by another site), forms post here only.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# Redoc injects its styles at run time and searches in a worker built from a blob: URL.
_DOCS_POLICY = _PAGE_POLICY + "; style-src 'self' 'unsafe-inline'; worker-src blob:"


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("dashboard.dashboard"))


@bp.get("/dashboard/")
def dashboard() -> str:
    poll_s = float(current_app.config.get("DASHBOARD_POLL_SECONDS", DEFAULT_DASHBOARD_POLL_S))
    return render_template("dashboard.html", poll_ms=round(poll_s * 1000), clv_fitted=_clv_fitted())


def _clv_fitted() -> str:
    """``yes`` once ``flask clv fit`` has stored a model, ``no`` before, ``unknown`` when the
    database does not answer.

    The prediction endpoints answer 409 until the first fit, and a browser logs every 4xx its
    page fetched as an error; told ``no``, the page shows the panel's explanation instead of
    asking. Only the first fit changes the answer, so a page open across it needs a reload (the
    explanation says so); later fits are found by the page's polling. ``unknown``: the page
    asks the API, which explains. Public like the page: it tells whether a fit has run, no
    figure.

    Once ``yes``, remembered for the process: fits are only added (older ones stay as the
    history), so the public page, which anyone may load as often as they like and which no
    rate limit covers, reads the database only until the first fit. Were the fits deleted, the
    page would ask the API, whose 409 the panel explains."""
    if current_app.extensions.get(_CLV_FITTED_KEY):
        return "yes"
    try:
        fitted = has_model(get_session())
    except Exception as exc:
        # Unmigrated, unreachable, or its credentials not fetched: the page still renders.
        if isinstance(exc, SQLAlchemyError) or is_unavailable(exc):
            return "unknown"
        raise
    if fitted:
        current_app.extensions[_CLV_FITTED_KEY] = True
    return "yes" if fitted else "no"


_CLV_FITTED_KEY = "ecommerce_analytics.dashboard.clv_fitted"


@bp.get("/dashboard/login")
def login_form() -> Response:
    notice = {
        "expired": "You are not signed in, or your session ended: sign in to continue.",
        "out": "Signed out.",
    }.get(request.args.get("reason", ""))
    return _login_page(notice=notice)


@bp.post("/dashboard/login")
def login() -> BaseResponse:
    if not _same_origin():
        return _login_page(
            error="The sign-in came from another site, so it was refused. Sign in from this page.",
            status=403,
        )
    key = request.form.get("key", "").strip()
    if not key:
        return _login_page(error="Enter an API key.", status=400)
    row = find_key(get_db(), key)
    if row is None:
        return _login_page(error="That API key is unknown or has been revoked.", status=401)
    if "read" not in row.scope_set:
        return _login_page(
            error="That key has no 'read' scope; the dashboard needs one that has.", status=403
        )
    lifetime = float(
        current_app.config.get("DASHBOARD_SESSION_SECONDS", DEFAULT_DASHBOARD_SESSION_S)
    )
    expires = int(time.time() + lifetime)
    response = redirect(url_for("dashboard.dashboard"), code=303)
    response.set_cookie(
        browser_session.COOKIE_NAME,
        browser_session.sign(hash_key(key), row.prefix, expires),
        max_age=int(lifetime),
        path=browser_session.COOKIE_PATH,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/dashboard/logout")
def logout() -> BaseResponse:
    # Checked like the sign-in, so another site cannot sign a person out either.
    if not _same_origin():
        return _login_page(error="The sign-out came from another site; refused.", status=403)
    response = redirect(url_for("dashboard.login_form", reason="out"), code=303)
    response.delete_cookie(
        browser_session.COOKIE_NAME,
        path=browser_session.COOKIE_PATH,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


@bp.get("/docs")
def docs() -> Response:
    response = Response(render_template("docs.html"))
    response.headers["Content-Security-Policy"] = _DOCS_POLICY
    return response


def _login_page(
    *, error: str | None = None, notice: str | None = None, status: int = 200
) -> Response:
    response = Response(render_template("login.html", error=error, notice=notice), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_origin() -> bool:
    """Whether a form post came from a page of this service: its ``Origin`` (every current
    browser sends one on a POST), else its ``Referer``, is this host under this scheme (behind
    a TLS-terminating proxy, the forwarded one: ``gunicorn_conf.forwarded_allow_ips``)."""
    expected = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is None:
        referer = urlsplit(request.headers.get("Referer", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else None
    return origin == expected
