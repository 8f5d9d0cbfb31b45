"""The Engagifii emulator's data: people and organizations, isolated per tenant.

Records are kept in the wire shape (camelCase dicts) so the app serves them as they are.
Behaviour where the vendor documents nothing (inferred, and what the connector is built
to survive):
- Paging lists are in creation order, so an update does not move a person between
  pages while a client walks them.
- ``filter`` keys: ``isActive``, ``email`` (case-insensitive), ``externalId``,
  ``organizationId``, and ``modifiedDate`` (people modified at or after it) unless the
  app is started without modified-date filtering, in which case that key is ignored
  the way ASP.NET model binding drops properties it does not know. Unknown keys are
  always ignored.
- ``pageSize`` is clamped to 1..100.
- A person may carry ``externalId`` and a ``customFields`` object (string values); both
  are stored and returned as sent.
"""

from __future__ import annotations

import functools
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.emulators.kit import utc_now
from bridge.emulators.kit.lookup import KeyIndex
from bridge.emulators.kit.seeding import FakePeople, created_at, modified_after
from bridge.emulators.kit.tokens import uuid_token

MAX_PAGE_SIZE = 100
NO_ORGANIZATION = "00000000-0000-0000-0000-000000000000"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-. ]{3,40}$")
SEED_BASE = datetime(2025, 1, 1, 9, 0, 0, tzinfo=UTC)
FIRST = ["Ada", "Ben", "Chloe", "Dan", "Eve", "Finn", "Grace", "Hugo", "Ivy", "Jack", "Kate"]
LAST = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Walker"]
PEOPLE = FakePeople(FIRST, LAST, "example.org", ("Director", "Manager", "Member", None))
COMPANIES = ["Acme Ltd", "Globex", "Initech", "Umbrella Corp", "Stark Industries"]
PERSON_FIELDS = (
    "firstName",
    "middleName",
    "lastName",
    "suffix",
    "displayName",
    "email",
    "secondaryEmail",
    "phone",
    "mobilePhone",
    "title",
    "department",
    "externalId",
)
ADDRESS_FIELDS = ("type", "street", "street2", "city", "state", "zipCode", "country")


@functools.lru_cache(maxsize=16)
def iso(value: datetime) -> str:
    """The wire form of a time; kept for the few last ones asked for, since the clock
    moves by whole seconds and every write in a second stamps the same time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ValidationFailed(Exception):
    """A request body broke a rule; ``details`` are the envelope's ``details[]``."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__("; ".join(d["message"] for d in details))
        self.details = details


def _detail(field_name: str, message: str, code: str) -> dict[str, str]:
    return {"field": field_name, "message": message, "code": code}


def validate_person(body: dict[str, Any], *, creating: bool) -> None:
    details = []
    if creating and not any(body.get(k) for k in ("firstName", "lastName", "email")):
        details.append(_detail("lastName", "A name or an email address is required", "REQUIRED"))
    email = body.get("email")
    if email and not (isinstance(email, str) and _EMAIL.match(email.strip())):
        details.append(_detail("email", "Email address format is invalid", "INVALID_FORMAT"))
    for name in ("phone", "mobilePhone"):
        value = body.get(name)
        if value and not (isinstance(value, str) and _PHONE.match(value)):
            details.append(_detail(name, "Phone number format is invalid", "INVALID_FORMAT"))
    custom = body.get("customFields")
    if custom is not None and not isinstance(custom, dict):
        details.append(_detail("customFields", "customFields must be an object", "INVALID_TYPE"))
    if details:
        raise ValidationFailed(details)


@dataclass(slots=True)
class Tenant:
    code: str
    tenant_id: str = field(default_factory=uuid_token)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (filter key, value) -> ids of the people holding it, for the exact-match filters a
    # client looks a person up by (a scan per look-up made every write O(people)).
    by_key: KeyIndex[str] = field(default_factory=KeyIndex)
    # Creation order of each person, to keep index hits in list order.
    order: dict[str, int] = field(default_factory=dict)


