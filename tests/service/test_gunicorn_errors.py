"""Answers gunicorn gives itself, before the app sees the request, are problem+json too."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _send(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('gunicorn') / 'db.sqlite3'}",
        "MIGRATE_ON_START": "1",
    }
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn_bin),
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
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _send(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0]:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start within 30 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


CASES = [
    (
        "request line too long",
        b"GET /api/v1/orders/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
    ),
    (
        "header too large",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
    ),
    (
        "too many headers",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: 1\r\n" % i for i in range(150))
        + b"\r\n",
        431,
    ),
    ("malformed request line", b"GARBAGE\r\n\r\n", 400),
]


@pytest.mark.parametrize(("raw", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gunicorn_errors_are_problem_json(gunicorn, raw, status):
    got, headers, body = _send(gunicorn, raw)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"].startswith("/problems/")
    assert problem["title"] and "<" not in body.decode()
    assert int(headers["content-length"]) == len(body)


def test_the_app_still_answers_behind_the_worker(gunicorn):
    status, headers, body = _send(
        gunicorn, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert (status, json.loads(body)["status"]) == (200, "ok")
