"""Bigin Contacts JSON <-> ``Contact``.

Field names are Bigin's API names [V: recorded GET response]. Choices made here:
- ``Phone`` is the work phone, ``Mobile`` the mobile, ``Home_Phone`` the home phone.
- The ``Mailing_*`` address is the contact's home address (``AddressType.HOME``);
  ``Mailing_Country`` is free text in Bigin and passes through as ``country_code``.
- ``Account_Name`` (the company lookup, ``{"name", "id"}`` on read [V]) is written as
  ``{"id"}`` when the Bigin company id is known, else ``{"name"}``, which makes Bigin
  find or create that company [V2].
- ``Email_Opt_Out`` is the inverse of ``opt_in``.
- ``Tag`` names become ``custom_fields["tags"]`` (comma-separated) and back;
  ``Department`` and ``Description`` live in ``custom_fields`` too.
- The legacy External ID is stored in a configurable field (default ``External_ID``,
  a custom field that must be set to "do not allow duplicates" for upserts to match).
- Writes carry only what the contact knows (``None`` is left out), so an update never
  blanks a field the source did not send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.connectors.kit.wire import AddressFields, address_fields, street
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType

SYSTEM = "bigin"
DEFAULT_EXTERNAL_ID_FIELD = "External_ID"
PHONE_FIELDS = {
    "Phone": PhoneType.WORK_PHONE,
    "Mobile": PhoneType.MOBILE,
    "Home_Phone": PhoneType.HOME_PHONE,
}
MAILING_KIND = AddressType.HOME
#: Where a contact's address goes on a write.
MAILING_FIELDS = AddressFields(
    "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country"
)
CUSTOM_TEXT_FIELDS = {"Department": "department", "Description": "description"}
TAGS_KEY = "tags"

# The fields a change feed asks for (v2 requires ``fields``; at most 50) [V2].
READ_FIELDS = (
    "First_Name",
    "Last_Name",
    "Full_Name",
    "Email",
    "Title",
    "Phone",
    "Mobile",
    "Home_Phone",
    "Mailing_Street",
    "Mailing_City",
    "Mailing_State",
    "Mailing_Zip",
    "Mailing_Country",
    "Account_Name",
    "Email_Opt_Out",
    "Tag",
    "Department",
    "Description",
    "Created_Time",
    "Modified_Time",
)


def parse_time(value: Any) -> datetime | None:
    """A Bigin datetime (``2026-10-07T03:21:34+03:00``) as aware UTC."""
    if not value or not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        # Bigin always sends an offset; a bare time is read as UTC rather than guessed.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An aware datetime the way Bigin writes them: seconds, numeric offset."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    # Most values are already text: str() of a str costs a call per field of every record.
    text = (value if value.__class__ is str else str(value)).strip()
    return text or None


# The Mailing_* field names, in AddressFields' order (street, city, state, zipcode, country).
_MAILING_READ: tuple[str, ...] = tuple(name for name in MAILING_FIELDS if name is not None)


def _first_numbers(contact: Contact) -> dict[int, str]:
    """The first number of each kind, as ``Contact.phone`` gives it, in one pass."""
    numbers: dict[int, str] = {}
    for phone in contact.phones:
        if phone.number and phone.kind not in numbers:
            numbers[phone.kind] = phone.number
    return numbers


def _tags(text: str) -> list[str]:
    """The tags of the comma-separated custom field, each trimmed, blanks dropped."""
    return [t.strip() for t in text.split(",") if t.strip()]


# Every mapped record goes through both functions (the change feed, each write, and the
# sync's comparer twice per record), so they avoid helpers called per field.
def record_to_contact(
    record: dict[str, Any], external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
) -> Contact:
    get = record.get
    phones = []
    for name, kind in PHONE_FIELDS.items():
        number = _text(get(name))
        if number:
            phones.append(Phone(kind=kind, number=number))
    street, city, state, zipcode, country = (_text(get(name)) for name in _MAILING_READ)
    addresses = []
    if street or city or state or zipcode or country:
        addresses.append(Address(MAILING_KIND, street, None, city, zipcode, state, country))
    account = get("Account_Name")
    company = None
    if isinstance(account, dict) and account.get("name"):
        company = Company(
            str(account["name"]), {SYSTEM: str(account["id"])} if account.get("id") else {}
        )
    custom: dict[str, str] = {}
    for name, key in CUSTOM_TEXT_FIELDS.items():
        value = _text(get(name))
        if value:
            custom[key] = value
    tags = [str(t["name"]) for t in get("Tag") or () if isinstance(t, dict) and t.get("name")]
    if tags:
        custom[TAGS_KEY] = ",".join(tags)
    record_id = get("id")
    return Contact(
        external_id=_text(get(external_id_field)),
        email=_text(get("Email")),
        ids={SYSTEM: str(record_id)} if record_id else {},
        title=_text(get("Title")),
        first_name=_text(get("First_Name")),
        last_name=_text(get("Last_Name")),
        full_name=_text(get("Full_Name")),
        created_at=parse_time(get("Created_Time")),
        updated_at=parse_time(get("Modified_Time")),
        company=company,
        addresses=addresses,
        phones=phones,
        custom_fields=custom,
        opt_in=not bool(get("Email_Opt_Out")),
    )


def contact_to_record(
    contact: Contact, external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
) -> dict[str, Any]:
    """The Bigin JSON for a write: only the fields the contact knows."""
    record: dict[str, Any] = {
        "First_Name": contact.first_name,
        "Last_Name": contact.last_name,
        "Email": contact.email,
        "Title": contact.title,
        external_id_field: contact.external_id,
    }
    numbers = _first_numbers(contact)
    for name, kind in PHONE_FIELDS.items():
        record[name] = numbers.get(kind)
    address = contact.address(MAILING_KIND)
    if address is not None:
        record.update(address_fields(address, MAILING_FIELDS))
    if contact.company is not None and contact.company.name:
        company_id = contact.company.ids.get(SYSTEM)
        record["Account_Name"] = (
            {"id": company_id} if company_id else {"name": contact.company.name}
        )
    custom = contact.custom_fields
    for name, key in CUSTOM_TEXT_FIELDS.items():
        record[name] = custom.get(key)
    if custom.get(TAGS_KEY):
        tags = _tags(custom[TAGS_KEY])
        if tags:
            record["Tag"] = [{"name": t} for t in tags]
    record["Email_Opt_Out"] = not contact.opt_in
    return {k: v for k, v in record.items() if v is not None}


def held_by_round_trip(
    contact: Contact, external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
) -> Contact:
    """The contact as Bigin holds it: written to a record and read back, no I/O.

    A write names the Account by id when it is known, but Bigin holds (and reads back) the
    lookup as ``{"name", "id"}``: it is compared by name, or a contact linked to an Account
    would look changed on every run and be written both ways forever. Bigin computes the
    full name, so the contact's own is kept; a company keeps its ids (Bigin's is its own).
    """
    record = contact_to_record(contact, external_id_field)
    if contact.company is not None and contact.company.name:
        record["Account_Name"] = {"name": contact.company.name}
    kept = record_to_contact(record, external_id_field)
    kept.full_name = contact.full_name
    if kept.company is not None and contact.company is not None:
        kept.company.ids = dict(contact.company.ids)
    return kept


# Every field the two functions above write or read but the External ID's own: the short
# way below holds only when the External ID field is none of them (a write would overwrite
# one with the other).
_RECORD_FIELDS = frozenset(
    {"id", *READ_FIELDS, *PHONE_FIELDS, *_MAILING_READ, *CUSTOM_TEXT_FIELDS, "Tag"}
)


def held(contact: Contact, external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD) -> Contact:
    """What :func:`held_by_round_trip` gives, without the record in between.

    The sync's comparer asks it of every contact it fingerprints; building and reading
    back the record cost about as much as the rest of the comparison.
    """
    if external_id_field in _RECORD_FIELDS:
        return held_by_round_trip(contact, external_id_field)
    # The first number of each kind (as a write takes it), then as it reads back.
    numbers = _first_numbers(contact)
    phones = []
    if numbers:
        for kind in PHONE_FIELDS.values():
            number = _text(numbers.get(kind))
            if number:
                phones.append(Phone(kind=kind, number=number))
    addresses = []
    address = contact.address(MAILING_KIND)
    if address is not None:
        line, city, state, zipcode, country = (
            _text(street(address)),
            _text(address.city),
            _text(address.state),
            _text(address.zipcode),
            _text(address.country_code),
        )
        if line or city or state or zipcode or country:
            addresses.append(Address(MAILING_KIND, line, None, city, zipcode, state, country))
    company = contact.company
    custom: dict[str, str] = {}
    fields = contact.custom_fields
    if fields:
        for key in CUSTOM_TEXT_FIELDS.values():
            value = _text(fields.get(key))
            if value:
                custom[key] = value
        if fields.get(TAGS_KEY):
            tags = _tags(fields[TAGS_KEY])
            if tags:
                custom[TAGS_KEY] = ",".join(tags)
    return Contact(
        external_id=_text(contact.external_id),
        email=_text(contact.email),
        title=_text(contact.title),
        first_name=_text(contact.first_name),
        last_name=_text(contact.last_name),
        full_name=contact.full_name,
        company=(
            Company(str(company.name), dict(company.ids))
            if company is not None and company.name
            else None
        ),
        addresses=addresses,
        phones=phones,
        custom_fields=custom,
        opt_in=bool(contact.opt_in),
    )
