"""A WSGI app that behaves like the Egito CRM REST API (contacts, accounts, dictionaries).

Documented behaviour it follows (``reference/rest-crms/egito.md``, [V] there): the OAuth2
password grant at ``POST /oauth/token`` with its parameters in the query string (the
vendor's example) or a form body, answered in the Spring Security OAuth2 shape (UUID
tokens, ``token_type: "bearer"``, a refresh token, ``scope: "write read"``); Bearer
tokens on ``/services/restapi/json/{Module}/{create,get,update,list,delete}``; JSON
bodies and browser-style form posts alike; ``{"id": ...}`` on success and
``{"errors": [...]}`` on failure; ``SelectDictionary/list?type=...``.

Chosen where the vendor is silent (inferred), and what the connector is built to survive:
- Failures answer HTTP 200 with ``{"errors": [{"message", "code", "field"?}]}`` (set
  ``error_status`` to e.g. 400 to answer with that instead); an unknown id is code
  ``notFound``. With ``error_items="strings"`` the items are bare messages
  (``{"errors": ["Pole nazwa jest wymagane"]}``), the other shape the vendor's wording
  allows. Token problems use Spring's shape: 401 ``invalid_token``
  ("Access token expired: ..." or "Invalid access token: ..."), 400 ``invalid_grant``
  ("Bad credentials"), 401 ``invalid_client``.
- The refresh grant (``grant_type=refresh_token``) works and answers a new refresh token
  too; client credentials may also come as HTTP Basic (Spring's default).
- Every operation takes its parameters from the query string and the body together (the
  body wins), by GET or POST. ``get``/``update``/``delete`` take ``id``.
- ``list`` takes ``start`` (0-based offset), ``limit`` (default 50, at most 100),
  ``modifiedFrom`` (records whose ``modifyDate`` is at or after it: local time, or ISO-8601
  with an offset) and equality filters ``email``, ``externalId`` (``name`` for accounts);
  it answers ``{"data": [...], "total": N}`` ordered by id, so updates do not move records.
  Started with ``modified_filter=False`` it ignores ``modifiedFrom``.
- Dictionaries answer a JSON array of ``{"id", "name"}``.
- No rate limit is documented; one can be switched on (requests per minute) and random
  429s injected, answered with ``Retry-After`` and ``{"errors": [{"code": "rateLimit"}]}``.
- Injected server faults answer 503 with an HTML page, as a proxy in front would.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bridge.emulators.egito.store import EgitoStore, Invalid, Missing
from bridge.emulators.kit.rest import BadBody, Request, StartResponse, json_response
from bridge.emulators.kit.restapp import RestApp, RestParts
from bridge.emulators.kit.tokens import same_secret

API = "/services/restapi/json/"
MODULES = {"contact": "Contact", "account": "Account"}
OPERATIONS = ("create", "get", "update", "list", "delete")
ERROR_ITEMS = ("objects", "strings")


@dataclass(slots=True)
class EgitoAccount:
    """The API client (``API_ID``/``API_SECRET``) and the API user it logs in as."""

    client_id: str = "egito-api-id"
    client_secret: str = field(default="egito-api-secret", repr=False)
    username: str = "api@emulator"
    password: str = field(default="egito-password", repr=False)
    instance: str = "emulator"


class EgitoApp(RestApp):
    """The WSGI callable; ``store``, ``tokens`` and ``throttle`` are public for tests."""

    def __init__(
        self,
        store: EgitoStore,
        account: EgitoAccount,
        parts: RestParts,
        *,
        error_status: int = 200,
        error_items: str = "objects",
        modified_filter: bool = True,
    ) -> None:
        if error_items not in ERROR_ITEMS:
            raise ValueError(f"error_items must be one of {ERROR_ITEMS}")
        super().__init__(parts)
        self.store = store
        self.account = account
        self.error_status = error_status
        self.error_items = error_items
        self.modified_filter = modified_filter

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        path = request.path.rstrip("/")
        if path.lower() == "/oauth/token":
            return self._token(request, start_response)
        if not path.lower().startswith(API):
            return json_response(start_response, 404, {"errors": [{"message": "Not Found"}]})
        token = request.bearer() or request.query.get("access_token")
        state = self.tokens.check(token)
        if state != "ok":
            description = (
                "Access token expired: " if state == "expired" else "Invalid access token: "
            ) + ((token or "")[:8] + "..." if token else "none")
            headers = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
            body: dict[str, Any] = {"error": "invalid_token", "error_description": description}
            return json_response(start_response, 401, body, headers)
        self.faults.delay()
        retry_after, _left = self.refused()
        if retry_after is not None:
            body = {"errors": [{"code": "rateLimit", "message": "Zbyt wiele zapytań"}]}
            headers = [("Retry-After", retry_after)]
            return json_response(start_response, 429, body, headers)
        if self.faults.roll():
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html><body><h1>503 Service Unavailable</h1></body></html>"]
        try:
            params = self._params(request)
            answer = self._dispatch(path[len(API) :], params)
        except Invalid as exc:
            return self._errors(start_response, exc.errors)
        except Missing as exc:
            message = f"Nie znaleziono obiektu o id {exc.args[0]}"
            return self._errors(start_response, [{"code": "notFound", "message": message}])
        except LookupError:
            return json_response(start_response, 404, {"errors": [{"message": "Not Found"}]})
        return json_response(start_response, 200, answer)

    def _errors(self, start_response: StartResponse, items: list[dict[str, str]]) -> list[bytes]:
        errors: list[Any] = list(items)
        if self.error_items == "strings":
            errors = [item["message"] for item in items]
        return json_response(start_response, self.error_status, {"errors": errors})

    # -- parameters ------------------------------------------------------------------

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        params.pop("access_token", None)
        if request.method in ("POST", "PUT") and request.raw:
            self.stats.incr("json_posts" if request.is_json() else "form_posts")
            if request.is_json():
                try:
                    body = request.json()
                except BadBody as exc:
                    raise Invalid([{"message": str(exc), "code": "badRequest"}]) from None
                if not isinstance(body, dict):
                    raise Invalid([{"message": "Oczekiwano obiektu JSON", "code": "badRequest"}])
                params.update(body)
            else:
                params.update(request.form())
        return params

    def _dispatch(self, route: str, params: dict[str, Any]) -> Any:
        module_name, _, operation = route.partition("/")
        if module_name.lower() == "selectdictionary" and operation.lower() == "list":
            kind = params.get("type") or ""
            if kind not in self.store.dictionaries:
                raise Invalid([{"field": "type", "message": "Nieznany słownik", "code": "type"}])
            return self.store.dictionaries[kind]
        module = MODULES.get(module_name.lower())
        operation = operation.lower()
        if module is None or operation not in OPERATIONS:
            raise LookupError(route)
        if operation == "get":
            return self.store.get(module, params.get("id"))
        if operation == "delete":
            return {"id": self.store.delete(module, params.get("id"))}
        if operation == "list":
            rows, total = self.store.list_records(module, params, self.modified_filter)
            return {"data": rows, "total": total}
        creating = operation == "create"
        params = {k: v for k, v in params.items() if k != "id" or not creating}
        if module == "Contact":
            return {"id": self.store.save_contact(params, creating=creating)}
        return {"id": self.store.save_account(params, creating=creating)}

    # -- OAuth2 ----------------------------------------------------------------------

    def _token(self, request: Request, start_response: StartResponse) -> list[bytes]:
        if request.method != "POST":
            return json_response(start_response, 405, {"error": "method_not_allowed"})
        params = dict(request.query)
        if request.raw:
            params.update(request.form())
        client_id, client_secret = params.get("client_id", ""), params.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:].strip() + "==").decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        if not (
            same_secret(client_id, self.account.client_id)
            and same_secret(client_secret, self.account.client_secret)
        ):
            body = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return json_response(start_response, 401, body)
        grant = params.get("grant_type")
        if grant == "password":
            ok_user = same_secret(params.get("username", ""), self.account.username)
            ok_password = same_secret(params.get("password", ""), self.account.password)
            if not (ok_user and ok_password):
                body = {"error": "invalid_grant", "error_description": "Bad credentials"}
                return json_response(start_response, 400, body)
            subject = self.account.username
        elif grant == "refresh_token":
            issued = self.tokens.use_refresh(params.get("refresh_token", ""), client_id)
            if issued is None:
                body = {"error": "invalid_grant", "error_description": "Invalid refresh token"}
                return json_response(start_response, 400, body)
            subject = issued.subject or self.account.username
        else:
            body = {"error": "unsupported_grant_type", "error_description": str(grant)}
            return json_response(start_response, 400, body)
        token = self.tokens.issue(
            grant,
            client_id,
            subject=subject,
            with_refresh=True,
            token_type="bearer",
            scope="write read",
        )
        return self.token_answer(start_response, token)
