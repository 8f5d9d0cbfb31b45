"""Wire calls to the Engagifii CRM API: JSON in, decoded JSON out, errors mapped once.

Every call carries the bearer token (client-credentials grant, through
:class:`bridge.auth.TokenSource`) and the ``tenant-code`` header. The sessions and retries
are the kit's :class:`~bridge.connectors.kit.rest.RestClient` (``PeoplePagingList`` is a
POST but reads nothing but pages, so POST reads are retried like GETs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests

from bridge.auth import TokenSource
from bridge.connectors.kit.rest import RestClient, json_body, raise_for_status
from bridge.errors import (
    NotFound,
    ProtocolError,
    RecordError,
    RemoteError,
)
from bridge.retry import DEFAULT_SCHEDULE, RetrySchedule

SYSTEM = "engagifii"
NO_ORGANIZATION = "00000000-0000-0000-0000-000000000000"
T = TypeVar("T")


def _envelope(response: requests.Response) -> dict[str, Any]:
    """The documented ``{"error": {...}}`` object, or a stand-in built from the status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error
    if isinstance(error, str):  # OAuth2-shaped answers from a gateway
        return {"code": error, "message": body.get("error_description") or error}
    return {"code": f"HTTP_{response.status_code}", "message": response.reason or "error"}


def raise_for_error(response: requests.Response, operation: str) -> None:
    """Map a non-2xx answer into the project's error tree."""
    status = response.status_code
    if status < 400:
        return
    error = _envelope(response)
    code = str(error.get("code") or f"HTTP_{status}")
    message = str(error.get("message") or code)
    details = [d for d in error.get("details") or () if isinstance(d, dict)]
    text = f"{operation}: {code}: {message}"
    raise_for_status(response, text, SYSTEM)
    if status == 404:
        raise NotFound(text, system=SYSTEM, code=code)
    if status in (400, 409, 422):
        first = details[0] if details else {}
        described = "; ".join(
            f"{d.get('field')}: {d.get('message')}" for d in details if d.get("message")
        )
        raise RecordError(
            f"{text} ({described})" if described else text,
            system=SYSTEM,
            code=str(first.get("code") or code),
            field=first.get("field"),
        )
    raise RemoteError(text, system=SYSTEM, code=code, status=status)


class EngagifiiClient(RestClient):
    """The people and organization calls the connector needs, for one tenant."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        tenant_code: str,
        tokens: TokenSource,
        *,
        timeout: float = 60.0,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            base_url,
            tokens,
            timeout=timeout,
            schedule=schedule,
            sleep=sleep,
            headers={"tenant-code": tenant_code},
            retry_post_reads=True,
        )
        self.tenant_code = tenant_code

    def __repr__(self) -> str:
        return f"EngagifiiClient(base_url={self.base_url!r}, tenant_code={self.tenant_code!r})"

    # -- plumbing --------------------------------------------------------------------

    def _send(self, method: str, path: str, *, body: Any = None, write: bool = False) -> Any:
        operation = f"{method} /{path}"
        response = self._request(
            method, f"{self.base_url}/{path}", operation, write=write, json=body
        )
        raise_for_error(response, operation)
        return json_body(response, operation, SYSTEM)

    def _read(self, method: str, path: str, body: Any = None) -> Any:
        return self._retrying(lambda: self._send(method, path, body=body), write=False, what=path)

    def _write(self, method: str, path: str, body: Any) -> Any:
        # Only a 429 is safe to repeat: a 5xx on a create may have created the person.
        return self._retrying(
            lambda: self._send(method, path, body=body, write=True), write=True, what=path
        )

    # -- people ----------------------------------------------------------------------

    def people_page(
        self, page_index: int, page_size: int, flt: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"pageIndex": page_index, "pageSize": page_size, "filter": flt or {}}
        envelope = self._read("POST", "people/PeoplePagingList", body)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), list):
            raise ProtocolError("PeoplePagingList answered without a data list", system=SYSTEM)
        return envelope

    def get_person(self, person_id: str) -> dict[str, Any] | None:
        try:
            person = self._read("GET", f"people/{person_id}")
        except NotFound:
            return None
        return person if isinstance(person, dict) else None

    def create_person(self, organization_id: str, body: dict[str, Any]) -> dict[str, Any]:
        created = self._write("POST", f"people/CreatePersonInline/{organization_id}", body)
        if not isinstance(created, dict) or not created.get("id"):
            raise ProtocolError("CreatePersonInline answered without an id", system=SYSTEM)
        return created

    def update_person(self, person_id: str, body: dict[str, Any]) -> dict[str, Any]:
        updated = self._write("PUT", f"people/UpdatePersonHeader/{person_id}", body)
        return updated if isinstance(updated, dict) else {"id": person_id}

    def delete_person(self, person_id: str) -> None:
        self._write("DELETE", f"people/{person_id}", None)

    # -- organizations ---------------------------------------------------------------

    def organizations_named(self, name: str) -> list[dict[str, Any]]:
        body = {"pageIndex": 0, "pageSize": 100, "filter": {"name": name}}
        envelope = self._read("POST", "organization/OrganizationPagingList", body)
        data = envelope.get("data") if isinstance(envelope, dict) else None
        return [o for o in data or () if isinstance(o, dict)]

    def create_organization(self, name: str) -> dict[str, Any]:
        created = self._write("POST", "organization", {"name": name, "type": "Company"})
        if not isinstance(created, dict) or not created.get("id"):
            raise ProtocolError("organization create answered without an id", system=SYSTEM)
        return created
