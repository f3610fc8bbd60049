"""``@endpoint``: one declaration gives a route its auth, its validation and its OpenAPI entry.

The pydantic models named here validate the request and serialize the response, and the same
models generate ``/api/v1/openapi.json``, so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth import authorize
from ..cache import CachedResponse, Served, Snapshots, current_version, get_snapshots
from ..config import StalenessBounds
from ..db import get_db
from ..errors import Problem, validation_problem

# ``live``: the answer reflects every write committed before the request began.
# ``bounded``: it may lag them by up to ``ANALYTICS_MAX_STALENESS`` seconds (its age is stated).
# ``ranked``: bounded too, by ``ANALYTICS_RANKING_MAX_STALENESS``: the figures that score every
# customer, whose computation grows with the customers (RFM: seconds at millions of them).
Freshness = Literal["live", "bounded", "ranked"]
BOUNDS_KEY = "ecommerce_analytics.staleness_bounds"


def bounded_operations(*kinds: Freshness) -> list[str]:
    """Operation ids whose answers may be served stale (``freshness`` ``bounded`` or
    ``ranked``; only those of ``kinds`` when given)."""
    wanted = kinds or ("bounded", "ranked")
    return [op.operation_id for op in OPERATIONS if op.freshness in wanted]


def register_staleness_bounds(app: Flask) -> None:
    """Parse ``ANALYTICS_MAX_STALENESS`` and ``ANALYTICS_RANKING_MAX_STALENESS`` against the
    registered bounded operations."""
    app.extensions[BOUNDS_KEY] = StalenessBounds.parse(
        app.config.get("ANALYTICS_MAX_STALENESS", 0),
        bounded_operations(),
        ranking=app.config.get("ANALYTICS_RANKING_MAX_STALENESS", 0),
        ranked=bounded_operations("ranked"),
    )


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: after a ``status`` response, ``operation_id`` can be called with
    ``parameters``, runtime expressions such as ``$response.body#/order_id``."""

    status: int
    operation_id: str
    parameters: dict[str, str]


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
    # Every status answered with ``response``, with its meaning.
    responses: dict[int, str]
    path_params: type[BaseModel] | None = None
    errors: tuple[int, ...] = field(default=())
    links: tuple[Link, ...] = field(default=())
    freshness: Freshness | None = None


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


def parse_path(model: type[BaseModel], args: dict[str, Any], noun: str) -> None:
    """Check path parameters before the key and any database access. A value ``model`` refuses
    can never have been stored (bodies use the same types), so it is answered like an unknown
    one: ``404 <noun>-not-found``, as the router answers a path it does not know."""
    try:
        model.model_validate(args)
    except ValidationError:
        shown = ", ".join(repr(str(value)[:80]) for value in args.values())
        raise Problem(
            404, f"{noun}-not-found", f"{noun.capitalize()} not found", f"No {noun} {shown}."
        ) from None


