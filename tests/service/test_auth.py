"""API keys: bearer auth, scopes, revocation, rate limits and the ``keys`` CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecommerce_analytics.auth import hash_key
from ecommerce_analytics.db import get_db
from ecommerce_analytics.models import ApiKey

from .conftest import new_key
from .factories import order

SALES = "/api/v1/sales?start=2024-01-01&end=2024-01-31"


@pytest.mark.parametrize(
    "header",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer eak_nope_nope", "Bearer not-a-key"],
)
def test_missing_or_bad_credentials_are_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(SALES, headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/problems/unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_scopes_are_enforced(app, client):
    read = {"Authorization": f"Bearer {new_key(app, 'read')}"}
    write = {"Authorization": f"Bearer {new_key(app, 'write')}"}
    assert client.get(SALES, headers=read).status_code == 200
    denied = client.post("/api/v1/orders", json={"orders": [order("S1")]}, headers=read)
    assert denied.status_code == 403
    assert denied.json["type"] == "/problems/insufficient-scope"
    assert (
        client.post("/api/v1/orders", json={"orders": [order("S1")]}, headers=write).status_code
        == 201
    )
    assert client.get(SALES, headers=write).status_code == 403


def test_auth_is_checked_before_validation(client):
    response = client.post("/api/v1/orders", data="not json", content_type="application/json")
    assert response.status_code == 401


def test_keys_are_stored_hashed(app):
    key = new_key(app, "read")
    with app.app_context(), get_db().sessionmaker() as session:
        row = session.scalars(select(ApiKey)).one()
    assert key not in (row.key_hash, row.prefix, row.scopes)
    assert row.key_hash == hash_key(key)


def test_keys_cli_create_list_revoke(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["keys", "create", "--scope", "read", "--scope", "write"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("eak_")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(SALES, headers=headers).status_code == 200

    prefix = key.split("_")[1]
    listed = runner.invoke(args=["keys", "list"])
    assert prefix in listed.output and "active" in listed.output
    assert key not in listed.output

    revoked = runner.invoke(args=["keys", "revoke", prefix])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(args=["keys", "list"]).output
    assert client.get(SALES, headers=headers).status_code == 401
    assert runner.invoke(args=["keys", "revoke", "missing"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--scope", "admin"]).exit_code != 0


def test_rate_limit_per_key(make_app):
    app = make_app(RATE_LIMIT_PER_MINUTE=3)
    client = app.test_client()
    first = {"Authorization": f"Bearer {new_key(app, 'read')}"}
    other = {"Authorization": f"Bearer {new_key(app, 'read')}"}
    statuses = [client.get(SALES, headers=first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(SALES, headers=first)
    assert limited.json["type"] == "/problems/rate-limited"
    assert int(limited.headers["Retry-After"]) >= 1
    ok = client.get(SALES, headers=other)
    assert ok.status_code == 200
    assert ok.headers["RateLimit-Limit"] == "3"
