"""The dashboard's sign-in: a key posted once becomes a read-only session cookie."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade  # type: ignore[import-untyped]

from ecommerce_analytics import browser_session, create_app
from ecommerce_analytics.auth import create_key, hash_key
from ecommerce_analytics.config import config_from_env
from ecommerce_analytics.db import get_db

from .conftest import new_key
from .factories import order

SALES = "/api/v1/sales?start=2024-01-01&end=2024-01-31"
LOGIN = "/dashboard/login"
ORIGIN = {"Origin": "http://localhost"}


def sign_in(client: FlaskClient, key: str, **kwargs: object):
    return client.post(LOGIN, data={"key": key}, headers=ORIGIN, **kwargs)


def session_cookie(response) -> SimpleCookie:
    """The ``Set-Cookie`` of the session, parsed (attributes included)."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("eak_session=")]
    assert len(headers) == 1, response.headers
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(headers[0])
    return cookie


def test_signing_in_sets_a_strict_http_only_cookie_limited_to_the_api(app, client):
    key = new_key(app, "read")
    response = sign_in(client, key)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/"
    morsel = session_cookie(response)["eak_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/api/v1/"
    assert int(morsel["max-age"]) == 8 * 3600
    assert not morsel["secure"]  # plain HTTP: a Secure cookie would never come back
    assert key not in morsel.value
    assert response.headers["Cache-Control"] == "no-store"


def test_behind_tls_the_cookie_is_secure_and_its_lifetime_configurable(make_app):
    app = make_app(DASHBOARD_SESSION_SECONDS=600)
    client = app.test_client()
    response = client.post(
        LOGIN,
        data={"key": new_key(app, "read")},
        headers={"Origin": "https://localhost"},
        base_url="https://localhost",
    )
    morsel = session_cookie(response)["eak_session"]
    assert morsel["secure"] is True
    assert int(morsel["max-age"]) == 600


def test_the_cookie_reads_the_api_and_no_url_carries_the_key(app, client):
    key = new_key(app, "read")
    response = sign_in(client, key)
    assert key not in response.headers["Location"]
    sales = client.get(SALES)
    assert sales.status_code == 200
    assert sales.json["start"] == "2024-01-01"
    # Not sent outside /api/v1/.
    assert client.get_cookie("eak_session", path="/api/v1/") is not None
    assert client.get_cookie("eak_session", path="/") is None


def test_a_revoked_keys_cookie_is_refused(app, client):
    key = new_key(app, "read")
    sign_in(client, key)
    assert client.get(SALES).status_code == 200
    revoked = app.test_cli_runner().invoke(args=["keys", "revoke", key.split("_")[1]])
    assert revoked.exit_code == 0, revoked.output
    response = client.get(SALES)
    assert response.status_code == 401
    assert "sign in again" in response.json["detail"]


def test_a_cookie_cannot_write(app, client):
    key = new_key(app, "read", "write")
    sign_in(client, key)
    response = client.post("/api/v1/orders", json={"orders": [order("CSRF-1")]})
    assert response.status_code == 401
    assert "reads only" in response.json["detail"]
    # Nothing was stored: the order is unknown to a bearer read.
    found = client.get(
        "/api/v1/orders/CSRF-1", headers={"Authorization": f"Bearer {key}"}
    ).status_code
    assert found == 404


@pytest.mark.parametrize(
    "tamper",
    [
        lambda prefix, expires, mac: f"{prefix}.{expires + 3600}.{mac}",  # extended
        lambda prefix, expires, mac: f"{prefix}.{expires}.{'0' * 64}",  # forged
        lambda prefix, expires, mac: f"{prefix}.{expires}",  # malformed
    ],
)
def test_an_altered_cookie_is_refused(app, client, tamper):
    key = new_key(app, "read")
    prefix = key.split("_")[1]
    expires = int(time.time()) + 600
    mac = browser_session.sign(hash_key(key), prefix, expires).rsplit(".", 1)[1]
    client.set_cookie("eak_session", tamper(prefix, expires, mac), path="/api/v1/")
    assert client.get(SALES).status_code == 401


def test_an_expired_cookie_is_refused(app, client):
    key = new_key(app, "read")
    prefix = key.split("_")[1]
    for expires, status in ((int(time.time()) + 60, 200), (int(time.time()) - 1, 401)):
        value = browser_session.sign(hash_key(key), prefix, expires)
        client.set_cookie("eak_session", value, path="/api/v1/")
        assert client.get(SALES).status_code == status


def test_a_bad_key_gets_a_clear_error_on_the_sign_in_page(client):
    response = sign_in(client, "eak_nope_nope")
    assert response.status_code == 401
    assert "That API key is unknown or has been revoked." in response.text
    assert "Set-Cookie" not in response.headers


def test_a_key_without_read_scope_cannot_sign_in(app, client):
    response = sign_in(client, new_key(app, "write"))
    assert response.status_code == 403
    assert "no &#39;read&#39; scope" in response.text
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "http://x.test/"}],
)
def test_a_sign_in_from_another_site_is_refused(app, client, headers):
    response = client.post(LOGIN, data={"key": new_key(app, "read")}, headers=headers)
    assert response.status_code == 403
    assert "another site" in response.text
    assert "Set-Cookie" not in response.headers


