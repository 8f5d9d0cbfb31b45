"""``/v1/connections``: CRUD with write-only secrets, and ``ping``.

Settings whose names are secret (``password``, ``client_secret``, ``refresh_token``...)
are stored encrypted and never answered: a document lists only ``secretKeys``, the names
of those that are set. PUT merges ``settings`` into the stored ones (``null`` removes a
key). ``GET /v1/connections/{_id}/ping`` makes one authenticated call through the
connector and answers ``{"code": 200}`` [V]; a refusal answers 422 with the reason [I].
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Request, Response

from bridge.api.context import ApiContext
from bridge.api.documents import (
    check_connection_settings,
    check_connection_type,
    connection_document,
    object_field,
    text_field,
)
from bridge.api.web import (
    ApiError,
    PageRequest,
    json_body,
    json_response,
    paged_response,
)
from bridge.errors import AuthError, BridgeError, ConfigError
from bridge.store import Connection
from bridge.store.repos.connections import split_secrets


def _needs_cipher(ctx: ApiContext, settings: dict[str, object]) -> None:
    _plain, secret = split_secrets(settings)
    if secret and not ctx.store.cipher.configured:
        raise ApiError(
            503,
            "encryption_unavailable",
            "the server has no encryption key (SOAPBRIDGE_SECRET_KEY) to store secrets with",
        )


def list_connections(ctx: ApiContext, request: Request) -> Response:
    page = PageRequest.from_request(request)
    items = ctx.store.connections.all(skip=page.skip, limit=page.limit)
    # One more than the page tells whether a next page exists without a count query.
    total = page.skip + len(items)
    if len(items) == page.limit:
        total += len(ctx.store.connections.all(skip=page.skip + page.limit, limit=1))
    return paged_response(
        request, page, [connection_document(ctx.wiring, c) for c in items], total, exact=False
    )


def get_connection(ctx: ApiContext, request: Request, _id: str) -> Response:
    return json_response(connection_document(ctx.wiring, ctx.connection(_id)))


def create_connection(ctx: ApiContext, request: Request) -> Response:
    body = json_body(request)
    name = text_field(body, "name", required=True)
    kind = check_connection_type(body.get("type"))
    settings = check_connection_settings(object_field(body, "settings"))
    _needs_cipher(ctx, settings)
    try:
        connection = ctx.store.connections.create(name, kind, settings)
    except IntegrityError:
        raise ApiError(
            409, "duplicate_name", f"a connection named {name!r} exists", field="name"
        ) from None
    return json_response(connection_document(ctx.wiring, connection), 201)


def update_connection(ctx: ApiContext, request: Request, _id: str) -> Response:
    connection = ctx.connection(_id)
    ctx.check_writable(connection)
    body = json_body(request)
    if "type" in body and body["type"] != connection.kind:
        raise ApiError(422, "invalid_field", "`type` cannot change", field="type")
    if "name" in body and body["name"] != connection.name:
        raise ApiError(
            422, "invalid_field", "`name` cannot change (integrations refer to it)", field="name"
        )
    settings = check_connection_settings(object_field(body, "settings"))
    _needs_cipher(ctx, settings)
    updated = ctx.store.connections.update(_id, settings)
    return json_response(connection_document(ctx.wiring, updated))


def delete_connection(ctx: ApiContext, request: Request, _id: str) -> Response:
    connection = ctx.connection(_id)
    ctx.check_writable(connection)
    users = ctx.wiring.references(_id)
    if users:
        names = ", ".join(i.name for i in users[:5])
        raise ApiError(409, "in_use", f"the connection is used by integration(s) {names}")
    ctx.store.connections.delete(_id)
    return Response(status=204)


def ping_connection(ctx: ApiContext, request: Request, _id: str) -> Response:
    ping(ctx, ctx.connection(_id))
    return json_response({"code": 200})


def ping(ctx: ApiContext, connection: Connection) -> None:
    """One authenticated call through ``connection``; a 422 refusal saying why it failed."""
    _id = connection.id
    try:
        with ctx.wiring.connector(_id) as connector:
            connector.verify()
    except AuthError as exc:
        raise ApiError(422, "auth_failed", f"credentials refused: {exc}") from None
    except ConfigError as exc:
        raise ApiError(422, "invalid_connection", str(exc)) from None
    except BridgeError as exc:
        raise ApiError(422, "ping_failed", str(exc)) from None
