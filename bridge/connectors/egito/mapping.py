"""Egito contact JSON <-> ``Contact``.

Field names follow the emulator's choices (the vendor publishes none: [I]); what the
legacy contract calls ``industryType`` and ``customerType`` are Egito's dictionary-backed
``industry`` and ``relationshipType``, sent as dictionary ids (see :class:`Dictionaries`).
Timestamps are naive local time of the instance (``timezone`` setting).

Egito has one address per contact (read back as a home address), one landline
(``phone``), a job ``position`` and a ``description`` (both kept in ``custom_fields``).
Lost on the way: lead-source and rating types, birth date, username, other custom fields.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge.connectors.kit.wire import AddressFields, address_fields, main_phone, utc_second
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType

SYSTEM = "egito"
ADDRESS_KIND = AddressType.HOME
#: Where a contact's address goes on a write (Egito keeps no state).
ADDRESS_FIELDS = AddressFields(
    street="street", city="city", zipcode="postCode", country_code="country"
)
TEXT_CUSTOM_FIELDS = ("position", "description")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
log = logging.getLogger(__name__)


class Dictionaries:
    """Name <-> id of the select dictionaries, loaded once per kind through ``load``."""

    def __init__(self, load: Any) -> None:
        self._load = load
        self._by_kind: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _entries(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:  # one load per kind, however many threads upsert
            if kind not in self._by_kind:
                self._by_kind[kind] = list(self._load(kind))
            return self._by_kind[kind]

    @staticmethod
    def _label(entry: dict[str, Any]) -> str:
        return str(entry.get("name") or entry.get("label") or entry.get("value") or "")

    def name(self, kind: str, entry_id: Any) -> str | None:
        if entry_id in (None, ""):
            return None
        for entry in self._entries(kind):
            if str(entry.get("id")) == str(entry_id):
                return self._label(entry) or None
        return None

    def id(self, kind: str, name: str | None) -> Any:
        if not name:
            return None
        wanted = name.strip().lower()
        for entry in self._entries(kind):
            if self._label(entry).strip().lower() == wanted:
                return entry.get("id")
        return None


class LabelsOnly:
    """Dictionaries seen without I/O: labels stand in for ids.

    A label is made canonical (and an unknown one dropped, as writing drops it) only when
    that dictionary was loaded already; otherwise it passes through as given.
    """

    def __init__(self, dictionaries: Dictionaries) -> None:
        self._loaded = dictionaries._by_kind

    def _resolve(self, kind: str, value: Any) -> Any:
        if value in (None, ""):
            return None
        entries = self._loaded.get(kind)
        if entries is None:
            return value
        wanted = str(value).strip().lower()
        for entry in entries:
            label = Dictionaries._label(entry)
            if label.strip().lower() == wanted:
                return label
        return None

    def id(self, kind: str, name: str | None) -> Any:
        return self._resolve(kind, name)

    def name(self, kind: str, entry_id: Any) -> str | None:
        resolved = self._resolve(kind, entry_id)
        return str(resolved) if resolved is not None else None


def parse_local(value: Any, tz: ZoneInfo) -> datetime | None:
    """A wire timestamp as aware UTC; naive text is local to the instance."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return utc_second(parsed, tz)


def format_local(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def record_to_contact(
    record: dict[str, Any],
    tz: ZoneInfo,
    dictionaries: Dictionaries | LabelsOnly,
    external_id_field: str = "externalId",
) -> Contact:
    phones = []
    if record.get("phone"):
        phones.append(Phone(PhoneType.WORK_PHONE, str(record["phone"])))
    if record.get("mobile"):
        phones.append(Phone(PhoneType.MOBILE, str(record["mobile"])))
    address = Address(
        kind=ADDRESS_KIND,
        line1=record.get("street") or None,
        city=record.get("city") or None,
        zipcode=record.get("postCode") or None,
        country_code=record.get("country") or None,
    )
    company = None
    if record.get("accountName"):
        account_id = record.get("accountId")
        company = Company(
            str(record["accountName"]), {SYSTEM: str(account_id)} if account_id else {}
        )
    external = record.get(external_id_field)
    return Contact(
        external_id=str(external) if external not in (None, "") else None,
        email=record.get("email") or None,
        ids={SYSTEM: str(record["id"])} if record.get("id") not in (None, "") else {},
        title=record.get("title") or None,
        first_name=record.get("firstName") or None,
        last_name=record.get("lastName") or None,
        created_at=parse_local(record.get("createDate"), tz),
        updated_at=parse_local(record.get("modifyDate"), tz),
        customer_type=dictionaries.name("relationshipType", record.get("relationshipType")),
        industry_type=dictionaries.name("industry", record.get("industry")),
        company=company,
        addresses=[] if address.is_empty() else [address],
        phones=phones,
        custom_fields={k: str(record[k]) for k in TEXT_CUSTOM_FIELDS if record.get(k)},
        opt_in=record.get("marketingConsent") in (True, "true", "1", 1),
    )


def contact_to_fields(
    contact: Contact,
    dictionaries: Dictionaries | LabelsOnly,
    external_id_field: str = "externalId",
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """The create/update fields for a contact: only what the contact knows.

    A dictionary value Egito does not know is left out (and logged) unless ``strict``,
    in which case it raises ``LookupError`` naming the field.
    """
    fields: dict[str, Any] = {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "title": contact.title,
        "email": contact.email,
        "phone": main_phone(contact),
        "mobile": contact.phone(PhoneType.MOBILE),
    }
    if contact.external_id:
        fields[external_id_field] = contact.external_id
    for kind, value in (
        ("industry", contact.industry_type),
        ("relationshipType", contact.customer_type),
    ):
        if not value:
            continue
        entry_id = dictionaries.id(kind, value)
        if entry_id is None:
            if strict:
                raise LookupError(kind)
            if isinstance(dictionaries, Dictionaries):  # not while only normalizing
                log.warning("egito has no %s dictionary entry %r; field left out", kind, value)
        fields[kind] = entry_id
    address = next((a for a in contact.addresses if not a.is_empty()), None)
    if address is not None:
        fields.update(address_fields(address, ADDRESS_FIELDS))
    for name in TEXT_CUSTOM_FIELDS:
        if contact.custom_fields.get(name):
            fields[name] = contact.custom_fields[name]
    fields["marketingConsent"] = contact.opt_in
    return {k: v for k, v in fields.items() if v is not None}


def differs(existing: dict[str, Any], fields: dict[str, Any]) -> bool:
    """True when saving ``fields`` would change ``existing``."""
    return any(_plain(existing.get(key)) != _plain(value) for key, value in fields.items())


def _plain(value: Any) -> str | None:
    """A value as text for comparing (JSON numbers, booleans and form strings alike)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
