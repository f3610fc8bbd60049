"""``@endpoint``: one declaration gives a route its auth, its validation and its OpenAPI entry.

The pydantic models named here validate the request and serialize the response, and the same
models generate ``/api/v1/openapi.json``, so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ValidationError

from ..auth import authorize
from ..cache import MAX_BODY_BYTES, CachedResponse, current_version, get_cache, get_shared
from ..db import get_db
from ..errors import Problem, validation_problem


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    operation_id: str
    summary: str
    description: str
    tag: str
    scope: str | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel]
    status: int
    errors: tuple[int, ...] = field(default=())


OPERATIONS: list[Operation] = []
_FLASK_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "".join(f"/{part}" for part in loc)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"pointer": _pointer(tuple(e["loc"])), "detail": e["msg"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def parse_query(model: type[BaseModel]) -> BaseModel:
    raw: dict[str, Any] = {}
    for name, values in request.args.lists():
        raw[name] = values[0] if len(values) == 1 else values
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_problem(_errors(exc), status=400) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as application/json.",
        )
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", f"Body is not JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(_errors(exc)) from None


def endpoint(
    bp: Blueprint,
    rule: str,
    *,
    method: str = "GET",
    summary: str,
    scope: str | None,
    response: type[BaseModel],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    cached: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` on ``bp`` at ``rule``; it receives path args plus ``query``/``body``
    models and returns a ``response`` model, or ``(model, status)``.

    ``cached`` (read-only GETs whose answer depends only on the URL and the stored data):
    after authentication, 200 responses are served from the per-worker response cache until
    the next write, behind it from the database-backed shared layer (see ``cache.py``); the
    response says ``X-Cache: hit`` (this worker), ``shared`` (computed by another worker or
    task, or before a restart) or ``miss`` (computed now)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        path = (bp.url_prefix or "") + rule
        OPERATIONS.append(
            Operation(
                path=_FLASK_PARAM.sub(r"{\1}", path),
                method=method.lower(),
                operation_id=fn.__name__,
                summary=summary,
                description=(fn.__doc__ or "").strip(),
                tag=bp.name,
                scope=scope,
                query=query,
                body=body,
                response=response,
                status=status,
                errors=errors,
            )
        )

        def run(path_args: dict[str, Any]) -> CachedResponse:
            kwargs: dict[str, Any] = dict(path_args)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = fn(**kwargs)
            code = status
            if isinstance(result, tuple):
                result, code = result
            return CachedResponse(result.model_dump_json().encode(), code)

        @functools.wraps(fn)
        def view(**path_args: Any) -> Response:
            if scope is not None:
                authorize(scope)
            cache = get_cache() if cached else None
            if cache is None:
                out = run(path_args)
                return Response(out.body, status=out.status, mimetype="application/json")
            # The version is read before any data (with the key, in ``authorize``), so the body
            # is at least that new.
            version: int | None = g.get("data_version")
            if version is None:
                version = current_version(get_db())
            key = request.path + "?" + urlencode(sorted(request.args.items(multi=True)))
            source = "hit"
            shared = get_shared()

            def compute() -> CachedResponse:
                nonlocal source
                if shared is not None:
                    body = shared.load(key, version)
                    if body is not None:
                        source = "shared"
                        return CachedResponse(body, 200)
                source = "miss"
                out = run(path_args)
                if shared is not None and out.status == 200 and len(out.body) <= MAX_BODY_BYTES:
                    shared.save(key, version, out.body)
                return out

            out = cache.get_or_compute(key, version, compute)
            response = Response(out.body, status=out.status, mimetype="application/json")
            response.headers["X-Cache"] = source
            return response

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return fn

    return decorate