def _read_body() -> bytes:
    """The request body, refused with 413 when longer than ``MAX_CONTENT_LENGTH``.

    With a Content-Length werkzeug refuses an oversized body before reading it. A chunked body
    has none: the server marks the stream terminated and werkzeug reads it up to the limit,
    then stops without a word, so a longer body would arrive cut and be misreported as
    malformed JSON. One byte more than the limit is the proof it was longer."""
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    return raw


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as application/json.",
        )
    raw = _read_body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", f"Body is not JSON: {exc}") from None
    except RecursionError:
        raise Problem(
            400, "malformed-json", "Malformed JSON", "Body is nested too deeply to be an order."
        ) from None
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
    path: type[BaseModel] | None = None,
    not_found: str = "resource",
    status: int = 200,
    responses: dict[int, str] | None = None,
    errors: tuple[int, ...] = (),
    links: tuple[Link, ...] = (),
    freshness: Freshness | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` on ``bp`` at ``rule``; it receives path args plus ``query``/``body``
    models and returns a ``response`` model, or ``(model, status)``.

    ``path`` validates the rule's parameters (a refused value is a 404 ``<not_found>-not-found``
    problem); ``responses`` documents each status ``fn`` answers with a ``response`` model
    (default: ``status`` alone); ``errors`` lists the problem statuses ``fn`` itself raises.

    ``freshness`` (read-only GETs whose answer depends only on the URL and the stored data):
    after authentication, the answer is served from the answers kept between requests
    (``cache``): ``live`` ones only while no write has committed since, ``bounded`` and
    ``ranked`` ones while no older than the endpoint's bound (``StalenessBounds``). Headers:
    ``X-Cache: hit`` (this worker), ``shared`` (another worker or task, or before a restart)
    or ``miss`` (computed now); ``X-Data-Version``, the data version the answer reflects;
    ``X-Data-Age``, seconds by which it may lag the writes committed before the request
    (``0``: it lags none)."""

    names = set(_FLASK_PARAM.findall(rule))
    if names != set(path.model_fields if path is not None else ()):
        raise ValueError(f"{rule}: declare its path parameters {sorted(names)} with `path=`")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPERATIONS.append(
            Operation(
                path=_FLASK_PARAM.sub(r"{\1}", (bp.url_prefix or "") + rule),
                method=method.lower(),
                operation_id=fn.__name__,
                summary=summary,
                # Dedented: the document's descriptions are Markdown, where indentation is code.
                description=inspect.cleandoc(fn.__doc__ or ""),
                tag=bp.name,
                scope=scope,
                query=query,
                body=body,
                response=response,
                responses=responses or {status: "OK"},
                path_params=path,
                errors=errors,
                links=links,
                freshness=freshness,
            )
        )

        def parse(path_args: dict[str, Any]) -> dict[str, Any]:
            kwargs: dict[str, Any] = dict(path_args)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            return kwargs

        def call(kwargs: dict[str, Any]) -> CachedResponse:
            result = fn(**kwargs)
            code = status
            if isinstance(result, tuple):
                result, code = result
            return CachedResponse(result.model_dump_json().encode(), code)

        @functools.wraps(fn)
        def view(**path_args: Any) -> Response:
            if path is not None:
                parse_path(path, path_args, not_found)
            if scope is not None:
                authorize(scope)
            # Validated before any answer is looked up: a refused request costs no cache work.
            kwargs = parse(path_args)
            if freshness is None:
                out = call(kwargs)
                return Response(out.body, status=out.status, mimetype="application/json")
            # The version is read before any data (with the key, in ``authorize``), so the
            # answer is at least that new.
            version: int | None = g.get("data_version")
            read_at: float = g.get("data_version_read_at", 0.0)
            if version is None:
                read_at = time.time()
                version = current_version(get_db())
            snapshots = get_snapshots()
            if snapshots is None:
                out = call(kwargs)
                served = Served(out.body, out.status, "miss", version, 0.0)
            else:
                served = serve(snapshots, version, read_at, kwargs)
            response = Response(served.body, status=served.status, mimetype="application/json")
            response.headers["X-Cache"] = served.source
            response.headers["X-Data-Version"] = str(served.version)
            response.headers["X-Data-Age"] = f"{served.age:.3f}"
            return response

        def serve(
            snapshots: Snapshots, version: int, read_at: float, kwargs: dict[str, Any]
        ) -> Served:
            key = request.path + "?" + urlencode(sorted(request.args.items(multi=True)))
            bound = 0.0
            if freshness != "live":
                bounds: StalenessBounds = current_app.extensions[BOUNDS_KEY]
                bound = bounds.for_operation(fn.__name__)
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            # Immutable, so it can outlive the request.
            path_text, query_args = request.path, request.args

            def refresh() -> None:
                # On the refresh thread, after this request ended: a context of its own.
                with app.test_request_context(path_text, query_string=query_args):
                    try:
                        snapshots.refresh_now(key, current_version(get_db()), compute)
                    except Problem:
                        pass  # no longer answerable (e.g. as_of now before the latest order)

            def compute() -> CachedResponse:
                return call(kwargs)

            read_s_ago = time.time() - read_at
            return snapshots.serve(
                key, version, bound, compute, refresh, read_s_ago, keep_warm=freshness == "ranked"
            )

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return fn

    return decorate
