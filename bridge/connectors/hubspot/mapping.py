"""HubSpot contact properties <-> ``Contact``.

HubSpot holds a contact as flat string properties [V]: ``email``, ``firstname``,
``lastname``, ``salutation``, ``jobtitle``, ``phone``, ``mobilephone``, ``fax``, ``company``,
``address``/``city``/``state``/``zip``/``country``, ``date_of_birth`` [I: a common
default property, written ``YYYY-MM-DD``], and the system's ``createdate`` and
``lastmodifieddate`` (ISO 8601 with milliseconds). The External ID lives in a custom
unique property (``bridge_external_id`` by default) that the connector creates.

Known losses: one address (the first), three phone slots (work, mobile, fax); the legacy
contract's type codes, relationships, forms and free custom fields have no place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bridge.connectors.kit.wire import utc_second
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType

SYSTEM = "hubspot"
DEFAULT_EXTERNAL_ID_PROPERTY = "bridge_external_id"
#: The checkbox property ``flag_deleted`` sets (HubSpot has no soft delete of its own).
DEFAULT_DELETED_PROPERTY = "bridge_deleted"
# Read back as these kinds; a home phone or fax lands in the same slot when it is free.
PHONE_PROPERTIES = {
    PhoneType.WORK_PHONE: "phone",
    PhoneType.MOBILE: "mobilephone",
    PhoneType.WORK_FAX: "fax",
}
PHONE_BY_KIND = {
    **{int(kind): name for kind, name in PHONE_PROPERTIES.items()},
    int(PhoneType.HOME_PHONE): "phone",
    int(PhoneType.HOME_FAX): "fax",
}
ADDRESS_PROPERTIES = ("address", "city", "state", "zip", "country")
READ_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "salutation",
    "jobtitle",
    "phone",
    "mobilephone",
    "fax",
    "company",
    *ADDRESS_PROPERTIES,
    "date_of_birth",
    "createdate",
    "lastmodifieddate",
    "hs_merged_object_ids",
)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 or epoch-ms wire datetime as aware UTC to the second."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if text.isdigit():
            moment = datetime.fromtimestamp(int(text) / 1000, UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return utc_second(moment)


def epoch_ms(value: datetime) -> str:
    """A datetime as the epoch-ms string search filters take [V]."""
    return str(int(value.timestamp() * 1000))


def _text(props: dict[str, Any], name: str) -> str | None:
    value = props.get(name)
    return str(value) if value not in (None, "") else None


def record_to_contact(record: dict[str, Any], external_id_property: str) -> Contact:
    props = record.get("properties") or {}
    phones = [
        Phone(int(kind), _text(props, name))
        for kind, name in PHONE_PROPERTIES.items()
        if _text(props, name)
    ]
    addresses = []
    if any(_text(props, name) for name in ADDRESS_PROPERTIES):
        line1, _, line2 = (_text(props, "address") or "").partition("\n")
        addresses.append(
            Address(
                int(AddressType.HOME),
                line1 or None,
                line2 or None,
                city=_text(props, "city"),
                zipcode=_text(props, "zip"),
                state=_text(props, "state"),
                country_code=_text(props, "country"),
            )
        )
    born = _text(props, "date_of_birth")
    company = _text(props, "company")
    return Contact(
        external_id=_text(props, external_id_property),
        email=_text(props, "email"),
        ids={SYSTEM: str(record.get("id") or props.get("hs_object_id") or "")},
        title=_text(props, "salutation"),
        first_name=_text(props, "firstname"),
        last_name=_text(props, "lastname"),
        date_of_birth=_date(born),
        created_at=parse_time(props.get("createdate") or record.get("createdAt")),
        updated_at=parse_time(props.get("lastmodifieddate") or record.get("updatedAt")),
        company=Company(company) if company else None,
        addresses=addresses,
        phones=phones,
    )


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def contact_to_properties(contact: Contact, external_id_property: str) -> dict[str, str]:
    """The properties to write; empty values are left out (a PATCH with "" would clear them)."""
    props: dict[str, str | None] = {
        "email": contact.email,
        "firstname": contact.first_name,
        "lastname": contact.last_name,
        "salutation": contact.title,
        "company": contact.company.name if contact.company else None,
        "date_of_birth": contact.date_of_birth.isoformat() if contact.date_of_birth else None,
        external_id_property: contact.external_id,
    }
    for phone in contact.phones:
        name = PHONE_BY_KIND.get(int(phone.kind))
        if name and phone.number and not props.get(name):
            props[name] = phone.number
    if contact.addresses:
        first = contact.addresses[0]
        lines = [line for line in (first.line1, first.line2) if line]
        props.update(
            address="\n".join(lines) or None,
            city=first.city,
            state=first.state,
            zip=first.zipcode,
            country=first.country_code,
        )
    return {k: v for k, v in props.items() if v not in (None, "")}  # type: ignore[misc]


def merged_ids(record: dict[str, Any]) -> list[str]:
    """The ids merged into this record (``hs_merged_object_ids``, ``;``-separated [I])."""
    raw = (record.get("properties") or {}).get("hs_merged_object_ids") or ""
    return [part for part in str(raw).split(";") if part.strip()]
