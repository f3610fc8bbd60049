"""Database TLS settings and credentials that follow rotation of the RDS-managed secret."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ecommerce_analytics.config import config_from_env
from ecommerce_analytics.db import Database
from ecommerce_analytics.db_credentials import Credentials, SecretCredentials

RDS_ENV = {
    "DB_HOST": "analytics.abc.us-east-1.rds.amazonaws.com",
    "DB_NAME": "analytics",
    "DB_USERNAME": "analytics_admin",
    "DB_PASSWORD": "pw",
}


def test_mysql_from_rds_variables_verifies_tls_with_the_ca_bundle() -> None:
    env = {**RDS_ENV, "DB_ENGINE": "mysql", "DB_SSL_CA": "/etc/ssl/certs/rds.pem"}
    url = make_url(config_from_env(env)["DATABASE_URL"])
    assert url.query["ssl_ca"] == "/etc/ssl/certs/rds.pem"
    assert url.query["charset"] == "utf8mb4"


def test_postgres_from_rds_variables_verifies_the_server_certificate() -> None:
    env = {**RDS_ENV, "DB_ENGINE": "postgres", "DB_SSL_CA": "/etc/ssl/certs/rds.pem"}
    url = make_url(config_from_env(env)["DATABASE_URL"])
    assert url.query == {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/certs/rds.pem"}


def test_secret_arn_is_passed_to_the_app() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1"
    assert config_from_env({**RDS_ENV, "DB_SECRET_ARN": arn})["DB_SECRET_ARN"] == arn


class Source:
    """The secret as Secrets Manager holds it; counts how often it is read."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.reads = 0

    def __call__(self) -> Credentials:
        self.reads += 1
        return Credentials(username=self.user, password=self.password)

    user = "app"


def test_credentials_are_cached_for_the_ttl_then_read_again() -> None:
    now = [0.0]
    source = Source("first")
    credentials = SecretCredentials(source, ttl=300, clock=lambda: now[0])
    assert credentials.get().password == "first"
    source.password = "second"
    now[0] = 299.0
    assert credentials.get().password == "first"
    now[0] = 300.0
    assert credentials.get().password == "second"
    assert source.reads == 2


def test_refresh_reads_the_secret_at_once() -> None:
    source = Source("first")
    credentials = SecretCredentials(source, ttl=10_000)
    credentials.get()
    source.password = "rotated"
    assert credentials.refresh().password == "rotated"


@pytest.fixture
def mysql_user() -> Iterator[tuple[str, str]]:
    """A MariaDB/MySQL user with a password, on the test server; yields (url, user)."""
    base = os.environ.get("TEST_MYSQL_URL")
    if not base:
        pytest.skip("TEST_MYSQL_URL is not set; password rotation is tested on MariaDB/MySQL")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    user = f"rotating_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'first-password'"))
            database = make_url(base).database
            conn.execute(text(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'"))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"MySQL server at TEST_MYSQL_URL is unreachable: {exc.orig}")
    url = make_url(base).set(username="nobody", password="wrong")
    try:
        yield url.render_as_string(hide_password=False), user
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


def test_a_rotated_password_is_fetched_when_the_database_refuses_the_cached_one(
    mysql_user: tuple[str, str],
) -> None:
    url, user = mysql_user
    source = Source("first-password")
    source.user = user
    database = Database(url, SecretCredentials(source, ttl=10_000))
    admin = create_engine(os.environ["TEST_MYSQL_URL"], isolation_level="AUTOCOMMIT")
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT CURRENT_USER()")).scalar_one().startswith(user)
        # RDS rotates the secret: the server and the secret change, the cache does not.
        with admin.connect() as conn:
            conn.execute(text(f"ALTER USER '{user}'@'%' IDENTIFIED BY 'second-password'"))
        source.password = "second-password"
        database.engine.dispose()  # the next connection is a new login
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert source.reads == 2
    finally:
        database.dispose()
        admin.dispose()


def test_a_wrong_password_that_does_not_rotate_still_fails(
    mysql_user: tuple[str, str],
) -> None:
    url, user = mysql_user
    source = Source("not-the-password")
    source.user = user
    database = Database(url, SecretCredentials(source, ttl=10_000))
    try:
        with pytest.raises(OperationalError), database.engine.connect():
            pass
    finally:
        database.dispose()
