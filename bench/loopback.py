"""Talking to the service under test, which only ever runs on 127.0.0.1 (``HOST``): ``Http``,
the keep-alive client of the live writer and the staleness probe.
"""

from __future__ import annotations

import http.client
import urllib.parse

HOST = "127.0.0.1"


class Http:
    """One keep-alive HTTP/1.1 connection to the server on 127.0.0.1 with the bench key,
    reopened (and the request sent once more) when it drops. Not thread-safe: one per thread.
    Re-sending a POST is safe here: order ingest is idempotent on ``order_id``."""

    def __init__(self, base: str, key: str, timeout_s: float = 30) -> None:
        parts = urllib.parse.urlsplit(base)
        if parts.hostname != HOST or parts.port is None:
            raise ValueError(f"only http://{HOST}:<port> is served here, got {base!r}")
        self._port = parts.port
        self._timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes, http.client.HTTPMessage]:
        """Status, body and headers; raises ``OSError`` or ``http.client.HTTPException`` when the
        second attempt fails too."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(HOST, self._port, timeout=self._timeout_s)
            try:
                self._conn.request(method, path, body=body, headers=self._headers)
                response = self._conn.getresponse()
                return response.status, response.read(), response.headers
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
