"""A WSGI app that behaves like HubSpot's CRM v3 contacts API for one account.

Followed as documented ([V] in ``reference/rest-crms/hubspot.md``): the paths under
``/crm/v3/objects/contacts`` (also ``0-1`` and the ``/crm/objects/2026-03/`` style), list
with ``limit`` (default 10, at most 100), ``after`` and ``properties`` in ascending id
order with no ``paging`` on the last page; ``archived=true`` listing only archived records
with ``archivedAt``; get by id or ``idProperty`` (old ids of merged records answer the
merged record); create 201 and 409 ``Existing ID``; PATCH; DELETE 204 even for unknown ids;
batch read/create/update/upsert/archive of at most 100 inputs with 200/201/207 and
``numErrors``/``errors``; search (:mod:`.search`); properties with ``hasUniqueValue``;
merge (a new id, both old ids point to it); the error JSON (``status``, ``message``,
``correlationId``, ``category``) and ``x-hubspot-correlation-id``; rate limits and OAuth
(:mod:`.access`); webhooks (:mod:`.webhooks`).

Inferred where HubSpot is silent [I]: batch/update and batch/upsert on a custom unique
property report a bad input as its own ``errors`` entry (207) with ``context.ids`` naming
the input, and a unique-value clash as ``VALIDATION_ERROR``; an upsert on ``email`` fails as
a whole at the first bad input ("partial upserts are not supported"); batch/create is
per-record (207) only when every input has an ``objectWriteTraceId``; an email clash inside
an upsert is ``CONFLICT`` with ``Existing ID``; ``limit`` above 100 on the list is clamped;
the archived list keeps records forever (no 90-day purge); search hides a record written
less than ``index_lag`` seconds ago (it does not show the older version).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from bridge.emulators.hubspot import batch
from bridge.emulators.hubspot.access import App, OAuthGrants
from bridge.emulators.hubspot.schema import BASIC_PROPERTIES
from bridge.emulators.hubspot.search import search
from bridge.emulators.hubspot.store import ContactStore, Record, Refused
from bridge.emulators.hubspot.webhooks import WebhookSender
from bridge.emulators.hubspot.wire import Answer, error, to_json
from bridge.emulators.kit.limits import DailyLimit, RollingLimit
from bridge.emulators.kit.rest import FORM_TYPE, BadBody, Request, StartResponse, status_line
from bridge.emulators.kit.server import Faults, Stats

OBJECT_PREFIXES = (
    "/crm/v3/objects/contacts",
    "/crm/v3/objects/0-1",
    "/crm/objects/2026-03/contacts",
    "/crm/objects/2026-03/0-1",
)
PROPERTY_PREFIXES = ("/crm/v3/properties/contacts", "/crm/v3/properties/0-1")


class HubSpotApp:
    """The WSGI callable; ``store``, ``grants``, ``webhooks`` and limits are public for tests."""

    def __init__(
        self,
        store: ContactStore,
        app: App,
        *,
        burst_limit: int = 190,
        oauth_burst_limit: int = 110,
        daily_limit: int = 625_000,
        search_limit: int = 5,
        token_ttl: float = 1800.0,
        faults: Faults | None = None,
        stats: Stats | None = None,
        auth_style: str = "oauth",
        burst_window: float = 10.0,
    ) -> None:
        self.store = store
        self.auth_style = auth_style
        self.app = app
        self.grants = OAuthGrants(app, token_ttl)
        self.faults = faults or Faults()
        self.stats = stats or Stats()
        self.private_burst = RollingLimit(burst_limit, burst_window)
        self.oauth_burst = RollingLimit(oauth_burst_limit, burst_window)
        self.daily = DailyLimit(daily_limit)
        self.search_limit = RollingLimit(search_limit, 1.0)
        self.webhooks = WebhookSender(app)
        store.listeners.append(self.webhooks.on_change)
        self.developer_key = "dev-api-key"

    def close(self) -> None:
        self.webhooks.close()

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        headers = [("x-hubspot-correlation-id", str(uuid.uuid4()))]
        try:
            status, body, more = self._dispatch(request)
        except Answer as exc:
            status, body, more = exc.status, exc.body, exc.headers
        except Refused as exc:
            extra = {"context": exc.context} if exc.context else {}
            failure = error(exc.status, exc.category, exc.message, **extra)
            status, body, more = failure.status, failure.body, []
        except (AttributeError, TypeError, ValueError) as exc:
            # A body of the wrong shape (properties not an object, ids not strings...).
            failure = error(400, "VALIDATION_ERROR", f"Invalid input: {type(exc).__name__}")
            status, body, more = failure.status, failure.body, []
        payload = b"" if body is None else json.dumps(body).encode()
        headers += more
        if body is not None:
            headers.append(("Content-Type", "application/json;charset=utf-8"))
        headers.append(("Content-Length", str(len(payload))))
        start_response(status_line(status), headers)
        return [payload]

    def _dispatch(self, request: Request) -> tuple[int, Any, list[tuple[str, str]]]:
        path = request.path.rstrip("/")
        if path == "/oauth/authorize":
            return self._authorize(request)
        if path in ("/oauth/v1/token", "/oauth/v3/token"):
            if request.method != "POST" or request.content_type != FORM_TYPE:
                raise Answer(
                    400,
                    {
                        "error": "invalid_request",
                        "status": "BAD_REQUEST",
                        "message": "POST a form-encoded body",
                    },
                )
            status, body = self.grants.exchange(request.form())
            if status == 200:
                self.stats.incr("tokens_issued")
            return status, body, [("Cache-Control", "no-store")]
        if path.startswith("/webhooks/v3/"):
            return (*self._webhooks(request, path), [])
        limit_headers = self._admit(request, is_search=path.endswith("/search"))
        for prefix in OBJECT_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                status, body = self._objects(request, path[len(prefix) :].strip("/"))
                return status, body, limit_headers
        for prefix in PROPERTY_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                status, body = self._properties(request, path[len(prefix) :].strip("/"))
                return status, body, limit_headers
        raise error(404, "OBJECT_NOT_FOUND", f"No route for {request.method} {path}")

    # -- auth and limits -------------------------------------------------------------

    def _admit(self, request: Request, *, is_search: bool) -> list[tuple[str, str]]:
        token = request.bearer()
        private = token is not None and token == self.app.private_token
        if not private:
            state = self.grants.tokens.check(token)
            if state == "expired":
                raise error(
                    401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired."
                )
            if state != "ok":
                raise Answer(
                    401,
                    error(
                        401, "INVALID_AUTHENTICATION", "Authentication credentials not found."
                    ).body,
                    [("x-hubspot-auth-failure", "401 Unauthorized")],
                )
        self.faults.delay()
        if self.faults.throttled():
            raise Answer(
                429,
                {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
                [("Retry-After", self.faults.retry_after_header())],
            )
        if self.faults.roll():
            raise error(502, "BAD_GATEWAY", "The server encountered a temporary error")
        if is_search:
            if self.search_limit.take() is None:
                raise self._limited("You have reached your secondly limit.", "SECONDLY")
            return []
        burst = self.private_burst if private else self.oauth_burst
        left = burst.take()
        headers: list[tuple[str, str]] = []
        if burst.limit > 0:  # an unlimited emulator sends no limit headers
            headers = [
                ("X-HubSpot-RateLimit-Max", str(burst.limit)),
                ("X-HubSpot-RateLimit-Remaining", str(max(left or 0, 0))),
                ("X-HubSpot-RateLimit-Interval-Milliseconds", str(int(burst.window * 1000))),
            ]
        if left is None:
            raise self._limited(
                "You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING", headers
            )
        if private and self.daily.limit > 0:
            daily_left = self.daily.take()
            headers += [
                ("X-HubSpot-RateLimit-Daily", str(self.daily.limit)),
                ("X-HubSpot-RateLimit-Daily-Remaining", str(max(daily_left or 0, 0))),
            ]
            if daily_left is None:
                raise self._limited("You have reached your daily limit.", "DAILY", headers)
        return headers

    def _limited(
        self, message: str, policy: str, headers: list[tuple[str, str]] | None = None
    ) -> Answer:
        body = {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": f"publicapi:api-calls:{self.app.portal_id}",
        }
        return Answer(429, body, headers)

    def _authorize(self, request: Request) -> tuple[int, Any, list[tuple[str, str]]]:
        if request.query.get("client_id") != self.app.client_id or not request.query.get(
            "redirect_uri"
        ):
            raise Answer(
                400, {"status": "error", "message": "unknown client_id or no redirect_uri"}
            )
        redirect = request.query["redirect_uri"]
        params = {"code": self.grants.authorize(redirect)}
        if request.query.get("state"):
            params["state"] = request.query["state"]
        joiner = "&" if "?" in redirect else "?"
        return 302, None, [("Location", redirect + joiner + urlencode(params))]

    # -- bodies ----------------------------------------------------------------------

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except BadBody as exc:
            raise error(400, "VALIDATION_ERROR", str(exc)) from None
        if not isinstance(body, dict):
            raise error(400, "VALIDATION_ERROR", "The request body must be a JSON object")
        return body

    def _properties_of(self, raw: str | None) -> list[str]:
        return [p for p in raw.split(",") if p] if raw else list(BASIC_PROPERTIES)

    def render(self, record: Record, properties: Iterable[str]) -> dict[str, Any]:
        return to_json(record, properties, self.app.portal_id)

    # -- objects ---------------------------------------------------------------------

    def _objects(self, request: Request, rest: str) -> tuple[int, Any]:
        method = request.method
        if rest == "" and method == "GET":
            return 200, self._list(request)
        if rest == "" and method == "POST":
            record = self.store.create(self._body(request).get("properties") or {})
            return 201, self.render(record, record.props)
        if rest == "search" and method == "POST":
            page, names, extras = search(self.store, self._body(request))
            return 200, {**extras, "results": [self.render(r, names) for r in page]}
        if rest == "merge" and method == "POST":
            body = self._body(request)
            record = self.store.merge(
                self._number(body.get("primaryObjectId")), self._number(body.get("objectIdToMerge"))
            )
            return 200, self.render(record, record.props)
        if rest.startswith("batch/") and method == "POST":
            return batch.handle(self, rest[6:], self._body(request), request.query)
        if "/" in rest or not rest:
            raise error(404, "OBJECT_NOT_FOUND", f"No route for {method} {request.path}")
        if method == "GET":
            found = self.find(
                rest, request.query.get("idProperty"), request.query.get("archived") == "true"
            )
            if found is None:
                raise error(
                    404,
                    "OBJECT_NOT_FOUND",
                    "Object not found.  objectId are usually numeric.",
                    context={"id": [rest]},
                )
            return 200, self.render(found, self._properties_of(request.query.get("properties")))
        if method == "PATCH":
            target = self.find(rest, request.query.get("idProperty"), False)
            if target is None:
                raise error(
                    404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric."
                )
            updated = self.store.update(target.id, self._body(request).get("properties") or {})
            return 200, self.render(updated, updated.props)
        if method == "DELETE":
            if rest.isdigit():
                self.store.archive(int(rest))
            return 204, None
        raise error(405, "VALIDATION_ERROR", f"{method} is not allowed here")

    @staticmethod
    def _number(value: Any) -> int:
        text = str(value or "")
        if not text.isdigit():
            raise error(400, "VALIDATION_ERROR", f"{text!r} is not an object id")
        return int(text)

    def find(self, key: str, id_property: str | None, archived: bool) -> Record | None:
        if id_property and id_property != "hs_object_id":
            prop = self.store.properties.get(id_property)
            if prop is None or not prop.unique:
                raise error(400, "VALIDATION_ERROR", f"{id_property} is not a unique property")
            return None if archived else self.store.by_unique(id_property, key)
        if not key.isdigit():
            return None
        if archived:
            return self.store.archived.get(int(key))
        return self.store.resolve(int(key))

    def _list(self, request: Request) -> dict[str, Any]:
        query = request.query
        try:
            limit = min(max(int(query.get("limit") or 10), 1), 100)
            after = int(query.get("after") or 0)
        except ValueError:
            raise error(400, "VALIDATION_ERROR", "limit and after must be numbers") from None
        archived = query.get("archived") == "true"
        fetch = self.store.archived_page if archived else self.store.page
        records, next_after = fetch(after, limit)
        names = self._properties_of(query.get("properties"))
        body: dict[str, Any] = {"results": [self.render(r, names) for r in records]}
        if next_after is not None:
            link = f"{request.path}?{urlencode({**query, 'after': str(next_after)})}"
            body["paging"] = {"next": {"after": str(next_after), "link": link}}
        return body

    # -- properties and webhooks -----------------------------------------------------

    def _properties(self, request: Request, rest: str) -> tuple[int, Any]:
        if not rest and request.method == "GET":
            return 200, {"results": [p.to_json() for p in self.store.properties.values()]}
        if not rest and request.method == "POST":
            return 201, self.store.define(self._body(request)).to_json()
        prop = self.store.properties.get(rest)
        if request.method == "GET" and prop is not None:
            return 200, prop.to_json()
        raise error(404, "OBJECT_NOT_FOUND", f"Unable to find property {rest}")

    def _webhooks(self, request: Request, path: str) -> tuple[int, Any]:
        if request.query.get("hapikey") != self.developer_key:
            raise error(401, "INVALID_AUTHENTICATION", "The developer API key is missing or wrong")
        tail = path.split("/", 4)[-1]
        try:
            if tail == "settings" and request.method == "PUT":
                self.webhooks.set_target(str(self._body(request).get("targetUrl") or ""))
                return 200, {"targetUrl": self.webhooks.target_url}
            if tail == "settings" and request.method == "GET":
                return 200, {"targetUrl": self.webhooks.target_url}
            if tail == "subscriptions" and request.method == "POST":
                return 201, self.webhooks.subscribe(self._body(request))
            if tail == "subscriptions" and request.method == "GET":
                return 200, {"results": list(self.webhooks.subscriptions.values())}
        except ValueError as exc:
            raise error(400, "VALIDATION_ERROR", str(exc)) from None
        raise error(404, "OBJECT_NOT_FOUND", f"No route for {request.method} {path}")
