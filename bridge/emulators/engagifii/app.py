"""A WSGI app that behaves like the Engagifii CRM API (people and organizations).

Documented behaviour it follows (see ``reference/rest-crms/engagifii.md``, [V] there):
``POST /oauth/token`` with a form body and ``grant_type=client_credentials``; Bearer tokens
that expire; a ``tenant-code`` header on every API call; the RPC-style people paths
(``PeoplePagingList``, ``CreatePersonInline/{organizationId}``, ``UpdatePersonHeader/{id}``,
``GET people/{id}``) matched case-insensitively; ``application/json`` and
``application/json-patch+json`` bodies; the paging envelope ``{data, totalCount, pageIndex,
pageSize, hasNextPage}`` with a 0-based ``pageIndex``; the error envelope ``{"error": {code,
message, details[], timestamp, requestId, path, method}}``.

Chosen where the vendor is silent (inferred):
- Token errors use the OAuth2 shape (``{"error": "invalid_client", ...}``, 400/401); the
  token answer is ``{access_token, token_type: "Bearer", expires_in}`` with no refresh token.
- API errors: 401 ``UNAUTHORIZED`` (missing/unknown token) or ``TOKEN_EXPIRED``; 400
  ``TENANT_REQUIRED`` without ``tenant-code``; 403 ``TENANT_ACCESS_DENIED`` for a tenant
  the client may not use; 404 ``NOT_FOUND``; 400 ``VALIDATION_ERROR`` with ``details``;
  415 ``UNSUPPORTED_MEDIA_TYPE``; 429 ``RATE_LIMIT_EXCEEDED`` with ``Retry-After`` and
  ``X-RateLimit-Limit/Remaining/Reset``; 503 ``SERVICE_UNAVAILABLE`` (injected faults).
- The rate limit counts API calls per rolling minute window for the whole app
  (1,000 by default, the figure the getting-started guide gives; configurable).
- ``organizationId`` ``00000000-0000-0000-0000-000000000000`` creates a person without
  an organization; ``DELETE /api/v1/people/{id}`` exists (the documented model only has
  ``isActive``, which ``UpdatePersonHeader`` can clear: the soft delete).
- See :mod:`bridge.emulators.engagifii.store` for paging order and filter keys.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bridge.emulators.engagifii.store import EngagifiiStore, Tenant, ValidationFailed, iso
from bridge.emulators.kit import utc_now
from bridge.emulators.kit.rest import FORM_TYPE, BadBody, Request, StartResponse, json_response
from bridge.emulators.kit.restapp import RestApp, RestParts
from bridge.emulators.kit.tokens import same_secret

API = "/api/v1/"


@dataclass(slots=True)
class IssuedClient:
    """An API client the administrator issued, and the tenants it may use."""

    client_id: str = "engagifii-client"
    client_secret: str = field(default="engagifii-secret", repr=False)
    tenants: tuple[str, ...] = ("emulator", "second-tenant")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or []


def _not_found(what: str, record_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} {record_id} was not found")


Handler = Callable[[Request, Tenant, str], tuple[int, Any]]


class EngagifiiApp(RestApp):
    """The WSGI callable. ``store``, ``tokens`` and ``throttle`` are public for tests."""

    def __init__(self, store: EngagifiiStore, client: IssuedClient, parts: RestParts) -> None:
        super().__init__(parts)
        self.store = store
        self.client = client
        # (method, first path segments) -> handler taking the remaining segment.
        self._routes: dict[tuple[str, str], Handler] = {
            ("POST", "people/peoplepaginglist"): self._people_page,
            ("GET", "people"): self._person_get,
            ("DELETE", "people"): self._person_delete,
            ("POST", "people/createpersoninline"): self._person_create,
            ("PUT", "people/updatepersonheader"): self._person_update,
            ("POST", "people/searchpeoplelist"): self._people_search,
            ("POST", "organization/organizationpaginglist"): self._org_page,
            ("GET", "organization"): self._org_get,
            ("POST", "organization"): self._org_create,
        }

    @property
    def modified_filter(self) -> bool:
        """Whether ``PeoplePagingList`` honours ``filter.modifiedDate`` (else ignores it)."""
        return self.store.modified_filter

    @modified_filter.setter
    def modified_filter(self, value: bool) -> None:
        self.store.modified_filter = value

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        path = request.path.rstrip("/").lower()
        if path == "/oauth/token":
            return self._token(request, start_response)
        if not path.startswith(API):
            return self._error(start_response, request, ApiError(404, "NOT_FOUND", "No route"))
        try:
            status, body, headers = self._api(request, path[len(API) :])
        except ApiError as exc:
            return self._error(start_response, request, exc)
        return json_response(start_response, status, body, headers)

    def _api(self, request: Request, route: str) -> tuple[int, Any, list[tuple[str, str]]]:
        self._authenticate(request)
        tenant = self._tenant(request)
        self.faults.delay()
        retry_after, left = self.refused()
        limit_headers = self._limit_headers(left)
        if retry_after is not None:
            raise ApiError(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded; retry after the time in Retry-After",
                headers=[("Retry-After", retry_after), *limit_headers],
            )
        if self.faults.roll():
            raise ApiError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable")
        handler, rest = self._route(request.method, route)
        status, body = handler(request, tenant, rest)
        return status, body, limit_headers

    def _route(self, method: str, route: str) -> tuple[Handler, str]:
        segments = route.split("/")
        for cut in (2, 1):
            key = (method, "/".join(segments[:cut]))
            if key in self._routes and len(segments) <= cut + 1:
                return self._routes[key], "/".join(segments[cut:])
        raise ApiError(404, "NOT_FOUND", f"No route for {method} {API}{route}")

    def _limit_headers(self, left: int) -> list[tuple[str, str]]:
        if not self.throttle.limit:
            return []
        return [
            ("X-RateLimit-Limit", str(self.throttle.limit)),
            ("X-RateLimit-Remaining", str(max(left, 0))),
            # Epoch seconds when the window ends (the window itself runs on a monotonic clock).
            ("X-RateLimit-Reset", str(int(time.time() + self.throttle.reset_in()))),
        ]

    def _error(self, start_response: StartResponse, request: Request, exc: ApiError) -> list[bytes]:
        body = {
            "error": {
                "code": exc.code,
                "message": exc.message,
                "details": exc.details,
                "timestamp": iso(utc_now()),
                "requestId": f"req-{uuid.uuid4()}",
                "path": request.path,
                "method": request.method,
            }
        }
        return json_response(start_response, exc.status, body, exc.headers)

    # -- auth ------------------------------------------------------------------------

    def _token(self, request: Request, start_response: StartResponse) -> list[bytes]:
        if request.method != "POST":
            return json_response(start_response, 405, {"error": "invalid_request"})
        if request.content_type != FORM_TYPE:
            body = {"error": "invalid_request", "error_description": "form body expected"}
            return json_response(start_response, 400, body)
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            body = {"error": "unsupported_grant_type", "error_description": "client_credentials"}
            return json_response(start_response, 400, body)
        ok_id = same_secret(form.get("client_id", ""), self.client.client_id)
        ok_secret = same_secret(form.get("client_secret", ""), self.client.client_secret)
        if not (ok_id and ok_secret):
            body = {"error": "invalid_client", "error_description": "Client authentication failed"}
            return json_response(start_response, 401, body)
        token = self.tokens.issue("client_credentials", self.client.client_id, scope="crm")
        return self.token_answer(start_response, token)

    def _authenticate(self, request: Request) -> None:
        state = self.tokens.check(request.bearer())
        if state == "expired":
            raise ApiError(
                401,
                "TOKEN_EXPIRED",
                "The access token has expired",
                headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')],
            )
        if state != "ok":
            raise ApiError(
                401,
                "UNAUTHORIZED",
                "A valid bearer token is required",
                headers=[("WWW-Authenticate", "Bearer")],
            )

    def _tenant(self, request: Request) -> Tenant:
        code = request.header("tenant-code").strip()
        if not code:
            raise ApiError(400, "TENANT_REQUIRED", "The tenant-code header is required")
        tenant = self.store.tenant(code)
        allowed = {t.lower() for t in self.client.tenants}
        if tenant is None or code.lower() not in allowed:
            raise ApiError(403, "TENANT_ACCESS_DENIED", f"No access to tenant {code!r}")
        return tenant

    # -- bodies ----------------------------------------------------------------------

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if not request.is_json():
            raise ApiError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "Use application/json or application/json-patch+json",
            )
        try:
            body = request.json()
        except BadBody as exc:
            raise ApiError(400, "VALIDATION_ERROR", str(exc)) from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
        return body

    @staticmethod
    def _paging(body: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
        try:
            index = int(body.get("pageIndex") or 0)
            size = int(body.get("pageSize") or 50)
        except (TypeError, ValueError):
            detail = {"field": "pageIndex", "message": "must be a number", "code": "INVALID_TYPE"}
            raise ApiError(400, "VALIDATION_ERROR", "Invalid paging", [detail]) from None
        flt = body.get("filter")
        return index, size, flt if isinstance(flt, dict) else {}

    @staticmethod
    def _write(
        status: int, write: Callable[[], Any], missing: Callable[[], ApiError] | None = None
    ) -> tuple[int, Any]:
        """``write()``'s record with ``status``; invalid data answers 400
        ``VALIDATION_ERROR`` with the store's details, an unknown id ``missing()``."""
        try:
            return status, write()
        except ValidationFailed as exc:
            message = "The request contains invalid data"
            raise ApiError(400, "VALIDATION_ERROR", message, exc.details) from None
        except KeyError:
            if missing is None:
                raise
            raise missing() from None

    @staticmethod
    def _found(record: dict[str, Any] | None, what: str, record_id: str) -> tuple[int, Any]:
        """200 with the record, or 404 ``NOT_FOUND`` naming what was looked for."""
        if record is None:
            raise _not_found(what, record_id)
        return 200, record

    @staticmethod
    def _envelope(page: list[dict[str, Any]], total: int, index: int, size: int) -> Any:
        """The paging envelope, with a 0-based ``pageIndex``."""
        return {
            "data": page,
            "totalCount": total,
            "pageIndex": index,
            "pageSize": size,
            "hasNextPage": (index + 1) * size < total,
        }

    # -- people ----------------------------------------------------------------------

    def _people_page(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        if rest:
            raise ApiError(404, "NOT_FOUND", "No route")
        index, size, flt = self._paging(self._body(request))
        page, total, used = self.store.page_people(tenant, flt, index, size)
        return 200, self._envelope(page, total, index, used)

    def _person_get(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        return self._found(self.store.get_person(tenant, rest) if rest else None, "Person", rest)

    def _person_delete(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        if not rest or not self.store.delete_person(tenant, rest):
            raise _not_found("Person", rest)
        return 200, {"id": rest, "deleted": True}

    def _person_create(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        body = self._body(request)
        missing = functools.partial(_not_found, "Organization", rest)  # made when needed
        return self._write(201, lambda: self.store.create_person(tenant, rest, body), missing)

    def _person_update(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        body = self._body(request)
        missing = functools.partial(_not_found, "Person", rest)
        return self._write(200, lambda: self.store.update_person(tenant, rest, body), missing)

    def _people_search(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        found = self.store.search_people(tenant, rest)
        return 200, {"data": found, "totalCount": len(found)}

    # -- organizations ---------------------------------------------------------------

    def _org_page(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        index, size, flt = self._paging(self._body(request))
        size = min(max(size, 1), 100)
        orgs = self.store.list_orgs(tenant, flt)
        page = orgs[index * size : (index + 1) * size]
        return 200, self._envelope(page, len(orgs), index, size)

    def _org_get(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        return self._found(self.store.get_org(tenant, rest) if rest else None, "Organization", rest)

    def _org_create(self, request: Request, tenant: Tenant, rest: str) -> tuple[int, Any]:
        if rest:
            raise ApiError(404, "NOT_FOUND", "No route")
        body = self._body(request)
        return self._write(201, lambda: self.store.create_org(tenant, body))