class EngagifiiStore:
    """People and organizations per tenant code; thread-safe."""

    def __init__(self, tenants: list[str], *, clock: Callable[[], datetime] | None = None):
        self._lock = threading.RLock()
        self._clock = clock or utc_now
        self.tenants = {code.lower(): Tenant(code) for code in tenants}
        self.modified_filter = True

    def tenant(self, code: str) -> Tenant | None:
        return self.tenants.get(code.lower())

    # -- seeding ---------------------------------------------------------------------

    def seed(self, code: str, count: int, seed: int = 42) -> None:
        rng = random.Random(seed)
        tenant = self.tenants[code.lower()]
        with self._lock:
            orgs = [
                self._add_org(tenant, {"name": name, "type": "Company"}, SEED_BASE)
                for name in COMPANIES[: max(1, min(len(COMPANIES), count // 20 + 1))]
            ]
            for i in range(count):
                created = created_at(SEED_BASE, i, 120, rng)
                org = orgs[i % len(orgs)] if i % 4 else None
                person = {
                    **PEOPLE.person(i, rng).fields(("firstName", "lastName", "email", "title")),
                    "phone": f"+1 202 555 {i % 10000:04d}",
                    "mobilePhone": f"+1 202 556 {i % 10000:04d}" if i % 2 else None,
                    "externalId": f"ENG-{i + 1:06d}",
                    "addresses": [
                        {
                            "type": "Primary",
                            "street": f"{1 + i % 500} K Street NW",
                            "city": "Washington",
                            "state": "DC",
                            "zipCode": "20001",
                            "country": "US",
                        }
                    ],
                }
                stored = self._add_person(
                    tenant, person, org["id"] if org else NO_ORGANIZATION, created
                )
                stored["modifiedDate"] = iso(modified_after(created, rng))

    # -- organizations ---------------------------------------------------------------

    def _add_org(self, tenant: Tenant, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        org: dict[str, Any] = {
            "id": uuid_token(),
            "name": body.get("name"),
            "type": body.get("type") or "Company",
            "email": body.get("email"),
            "isActive": True,
            "createdDate": iso(now),
            "modifiedDate": iso(now),
            "tenantId": tenant.tenant_id,
        }
        tenant.organizations[org["id"]] = org
        return org

    def create_org(self, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ValidationFailed([_detail("name", "Name is required", "REQUIRED_FIELD")])
        with self._lock:
            return dict(self._add_org(tenant, body, self._clock()))

    def get_org(self, tenant: Tenant, org_id: str) -> dict[str, Any] | None:
        with self._lock:
            org = tenant.organizations.get(org_id.lower())
            return dict(org) if org else None

    def list_orgs(self, tenant: Tenant, flt: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            orgs = list(tenant.organizations.values())
            name = flt.get("name")
            if isinstance(name, str):
                orgs = [o for o in orgs if (o["name"] or "").lower() == name.strip().lower()]
            if isinstance(flt.get("isActive"), bool):
                orgs = [o for o in orgs if o["isActive"] == flt["isActive"]]
            return [dict(o) for o in orgs]

    # -- people ----------------------------------------------------------------------

    def _add_person(
        self, tenant: Tenant, body: dict[str, Any], org_id: str, now: datetime
    ) -> dict[str, Any]:
        person: dict[str, Any] = {"id": uuid_token()}
        person.update({k: body.get(k) for k in PERSON_FIELDS})
        person["addresses"] = [_address(a) for a in body.get("addresses") or ()]
        person["customFields"] = _custom(body.get("customFields"))
        person["positions"] = []
        person["isActive"] = body.get("isActive", True) is not False
        self._set_org(tenant, person, org_id)
        person["displayName"] = person["displayName"] or _display(person)
        person["createdDate"] = person["modifiedDate"] = iso(now)
        person["tenantId"] = tenant.tenant_id
        tenant.people[person["id"]] = person
        tenant.order[person["id"]] = len(tenant.order)
        tenant.by_key.add(_keys(person), person["id"])
        return person

    def _set_org(self, tenant: Tenant, person: dict[str, Any], org_id: str | None) -> None:
        org = tenant.organizations.get((org_id or "").lower())
        person["organizationId"] = org["id"] if org else None
        person["organizationName"] = org["name"] if org else None

    def create_person(self, tenant: Tenant, org_id: str, body: dict[str, Any]) -> dict[str, Any]:
        validate_person(body, creating=True)
        with self._lock:
            if org_id.lower() != NO_ORGANIZATION and org_id.lower() not in tenant.organizations:
                raise KeyError(org_id)
            return dict(self._add_person(tenant, body, org_id, self._clock()))

    def update_person(self, tenant: Tenant, person_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Update the header fields the body carries; absent fields keep their value."""
        validate_person(body, creating=False)
        with self._lock:
            person = tenant.people.get(person_id.lower())
            if person is None:
                raise KeyError(person_id)
            tenant.by_key.discard(_keys(person), person["id"])
            for key in PERSON_FIELDS:
                if key in body:
                    person[key] = body[key]
            if "addresses" in body:
                person["addresses"] = [_address(a) for a in body.get("addresses") or ()]
            if isinstance(body.get("customFields"), dict):
                person["customFields"] = {**person["customFields"], **_custom(body["customFields"])}
            if isinstance(body.get("isActive"), bool):
                person["isActive"] = body["isActive"]
            if "organizationId" in body:
                self._set_org(tenant, person, body.get("organizationId"))
            if "displayName" not in body:
                person["displayName"] = _display(person)
            person["modifiedDate"] = iso(self._clock())
            tenant.by_key.add(_keys(person), person["id"])
            return dict(person)

    def get_person(self, tenant: Tenant, person_id: str) -> dict[str, Any] | None:
        with self._lock:
            person = tenant.people.get(person_id.lower())
            return dict(person) if person else None

    def delete_person(self, tenant: Tenant, person_id: str) -> bool:
        with self._lock:
            person = tenant.people.pop(person_id.lower(), None)
            if person is not None:
                tenant.by_key.discard(_keys(person), person["id"])
            return person is not None

    def page_people(
        self, tenant: Tenant, flt: dict[str, Any], page_index: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int, int]:
        """(one page, total matching, the page size used)."""
        size = min(max(page_size, 1), MAX_PAGE_SIZE)
        with self._lock:
            # Dicts keep insertion order, which is creation order.
            people = [p for p in _candidates(tenant, flt) if self._matches(p, flt)]
            start = max(page_index, 0) * size
            return [dict(p) for p in people[start : start + size]], len(people), size

    def search_people(self, tenant: Tenant, text: str) -> list[dict[str, Any]]:
        needle = text.strip().lower()
        with self._lock:
            return [
                dict(p)
                for p in tenant.people.values()
                if any(needle in (p.get(k) or "").lower() for k in ("email", "displayName"))
            ]

    def _matches(self, person: dict[str, Any], flt: dict[str, Any]) -> bool:
        if isinstance(flt.get("isActive"), bool) and person["isActive"] != flt["isActive"]:
            return False
        email = flt.get("email")
        if isinstance(email, str) and (person.get("email") or "").lower() != email.lower():
            return False
        external = flt.get("externalId")
        if isinstance(external, str) and person.get("externalId") != external:
            return False
        org = flt.get("organizationId")
        if isinstance(org, str) and (person.get("organizationId") or "") != org.lower():
            return False
        since = flt.get("modifiedDate")
        if self.modified_filter and isinstance(since, str):
            return parse_iso(person["modifiedDate"]) >= parse_iso(since)
        return True

    def count(self, code: str) -> int:
        with self._lock:
            return len(self.tenants[code.lower()].people)


def _keys(person: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    if isinstance(person.get("email"), str):
        keys.append(("email", person["email"].lower()))
    if isinstance(person.get("externalId"), str):
        keys.append(("externalId", person["externalId"]))
    return keys


def _candidates(tenant: Tenant, flt: dict[str, Any]) -> list[dict[str, Any]]:
    """The people a filter can match, in creation order: by the index when it names an
    exact External ID or email, else everyone."""
    for name, fold in (("externalId", False), ("email", True)):
        value = flt.get(name)
        if isinstance(value, str):
            ids = tenant.by_key.ids(name, value.lower() if fold else value)
            return [tenant.people[i] for i in sorted(ids, key=tenant.order.__getitem__)]
    return list(tenant.people.values())


def _address(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    address: dict[str, Any] = {"id": raw.get("id") or uuid_token()}
    address.update({k: raw.get(k) for k in ADDRESS_FIELDS})
    address["type"] = address["type"] or "Primary"
    address["isActive"] = raw.get("isActive", True) is not False
    return address


def _custom(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if v is not None}


def _display(person: dict[str, Any]) -> str:
    parts = [person.get("firstName"), person.get("lastName")]
    return " ".join(p for p in parts if p) or (person.get("email") or "")


__all__ = [
    "MAX_PAGE_SIZE",
    "NO_ORGANIZATION",
    "EngagifiiStore",
    "Tenant",
    "ValidationFailed",
    "iso",
    "parse_iso",
]
