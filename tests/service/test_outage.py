"""The database goes away, or hangs, under live traffic.

A TCP proxy between the app and the real server cuts every connection (a restart, a failover)
or freezes them (connections stay open, nothing comes back: the kernel still acknowledges, so
TCP keepalive never fires). Clients must get 503 problems with ``Retry-After`` within the
configured timeouts, never a 500 or an answer that hangs as long as the stall; traffic must
recover once the database is back, and no acknowledged write may be lost.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from .conftest import Api, get_engine, new_key
from .factories import order

# Small timeouts keep the test short: a hung statement is given up after 1 + 1 s (the client
# grace), a connect after 2 s (libpq's minimum).
TIMEOUTS = {"DB_CONNECT_TIMEOUT": 1, "DB_STATEMENT_TIMEOUT": 1}
# The longest a request may wait on a frozen database: one give-up (2 s; a computation that
# gave up releases its cache lease off the request), with ample room for a loaded CI machine.
ANSWER_BOUND_S = 5.5
# /readyz answers within 2 s whatever the timeouts (docs/api.md), plus room.
READY_BOUND_S = 3.0
FREEZE_S = 7.0
CUT_S = 2.0
SALES = "/api/v1/sales"


class Proxy:
    """Forwards 127.0.0.1:<port> to the database; ``cut``, ``freeze`` and ``restore`` it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut(self) -> None:
        """Close every connection; new ones are closed as soon as they are accepted."""
        with self._lock:
            self._cut = True
            doomed = list(self._open)
        self._drop(*doomed)

    def freeze(self) -> None:
        """Keep every connection open but forward nothing, either way, until ``restore``."""
        self._flowing.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False
        self._flowing.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.cut()
        self._flowing.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            with self._lock:
                refused = self._cut or self._closed
            if refused:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                self._threads.append(pump)
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                # Frozen: hold the bytes, as a stopped server's kernel does.
                self._flowing.wait()
                sink.sendall(data)
        self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                if sock not in self._open:
                    continue
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def proxied(backend: str, database_url: str) -> Iterator[tuple[Proxy, str]]:
    """A proxy in front of the session database, and the database URL through it."""
    if backend == "sqlite":
        pytest.skip("an embedded database has no connection to cut or freeze")
    url = make_url(database_url)
    proxy = Proxy(
        (url.host or "127.0.0.1", url.port or (5432 if backend == "postgresql" else 3306))
    )
    try:
        through = url.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        proxy.close()


@dataclass(frozen=True)
class Answer:
    client: str
    phase: str  # when the request was sent
    ended: str  # when the answer arrived
    status: int
    seconds: float
    problem_type: str | None
    retry_after: str | None
    order_id: str | None


class Traffic:
    """Client threads sending requests in a loop, each answer recorded with its phase."""

    def __init__(self) -> None:
        self.phase = "forward"
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def clients(self) -> set[str]:
        return {thread.name for thread in self._threads}

    def start(self, name: str, send: Callable[[int], tuple[Any, str | None]]) -> None:
        def loop() -> None:
            # Bounded in count as well as by ``stop``.
            for n in range(2000):
                if self._stop.is_set():
                    return
                phase, started = self.phase, time.monotonic()
                response, order_id = send(n)
                problem = response.json if response.mimetype == "application/problem+json" else {}
                self.answers.append(
                    Answer(
                        name,
                        phase,
                        self.phase,
                        response.status_code,
                        time.monotonic() - started,
                        problem.get("type"),
                        response.headers.get("Retry-After"),
                        order_id,
                    )
                )
                time.sleep(0.02)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self._threads), "a request never ended"

    def wait_for_success(self, since: int, timeout: float = 15.0) -> None:
        """Until every client got a 2xx among the answers after index ``since``."""
        clients = self.clients
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = {a.client for a in self.answers[since:] if a.status < 300}
            if ok >= clients:
                return
            time.sleep(0.05)
        raise AssertionError(f"no success after {timeout} s for {clients - ok}")


def _clients(app: Flask, ready_app: Flask, traffic: Traffic) -> None:
    key = new_key(app, "read", "write")
    seed = Api(app.test_client(), key).post("/api/v1/orders", {"orders": [order("seed")]})
    assert seed.status_code == 201

    def writer(name: str) -> Callable[[int], tuple[Any, str | None]]:
        api = Api(app.test_client(), key)

        def send(n: int) -> tuple[Any, str | None]:
            order_id = f"{name}-{n}"
            body = {"orders": [order(order_id, customer_id=f"C-{name}")]}
            return api.post("/api/v1/orders", body), order_id

        return send

    analytics = Api(app.test_client(), key)
    reader = Api(app.test_client(), key)
    ready = ready_app.test_client()
    traffic.start("writer-a", writer("a"))
    traffic.start("writer-b", writer("b"))
    traffic.start(
        "analytics",
        lambda n: (analytics.get(SALES, start="2024-03-01", end="2024-03-31"), None),
    )
    traffic.start("order", lambda n: (reader.get("/api/v1/orders/seed"), None))
    traffic.start("readyz", lambda n: (ready.get("/readyz"), None))


