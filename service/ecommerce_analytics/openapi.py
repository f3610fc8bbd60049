"""Build the OpenAPI 3.1 document from the operations declared with ``@endpoint``.

Schemas are pydantic's JSON Schema (draft 2020-12, the dialect OpenAPI 3.1 uses), generated
from the very models that validate requests and serialize responses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api.routing import OPERATIONS, Operation
from .browser_session import COOKIE_NAME
from .config import DEFAULT_MAX_STALENESS_S, DEFAULT_RANKING_MAX_STALENESS_S

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `type` is stable (see docs/api.md).",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation problems: one entry per invalid field.",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string", "description": "JSON Pointer to the field."},
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status"],
}
_STATUS_TEXT = {
    400: "Invalid query parameters (`errors` lists each) or an unanswerable query",
    401: "Missing, malformed, unknown or revoked API key",
    403: "The key lacks the required scope",
    404: "Nothing under this path: an unknown id, or one that is not a valid identifier",
    409: "Conflicts with stored data",
    413: "Body larger than `MAX_CONTENT_LENGTH`",
    415: "Body is not application/json",
    422: "Body failed validation (`validation-error`: `errors` lists every invalid field), or "
    "would take a stored total past what the database holds (`totals-out-of-range`); nothing "
    "was written",
    429: "Rate limit exceeded for this key",
    503: "Database unavailable (`database-unavailable`), or an analytics answer other workers "
    "are still computing after twice `DB_STATEMENT_TIMEOUT` (`answer-not-ready`); retry after "
    "`Retry-After` seconds",
}
_BODY_400 = "Body is not JSON (`malformed-json`)"
_RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer` challenge.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": _RETRY_AFTER},
    503: {"Retry-After": _RETRY_AFTER},
}


_FRESHNESS_TEXT = {
    "live": "Freshness: **live**. The answer reflects every write committed before the request "
    "began (`X-Data-Age: 0.000`).",
    "bounded": "Freshness: **bounded**. The answer may lag the latest writes by up to "
    f"`ANALYTICS_MAX_STALENESS` seconds (default {DEFAULT_MAX_STALENESS_S:g}; an override per "
    "operation id is possible); `X-Data-Age` states by how much at most. A stale answer is "
    "recomputed in the background.",
    "ranked": "Freshness: **ranked** (bounded). This ranking is the costliest figure, so it is "
    "recomputed in the background and may lag the latest writes by up to "
    f"`ANALYTICS_RANKING_MAX_STALENESS` seconds (default {DEFAULT_RANKING_MAX_STALENESS_S:g}; an "
    "override per operation id in `ANALYTICS_MAX_STALENESS` is possible); `X-Data-Age` states "
    "by how much at most.",
}
_FRESHNESS_HEADERS: dict[str, Any] = {
    "X-Cache": {
        "description": "`hit` (this worker's memory), `shared` (computed by another worker "
        "or task) or `miss` (computed by this request).",
        "required": True,
        "schema": {"type": "string", "enum": ["hit", "shared", "miss"]},
    },
    "X-Data-Version": {
        "description": "The data version (count of committed writes) the answer reflects.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "X-Data-Age": {
        "description": "Seconds (three decimals) by which the answer may lag the writes "
        "committed before the request: `0.000` when it lags none.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{3}$"},
    },
}


def _parameters(
    model: type[BaseModel], defs: dict[str, Any], location: str
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        param: dict[str, Any] = {
            "name": name,
            "in": location,
            "required": location == "path" or name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        params.append(param)
    return params


def _problem(status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _operation(op: Operation, refs: dict[Any, Any], defs: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
    }
    description = op.description
    if op.freshness is not None:
        description = f"{description}\n\n{_FRESHNESS_TEXT[op.freshness]}".strip()
    if description:
        spec["description"] = description
    params = _parameters(op.path_params, defs, "path") if op.path_params is not None else []
    if op.query is not None:
        params += _parameters(op.query, defs, "query")
    if params:
        spec["parameters"] = params
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    statuses = set(op.errors)
    if op.scope is not None:
        spec["security"] = [{"bearerAuth": [op.scope]}]
        if op.scope == "read" and op.method == "get":
            # The dashboard's cookie stands in for a key on reads (docs/api.md).
            spec["security"].append({"dashboardSession": []})
        # The key is looked up in the database on every request, so each of these answers
        # 503 during a database outage.
        statuses |= {401, 403, 429, 503}
    else:
        spec["security"] = []
    if op.query is not None:
        statuses.add(400)
    if op.body is not None:
        statuses |= {400, 413, 415, 422}
    responses: dict[str, Any] = {}
    for status, description in sorted(op.responses.items()):
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
        links = {
            link.operation_id: {"operationId": link.operation_id, "parameters": link.parameters}
            for link in op.links
            if link.status == status
        }
        if links:
            responses[str(status)]["links"] = links
        if op.freshness is not None and status == 200:
            responses[str(status)]["headers"] = _FRESHNESS_HEADERS
    for status in sorted(statuses):
        text = _BODY_400 if status == 400 and op.query is None else _STATUS_TEXT[status]
        responses[str(status)] = _problem(status, text)
    spec["responses"] = dict(sorted(responses.items()))
    return spec


def build_document(version: str) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = []
    for op in OPERATIONS:
        if op.body is not None:
            models.append((op.body, "validation"))
        models.append((op.response, "serialization"))
    unique = list(dict.fromkeys(models))
    refs, top = models_json_schema(unique, ref_template=REF_TEMPLATE)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs, defs)
    defs["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "E-commerce analytics API",
            "version": version,
            "description": "Order ingest and sales, product and customer analytics. "
            "Money is a decimal string in the store currency.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API key from `flask --app ecommerce_analytics keys create`; "
                    "scopes `read` and `write`.",
                },
                "dashboardSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": COOKIE_NAME,
                    "description": "Set by signing in at `/dashboard/login` with a key that "
                    "has the `read` scope; authorises reads only, and only without an "
                    "`Authorization` header.",
                },
            },
        },
    }
