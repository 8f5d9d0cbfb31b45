"""The OpenAPI 3 document of the control plane (served at ``/v1/openapi.json``).

Written by hand next to the handlers and kept true by the tests, which run schemathesis
against a live server with it: every status code, header and body shape a handler can
answer is listed here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bridge.api.jobs import JOB_TYPES
from bridge.api.schemas import SCHEMAS, TIME, ref
from bridge.api.web import MAX_LIMIT, MAX_SKIP
from bridge.store.repos.jobs import STATUSES

JSON = "application/json"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("Errors")}}}


def _ok(description: str, schema: dict[str, Any], **headers: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref(name)}}}


PAGE_HEADERS = {
    "Link": {
        "description": 'RFC 8288 links to the neighbouring pages (rel="next", rel="prev").',
        "schema": {"type": "string"},
    },
    "X-Total-Count": {"description": "Items in all pages.", "schema": {"type": "string"}},
}
AUTH = _error("No valid bearer token.")
MISSING = _error("No such resource.")
INVALID = _error("The request failed validation.")
BAD_JSON = _error("The body is not JSON, or a query parameter is unknown.")
FORBIDDEN = _error("The resource is defined in the config file and read-only here.")

PAGING = [
    {
        "name": "skip",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SKIP},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    },
]
ID = [{"name": "_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _list(schema: str, *, counted: bool = True) -> dict[str, Any]:
    """One page as a bare array; ``X-Total-Count`` only where the handler counts exactly."""
    page = {"type": "array", "items": ref(schema)}
    headers = PAGE_HEADERS if counted else {"Link": PAGE_HEADERS["Link"]}
    return _ok("One page, as a bare array.", page, **headers)


def _paths() -> dict[str, Any]:
    integration = _ok("The integration.", ref("Integration"))
    connection = _ok("The connection.", ref("Connection"))
    return {
        "/v1/tokenInfo": {
            "get": {
                "summary": "Who the token is",
                "responses": {"200": _ok("The token.", ref("TokenInfo")), "401": AUTH},
            }
        },
        "/v1/integrations": {
            "get": {
                "summary": "List integrations",
                "parameters": PAGING,
                "responses": {"200": _list("Integration"), "401": AUTH, "422": INVALID},
            },
            "post": {
                "summary": "Create an integration (install steps made from its settings)",
                "requestBody": _body("IntegrationInput"),
                "responses": {
                    "201": _ok("Created.", ref("Integration")),
                    "400": BAD_JSON,
                    "401": AUTH,
                    "409": _error("The name is taken."),
                    "422": INVALID,
                },
            },
        },
        "/v1/integrations/{_id}": {
            "parameters": ID,
            "get": {
                "summary": "One integration",
                "responses": {"200": integration, "401": AUTH, "404": MISSING},
            },
            "put": {
                "summary": "Change an integration",
                "requestBody": _body("IntegrationUpdate"),
                "responses": {
                    "200": integration,
                    "400": BAD_JSON,
                    "401": AUTH,
                    "403": FORBIDDEN,
                    "404": MISSING,
                    "409": _error("The name is taken, or settings are locked by updateInProgress."),
                    "422": INVALID,
                },
            },
            "delete": {
                "summary": "Delete an integration, its jobs and its Bigin watch channels",
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": AUTH,
                    "403": FORBIDDEN,
                    "404": MISSING,
                },
            },
        },
        "/v1/integrations/{_id}/clone": {
            "parameters": ID,
            "post": {
                "summary": "Clone an integration, swapping connections through connectionMap",
                "requestBody": _body("CloneRequest"),
                "responses": {
                    "201": _ok("The clone.", ref("Integration")),
                    "400": _error("Bad JSON, or a connection left out of connectionMap."),
                    "401": AUTH,
                    "404": MISSING,
                    "409": _error("The name is taken."),
                    "422": INVALID,
                },
            },
        },
        "/v1/integrations/{_id}/install/{step}": {
            "parameters": [
                *ID,
                {
                    "name": "step",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "post": {
                "summary": "Run install step `step` (0-based); the last one moves mode to settings",
                "responses": {
                    "200": integration,
                    "401": AUTH,
                    "404": MISSING,
                    "409": _error("Not installing, or an earlier step is not complete."),
                    "422": _error("The installer function failed."),
                },
            },
        },
        "/v1/integrations/{_id}/run": {
            "parameters": ID,
            "post": {
                "summary": "Start a sync job in the background",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "reconcile": {
                                        "type": "boolean",
                                        "description": "List both sides' ids first and treat "
                                        "linked records that are gone as deleted.",
                                    },
                                    "confirmDeletes": {
                                        "type": "boolean",
                                        "description": "Carry the deletes the mass-delete "
                                        "guard held back.",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": _ok("The job, queued.", ref("Job")),
                    "400": _error("The body is not JSON."),
                    "401": AUTH,
                    "404": MISSING,
                    "409": _error("Install steps are not complete."),
                    "422": _error("The settings do not name both ends, or a flag is not boolean."),
                },
            },
        },
        "/v1/connections": {
            "get": {
                "summary": "List connections (secrets never shown)",
                "parameters": PAGING,
                "responses": {
                    "200": _list("Connection", counted=False),
                    "401": AUTH,
                    "422": INVALID,
                },
            },
            "post": {
                "summary": "Create a connection (secret settings stored encrypted)",
                "requestBody": _body("ConnectionInput"),
                "responses": {
                    "201": _ok("Created.", ref("Connection")),
                    "400": BAD_JSON,
                    "401": AUTH,
                    "409": _error("The name is taken."),
                    "422": INVALID,
                    "503": _error("No encryption key to store secrets with."),
                },
            },
        },
        "/v1/connections/{_id}": {
            "parameters": ID,
            "get": {
                "summary": "One connection",
                "responses": {"200": connection, "401": AUTH, "404": MISSING},
            },
            "put": {
                "summary": "Change a connection's settings",
                "requestBody": _body("ConnectionUpdate"),
                "responses": {
                    "200": connection,
                    "400": BAD_JSON,
                    "401": AUTH,
                    "403": FORBIDDEN,
                    "404": MISSING,
                    "422": INVALID,
                    "503": _error("No encryption key to store secrets with."),
                },
            },
            "delete": {
                "summary": "Delete a connection no integration uses",
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": AUTH,
                    "403": FORBIDDEN,
                    "404": MISSING,
                    "409": _error("Integrations use it."),
                },
            },
        },
        "/v1/connections/{_id}/ping": {
            "parameters": ID,
            "get": {
                "summary": "One authenticated call to the remote system",
                "responses": {
                    "200": _ok(
                        "The remote answered.",
                        {
                            "type": "object",
                            "required": ["code"],
                            "properties": {"code": {"type": "integer", "enum": [200]}},
                        },
                    ),
                    "401": AUTH,
                    "404": MISSING,
                    "422": _error("The remote refused or could not be reached."),
                },
            },
        },
        "/v1/jobs": {
            "get": {
                "summary": "List jobs, newest first",
                "parameters": [
                    *PAGING,
                    {"name": "_integrationId", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(STATUSES)},
                    },
                    {
                        "name": "type",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(JOB_TYPES)},
                    },
                    {"name": "createdAt_gte", "in": "query", "schema": TIME},
                    {"name": "createdAt_lte", "in": "query", "schema": TIME},
                ],
                "responses": {"200": _list("Job"), "401": AUTH, "422": INVALID},
            }
        },
        "/v1/jobs/{_id}": {
            "parameters": ID,
            "get": {
                "summary": "One job: status, counts, timings",
                "responses": {"200": _ok("The job.", ref("Job")), "401": AUTH, "404": MISSING},
            },
        },
        "/v1/jobs/{_id}/joberrors": {
            "parameters": ID,
            "get": {
                "summary": "The record errors of a job",
                "parameters": PAGING,
                "responses": {
                    "200": _list("JobError", counted=False),
                    "401": AUTH,
                    "404": MISSING,
                    "422": INVALID,
                },
            },
        },
    }


BAD_QUERY = _error("An unknown query parameter, or a body that is not JSON.")


TOO_LARGE = _error("The body is over 1 MiB.")


def _with_bad_query(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation refuses unknown query parameters (400), bodies too large (413)."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].setdefault("400", BAD_QUERY)
                if "requestBody" in operation:
                    operation["responses"].setdefault("413", TOO_LARGE)
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    """The document; the webhook and operations endpoints are described in ``info``."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "SoapBridge control plane",
            "version": "1",
            "description": "integrator.io-shaped API of the bridge. Also served, outside "
            "/v1: POST /webhooks/bigin (Bigin watch notifications, checked by channel "
            "token), POST /webhooks/hubspot (HubSpot contact events, checked by signature), "
            "GET /metrics (Prometheus), GET /healthz, GET /readyz.",
        },
        "security": [{"bearer": []}],
        "paths": _with_bad_query(_paths()),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def query_parameters(path: str, method: str) -> frozenset[str] | None:
    """The query parameters the document declares for ``method path`` (an OpenAPI path).

    None for a path the document does not describe (the webhook: Bigin echoes whatever
    query the ``notify_url`` had).
    """
    item = openapi_document()["paths"].get(path)
    if item is None:
        return None
    operation = item.get(method.lower(), {})
    declared = [*item.get("parameters", ()), *operation.get("parameters", ())]
    return frozenset(p["name"] for p in declared if p["in"] == "query")
