"""A gunicorn worker whose own error answers are problem+json, like every answer of the app.

Gunicorn answers some requests itself, before the app sees them: a request line over
``limit_request_line`` (414), headers over ``limit_request_field_size`` or
``limit_request_fields`` (431), a malformed request (400). Its body is an HTML page, which a
client of this API cannot parse. ``ProblemThreadWorker`` lets gunicorn decide status and
message as usual (its classification and access log stay gunicorn's), catches what it would
write, and writes the same status as an RFC 9457 problem instead.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]
from werkzeug.http import HTTP_STATUS_CODES

from .errors import PROBLEM_BASE, PROBLEM_MIME

_STATUS_LINE = re.compile(rb"^HTTP/1\.1 (\d{3}) ")
_MESSAGE = re.compile(r"</h1>(.*)</body>", re.DOTALL)


class _Captured:
    """Stands in for the client socket while gunicorn writes its error page."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data


def problem_answer(page: bytes) -> bytes | None:
    """Gunicorn's HTML error answer ``page`` as the same status in problem+json, or ``None``
    when it is not one (then it is sent as it was)."""
    status_line = _STATUS_LINE.match(page)
    if status_line is None:
        return None
    status = int(status_line.group(1))
    # The title and type the app gives the same status (``errors._http_exception``).
    title = HTTP_STATUS_CODES.get(status, "Error")
    found = _MESSAGE.search(page.decode("latin-1"))
    detail = html.unescape(found.group(1)).strip() if found else ""
    problem: dict[str, Any] = {
        "type": PROBLEM_BASE + title.lower().replace(" ", "-").replace("'", ""),
        "title": title,
        "status": status,
    }
    if detail:
        problem["detail"] = detail
    body = json.dumps(problem).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: {PROBLEM_MIME}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker, answering its own errors in problem+json."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        answer = problem_answer(captured.data)
        try:
            # Without blocking, as gunicorn writes it: a client that does not read cannot
            # hold the worker's thread.
            util.write_nonblock(client, answer if answer is not None else captured.data)
        except OSError:
            self.log.debug("Failed to send error message.")
