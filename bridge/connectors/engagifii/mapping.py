"""Engagifii person JSON <-> ``Contact``.

Documented person fields ([V]) carry names, email, ``phone``/``mobilePhone``, ``title``,
the organization and ``addresses[]``. What the legacy contract has beyond them (its
customer/industry/lead-source/rating types, birth date, opt-in, username, free custom
fields) travels in the person's ``customFields`` object ([I]: Engagifii has custom fields
but their wire shape is not documented). The External ID lives in a configurable field:
a top-level property (``externalId`` by default) or ``customFields.<name>``.

Known losses: one landline slot (``phone``), so a home phone reads back as a work phone;
a salutation and a job title share ``title``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from bridge.connectors.kit.wire import main_phone, utc_second
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType

SYSTEM = "engagifii"
CUSTOM = "customFields"
ADDRESS_TYPES: dict[int, str] = {
    AddressType.HOME: "Home",
    AddressType.WORK: "Work",
    AddressType.PO_BOX: "PO Box",
    AddressType.SHIPPING: "Shipping",
    AddressType.PICKUP: "Pickup",
    AddressType.STORAGE: "Storage",
    AddressType.BILLING: "Billing",
}
_TYPE_CODES = {name.lower(): int(kind) for kind, name in ADDRESS_TYPES.items()}
_TYPE_CODES["primary"] = int(AddressType.HOME)
# Contact attributes kept in customFields, by the custom field name used on the wire.
CUSTOM_ATTRIBUTES = {
    "customerType": "customer_type",
    "industryType": "industry_type",
    "leadSourceType": "lead_source_type",
    "ratingType": "rating_type",
    "username": "username",
}
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_datetime(value: Any) -> datetime | None:
    """An ISO-8601 wire timestamp as aware UTC to the second; offset-less means UTC.

    .NET writes up to seven fraction digits and sometimes no zone; both are accepted.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return utc_second(parsed)


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_external_id(person: dict[str, Any], field_path: str) -> str | None:
    head, _, rest = field_path.partition(".")
    value = person.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return str(value) if value not in (None, "") else None


def person_to_contact(person: dict[str, Any], external_id_field: str = "externalId") -> Contact:
    raw_custom = person.get(CUSTOM)
    custom = (
        {str(k): str(v) for k, v in raw_custom.items() if v is not None}
        if isinstance(raw_custom, dict)
        else {}
    )
    external_id = read_external_id(person, external_id_field)
    if external_id_field.startswith(CUSTOM + "."):
        custom.pop(external_id_field.partition(".")[2], None)
    attributes = {attr: custom.pop(name, None) for name, attr in CUSTOM_ATTRIBUTES.items()}
    birth = custom.pop("dateOfBirth", None)
    opt_in = custom.pop("optIn", None)
    phones = []
    if person.get("phone"):
        phones.append(Phone(PhoneType.WORK_PHONE, person["phone"]))
    if person.get("mobilePhone"):
        phones.append(Phone(PhoneType.MOBILE, person["mobilePhone"]))
    if person.get("secondaryEmail"):
        phones.append(Phone(PhoneType.EMAIL_2, person["secondaryEmail"]))
    org_name = person.get("organizationName")
    company = None
    if org_name:
        org_id = person.get("organizationId")
        company = Company(org_name, {SYSTEM: str(org_id)} if org_id else {})
    first, last = person.get("firstName"), person.get("lastName")
    display = person.get("displayName")
    default_display = " ".join(p for p in (first, last) if p)
    return Contact(
        external_id=external_id,
        email=person.get("email") or None,
        ids={SYSTEM: str(person["id"])} if person.get("id") else {},
        title=person.get("title") or None,
        first_name=first or None,
        last_name=last or None,
        full_name=display if display and display != default_display else None,
        date_of_birth=_date(birth),
        created_at=parse_datetime(person.get("createdDate")),
        updated_at=parse_datetime(person.get("modifiedDate")),
        company=company,
        addresses=[_address(a) for a in person.get("addresses") or () if isinstance(a, dict)],
        phones=phones,
        custom_fields=custom,
        opt_in=str(opt_in).lower() == "true",
        deleted=person.get("isActive") is False,
        **attributes,  # type: ignore[arg-type]
    )


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _address(raw: dict[str, Any]) -> Address:
    kind = _TYPE_CODES.get(str(raw.get("type") or "primary").lower(), int(AddressType.HOME))
    return Address(
        kind=kind,
        line1=raw.get("street") or None,
        line2=raw.get("street2") or None,
        city=raw.get("city") or None,
        zipcode=raw.get("zipCode") or None,
        state=raw.get("state") or None,
        country_code=raw.get("country") or None,
    )


def contact_to_person(contact: Contact, external_id_field: str = "externalId") -> dict[str, Any]:
    """The create/update body for a contact: only what the contact knows (None is omitted)."""
    body: dict[str, Any] = {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "title": contact.title,
        "phone": main_phone(contact),
        "mobilePhone": contact.phone(PhoneType.MOBILE),
        "secondaryEmail": contact.phone(PhoneType.EMAIL_2),
        "displayName": contact.full_name,
    }
    body = {k: v for k, v in body.items() if v is not None}
    custom = dict(contact.custom_fields)
    for name, attr in CUSTOM_ATTRIBUTES.items():
        value = getattr(contact, attr)
        if value is not None:
            custom[name] = value
    if contact.date_of_birth is not None:
        custom["dateOfBirth"] = contact.date_of_birth.isoformat()
    custom["optIn"] = "true" if contact.opt_in else "false"
    head, _, rest = external_id_field.partition(".")
    if contact.external_id:
        if rest and head == CUSTOM:
            custom[rest] = contact.external_id
        else:
            body[head] = contact.external_id
    body[CUSTOM] = custom
    if contact.addresses:
        body["addresses"] = [
            {
                "type": ADDRESS_TYPES.get(a.kind, "Primary"),
                "street": a.line1,
                "street2": a.line2,
                "city": a.city,
                "state": a.state,
                "zipCode": a.zipcode,
                "country": a.country_code,
            }
            for a in contact.addresses
            if not a.is_empty()
        ]
    body["isActive"] = not contact.deleted
    return body


def differs(existing: dict[str, Any], body: dict[str, Any]) -> bool:
    """True when writing ``body`` would change ``existing`` (the fields ``body`` carries)."""
    for key, value in body.items():
        current = existing.get(key)
        if key == CUSTOM:
            stored = current if isinstance(current, dict) else {}
            if any(stored.get(k) != v for k, v in value.items()):
                return True
        elif key == "addresses":
            keys = ("type", "street", "street2", "city", "state", "zipCode", "country")
            now = [{k: a.get(k) for k in keys} for a in current or ()]
            if now != [{k: a.get(k) for k in keys} for a in value]:
                return True
        elif current != value:
            return True
    return False
