"""Wire calls to the Egito CRM REST API: ``/services/restapi/json/{Module}/{operation}``.

Egito reports failures as ``{"errors": [...]}``, and not reliably with an error status,
so every answer is checked for that list whatever its HTTP status. Reads (``get``,
``list``, ``SelectDictionary/list``) are GETs; writes are POSTs (a JSON body, or a form post
like the browser's with ``body_format="form"``). Sessions, bearer auth and retries are the
kit's :class:`~bridge.connectors.kit.rest.RestClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests

from bridge.auth import TokenSource
from bridge.connectors.kit.rest import RestClient, retry_after
from bridge.errors import (
    AuthError,
    NotFound,
    ProtocolError,
    RateLimited,
    RecordError,
    RemoteError,
    TransientError,
)
from bridge.retry import DEFAULT_SCHEDULE, RetrySchedule

SYSTEM = "egito"
API = "/services/restapi/json"
BODY_FORMATS = ("json", "form")
T = TypeVar("T")
_NOT_FOUND_CODES = {"notfound", "not_found", "404"}
_NOT_FOUND_WORDS = ("not found", "nie znaleziono", "nie istnieje")
_RATE_CODES = {"ratelimit", "rate_limit", "too_many_requests"}


def _items(errors: Any) -> list[dict[str, Any]]:
    """Error items as dicts, whether the server sent strings or objects."""
    if isinstance(errors, str | dict):
        errors = [errors]
    items = []
    for item in errors or ():
        if isinstance(item, dict):
            items.append(item)
        else:
            items.append({"message": str(item)})
    return items


def check_answer(response: requests.Response, operation: str) -> Any:
    """The decoded answer, or the matching error from the project's tree."""
    status = response.status_code
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = None
    if status == 429:
        raise RateLimited(
            f"{operation}: too many requests", retry_after=retry_after(response), system=SYSTEM
        )
    if status in (401, 403):
        code = body.get("error") if isinstance(body, dict) else None
        raise AuthError(f"{operation}: refused ({code or status})", system=SYSTEM)
    if status >= 500:
        raise TransientError(f"{operation}: server error {status}", system=SYSTEM)
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        items = _items(errors)
        first = items[0]
        code = str(first.get("code") or "ERROR")
        messages = "; ".join(
            f"{i['field']}: {i.get('message')}" if i.get("field") else str(i.get("message"))
            for i in items
        )
        text = f"{operation}: {messages}"
        lowered = messages.lower()
        missing = code.lower() in _NOT_FOUND_CODES or any(w in lowered for w in _NOT_FOUND_WORDS)
        # With a field, what is missing is something the record points at (its account):
        # the record's fault, not an absent record.
        if missing and not first.get("field"):
            raise NotFound(text, system=SYSTEM, code=code)
        if code.lower() in _RATE_CODES:
            raise RateLimited(text, retry_after=retry_after(response), system=SYSTEM)
        raise RecordError(text, system=SYSTEM, code=code, field=first.get("field"))
    if status == 404:
        raise NotFound(f"{operation}: not found", system=SYSTEM, code="404")
    if status >= 400:
        raise RemoteError(f"{operation}: HTTP {status}", system=SYSTEM, status=status)
    if body is None:
        raise ProtocolError(f"{operation}: answer is not JSON", system=SYSTEM)
    return body


class EgitoClient(RestClient):
    """Contact, Account and SelectDictionary calls for one Egito instance."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        body_format: str = "json",
        timeout: float = 60.0,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if body_format not in BODY_FORMATS:
            raise ValueError(f"body_format must be one of {BODY_FORMATS}")
        super().__init__(base_url, tokens, timeout=timeout, schedule=schedule, sleep=sleep)
        self.body_format = body_format

    def __repr__(self) -> str:
        return f"EgitoClient(base_url={self.base_url!r}, body_format={self.body_format!r})"

    # -- plumbing --------------------------------------------------------------------

    def _send(self, route: str, params: dict[str, Any], *, write: bool) -> Any:
        url = f"{self.base_url}{API}/{route}"
        if not write:
            response = self._request("GET", url, route, write=False, params=params)
        elif self.body_format == "form":
            form = {k: _form_value(v) for k, v in params.items()}
            response = self._request("POST", url, route, write=True, data=form)
        else:
            response = self._request("POST", url, route, write=True, json=params)
        return check_answer(response, route)

    def _call(self, route: str, params: dict[str, Any], *, write: bool = False) -> Any:
        return self._retrying(
            lambda: self._send(route, params, write=write), write=write, what=route
        )

    @staticmethod
    def _saved_id(answer: Any, route: str) -> str:
        if not isinstance(answer, dict) or answer.get("id") in (None, ""):
            raise ProtocolError(f"{route}: answered without an id", system=SYSTEM)
        return str(answer["id"])

    # -- records ---------------------------------------------------------------------

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        try:
            record = self._call(f"{module}/get", {"id": record_id})
        except NotFound:
            return None
        return record if isinstance(record, dict) else None

    def list_page(self, module: str, start: int, limit: int, **filters: Any) -> dict[str, Any]:
        params = {"start": start, "limit": limit}
        params.update({k: v for k, v in filters.items() if v is not None})
        answer = self._call(f"{module}/list", params)
        if isinstance(answer, list):  # a bare array is a page without a total
            return {"data": answer}
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise ProtocolError(f"{module}/list answered without a data list", system=SYSTEM)
        return answer

    def create(self, module: str, fields: dict[str, Any]) -> str:
        return self._saved_id(self._call(f"{module}/create", fields, write=True), module)

    def update(self, module: str, record_id: str, fields: dict[str, Any]) -> str:
        answer = self._call(f"{module}/update", {**fields, "id": record_id}, write=True)
        return self._saved_id(answer, module)

    def delete(self, module: str, record_id: str) -> bool:
        try:
            self._call(f"{module}/delete", {"id": record_id}, write=True)
        except NotFound:
            return False
        return True

    def dictionary(self, kind: str) -> list[dict[str, Any]]:
        answer = self._call("SelectDictionary/list", {"type": kind})
        if isinstance(answer, dict):
            answer = answer.get("data") or answer.get("items") or []
        return [entry for entry in answer or () if isinstance(entry, dict)]


def _form_value(value: Any) -> str:
    """How a browser form posts a value: booleans as true/false, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