def test_a_same_site_referer_stands_in_for_a_missing_origin(app, client):
    response = client.post(
        LOGIN,
        data={"key": new_key(app, "read")},
        headers={"Referer": "http://localhost/dashboard/login"},
    )
    assert response.status_code == 303


def test_signing_out_removes_the_cookie(app, client):
    sign_in(client, new_key(app, "read"))
    response = client.post("/dashboard/logout", headers=ORIGIN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/login?reason=out"
    assert session_cookie(response)["eak_session"]["max-age"] == "0"
    assert client.get(SALES).status_code == 401


def test_bearer_keys_work_as_before_beside_a_cookie(app, client):
    sign_in(client, new_key(app, "read"))
    # A request with a header is judged by the header alone.
    bad = client.get(SALES, headers={"Authorization": "Bearer eak_nope_nope"})
    assert bad.status_code == 401
    assert bad.json["detail"] == "The API key is unknown or revoked."
    good = client.get(SALES, headers={"Authorization": f"Bearer {new_key(app, 'read')}"})
    assert good.status_code == 200


def test_the_pages_are_public_and_framing_is_refused(client):
    for path in ("/dashboard/", LOGIN, "/docs"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert client.get("/").headers["Location"] == "/dashboard/"
    assert client.get("/api/v1/openapi.json").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_behind_the_tls_proxy_gunicorn_makes_the_cookie_secure(tmp_path):
    """With the image's gunicorn settings, a sign-in the load balancer forwarded from HTTPS
    (``X-Forwarded-Proto: https``) gets a ``Secure`` cookie, and its ``Origin`` is the https
    one; the same request arriving as plain HTTP is refused as cross-site."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        with get_db().sessionmaker.begin() as session:
            key = create_key(session, ["read"], "tls")[1]
    app.extensions["ecommerce_analytics.db"].dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "WEB_CONCURRENCY": "1", "PORT": str(port)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "python:ecommerce_analytics.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "ecommerce_analytics:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def sign_in(forwarded: dict[str, str]) -> tuple[int, str | None]:
        """The status and ``Set-Cookie`` of a sign-in with these forwarding headers."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Host": "analytics.example",
            "Origin": "https://analytics.example",
            "Content-Type": "application/x-www-form-urlencoded",
            **forwarded,
        }
        try:
            connection.request("POST", LOGIN, urlencode({"key": key}), headers)
            response = connection.getresponse()
            response.read()
            return response.status, response.headers["Set-Cookie"]
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                forwarded = sign_in({"X-Forwarded-Proto": "https"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start within 30 s")
                time.sleep(0.2)
        status, set_cookie = forwarded
        assert status == 303 and set_cookie is not None
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(set_cookie)
        assert cookie["eak_session"]["secure"] is True
        assert sign_in({}) == (403, None)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_dashboards_settings_come_from_the_environment():
    defaults = config_from_env({})
    assert (defaults["DASHBOARD_POLL_SECONDS"], defaults["DASHBOARD_SESSION_SECONDS"]) == (
        15.0,
        28800.0,
    )
    assert config_from_env({"DASHBOARD_POLL_SECONDS": "2.5"})["DASHBOARD_POLL_SECONDS"] == 2.5
    for name in ("DASHBOARD_POLL_SECONDS", "DASHBOARD_SESSION_SECONDS"):
        with pytest.raises(ValueError, match=name):
            config_from_env({name: "0"})


def test_the_page_polls_at_the_configured_interval(make_app):
    page = make_app(DASHBOARD_POLL_SECONDS=2.5).test_client().get("/dashboard/").text
    assert 'data-poll-ms="2500"' in page