def test_outages_and_hangs_answer_503_in_time_and_lose_no_write(make_app, proxied):
    proxy, url = proxied
    app = make_app(DATABASE_URL=url, **TIMEOUTS)
    # Readiness with the default timeouts (15 s statements): it must answer on time anyway.
    ready_app = make_app(DATABASE_URL=url)
    traffic = Traffic()
    _clients(app, ready_app, traffic)
    try:
        traffic.wait_for_success(0)
        for phase, start, lasting, after in (
            ("cut", proxy.cut, CUT_S, "restored"),
            ("freeze", proxy.freeze, FREEZE_S, "thawed"),
        ):
            traffic.phase = phase
            start()
            time.sleep(lasting)
            mark = len(traffic.answers)
            traffic.phase = after
            proxy.restore()
            traffic.wait_for_success(mark)
    finally:
        proxy.restore()
        traffic.stop()
    answers = traffic.answers

    assert [a for a in answers if a.status not in (200, 201, 503)] == []
    for a in answers:
        if a.status == 503 and a.client != "readyz":
            assert (a.problem_type, a.retry_after) == ("/problems/database-unavailable", "5"), a
    # Requests sent and answered while the database was away could only fail, and quickly.
    for phase in ("cut", "freeze"):
        inside = [a for a in answers if a.phase == a.ended == phase]
        assert {a.client for a in inside} == traffic.clients, phase
        assert {a.status for a in inside} == {503}, phase
    slow = [a for a in answers if a.client != "readyz" and a.seconds > ANSWER_BOUND_S]
    assert slow == []
    slow_ready = [a for a in answers if a.client == "readyz" and a.seconds > READY_BOUND_S]
    assert slow_ready == []

    # Every acknowledged order is stored; a refused one can be sent again safely (orders are
    # idempotent on order_id), and then each is stored exactly once.
    direct = make_app()
    check = Api(direct.test_client(), new_key(direct, "read", "write"))
    acknowledged = {a.order_id for a in answers if a.order_id and a.status in (200, 201)}
    refused = sorted({a.order_id for a in answers if a.order_id and a.status == 503})
    assert refused, "no write was refused during the outage"
    for order_id in sorted(acknowledged):
        assert check.get(f"/api/v1/orders/{order_id}").status_code == 200, order_id
    retried = check.post("/api/v1/orders", {"orders": [order(i) for i in refused[:1000]]})
    assert retried.status_code in (200, 201), retried.json
    totals = check.get(SALES, start="2024-03-01", end="2024-03-31").json["totals"]
    assert totals["orders"] == len(acknowledged | set(refused[:1000])) + 1  # and the seed


def test_an_unreachable_database_answers_503_at_once(make_app, backend):
    if backend == "sqlite":
        pytest.skip("an embedded database is never unreachable")
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    # Nothing listens there now: every connection attempt is refused.
    scheme = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[backend]
    app = make_app(DATABASE_URL=f"{scheme}://user@127.0.0.1:{port}/test", **TIMEOUTS)
    api = Api(app.test_client(), "eak_abc_def")
    started = time.monotonic()
    responses = [
        api.get(SALES, start="2024-03-01", end="2024-03-31"),
        api.get("/api/v1/orders/seed"),
        api.post("/api/v1/orders", {"orders": [order("A1")]}),
    ]
    for response in responses:
        assert response.status_code == 503, response.json
        assert response.json["type"] == "/problems/database-unavailable"
        assert response.headers["Retry-After"] == "5"
    ready = app.test_client().get("/readyz")
    assert (ready.status_code, ready.json["checks"]) == (503, {"database": "unreachable"})
    assert time.monotonic() - started < 1


def test_a_request_waits_for_a_busy_pool_no_longer_than_the_connect_timeout(make_app, backend):
    if backend == "sqlite":
        pytest.skip("SQLite connections are local files: no server to wait for")
    app = make_app(DB_CONNECT_TIMEOUT=0.5)
    api = Api(app.test_client(), new_key(app, "read"))
    # Every pooled connection taken (5 + 5 overflow), as when each waits on a hung server.
    held = [get_engine(app).connect() for _ in range(10)]
    try:
        started = time.monotonic()
        response = api.get("/api/v1/orders/A1")
        waited = time.monotonic() - started
    finally:
        for connection in held:
            connection.close()
    assert response.status_code == 503, response.json
    assert (response.json["type"], response.headers["Retry-After"]) == (
        "/problems/database-unavailable",
        "5",
    )
    assert 0.4 < waited < 1.5
    assert api.get("/api/v1/orders/A1").status_code == 404
