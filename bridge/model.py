"""The canonical contact model every connector maps to and from.

Plain dataclasses, no I/O. Datetimes are always aware and in UTC; the connectors
convert from and to whatever local or offset form their wire uses. A ``None`` field
means "not known / not sent", which lets a partial record update only what it carries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from operator import attrgetter


class PhoneType(IntEnum):
    """The legacy contract's phoneNoTypeID code list."""

    HOME_PHONE = 1
    HOME_FAX = 2
    WORK_PHONE = 3
    WORK_FAX = 4
    MOBILE = 5
    PAGER = 6
    EMAIL_1 = 7
    EMAIL_2 = 8
    EMAIL_3 = 9
    WEB_ADDRESS = 10


class AddressType(IntEnum):
    """The legacy contract's addressTypeID code list (4 is unused upstream)."""

    HOME = 1
    WORK = 2
    PO_BOX = 3
    SHIPPING = 5
    PICKUP = 6
    STORAGE = 7
    BILLING = 8


class FieldType(IntEnum):
    """The legacy contract's fieldTypeId code list for CRM form fields."""

    TEXT = 1
    NUMBER = 2
    BOOLEAN = 3
    DATETIME = 4
    DROPDOWN = 5
    CHECKBOX_LIST = 6
    RADIO_LIST = 7
    IMAGE = 8
    MULTILINE = 9
    LISTBOX = 10
    HYPERLINK = 11


def code_or_int(enum: type[IntEnum], value: int) -> int:
    """The enum member for a known code, else the plain int (unknown codes survive)."""
    # Enum's own lookup (``enum(value)``) is slow for a call made per phone and address of
    # every record mapped; its value map answers the same for ints.
    member = enum._value2member_map_.get(value)
    if member is not None:
        return member  # type: ignore[return-value]
    try:
        return enum(value)
    except ValueError:
        return int(value)


@dataclass(slots=True)
class Phone:
    kind: int
    number: str | None = None


@dataclass(slots=True)
class Address:
    kind: int
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    zipcode: str | None = None
    state: str | None = None
    country_code: str | None = None

    def is_empty(self) -> bool:
        return not any(
            (self.line1, self.line2, self.city, self.zipcode, self.state, self.country_code)
        )


@dataclass(slots=True)
class Relationship:
    entity_id: int
    entity_type: int
    name: str | None = None


@dataclass(slots=True)
class FormField:
    field_id: int
    field_type: int
    name: str | None = None
    value: str | None = None


@dataclass(slots=True)
class CrmForm:
    form_id: int
    name: str | None = None
    fields: list[FormField] = field(default_factory=list)


@dataclass(slots=True)
class Company:
    name: str
    # Per-system ids of the company record, e.g. {"bigin": "7618..."}.
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Contact:
    """One person, as every system sees it once mapped.

    Keys, in the order the legacy contract matches on: ``external_id``, then ``email``.
    ``ids`` holds each system's own id for this contact (``{"legacy": "1042",
    "bigin": "7618134000000632028"}``).
    """

    external_id: str | None = None
    email: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    username: str | None = None
    # Write-only on every system we know; kept out of repr so it never reaches a log.
    password: str | None = field(default=None, repr=False)
    date_of_birth: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    customer_type: str | None = None
    industry_type: str | None = None
    lead_source_type: str | None = None
    rating_type: str | None = None
    company: Company | None = None
    relationships: list[Relationship] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    forms: list[CrmForm] = field(default_factory=list)
    # Free-form values a CRM has no dedicated field for (tags, custom fields).
    custom_fields: dict[str, str] = field(default_factory=dict)
    opt_in: bool = False
    deleted: bool = False

    def __post_init__(self) -> None:
        # Every mapped record passes here (several times in a sync): no loop over names.
        created, updated = self.created_at, self.updated_at
        if created is not None and created.tzinfo is None:
            raise ValueError(f"Contact.created_at must be timezone-aware, got {created!r}")
        if updated is not None and updated.tzinfo is None:
            raise ValueError(f"Contact.updated_at must be timezone-aware, got {updated!r}")

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or (self.email or self.external_id or "(unnamed)")

    def phone(self, kind: int) -> str | None:
        """The first phone number of the given type, if any."""
        for phone in self.phones:
            if phone.kind == kind and phone.number:
                return phone.number
        return None

    def address(self, kind: int) -> Address | None:
        for address in self.addresses:
            if address.kind == kind:
                return address
        return None

    def match_key(self) -> tuple[str, str] | None:
        """The key the legacy contract matches on: External ID, else the email (lower-cased)."""
        if self.external_id:
            return ("external_id", self.external_id)
        if self.email:
            return ("email", self.email.strip().lower())
        return None

    def replace(self, **changes: object) -> Contact:
        """A shallow copy with some fields replaced: what ``dataclasses.replace`` makes, in
        about a third of its time (it is made for every record a sync writes or compares)."""
        unknown = changes.keys() - _CONTACT_INDEX.keys()
        if unknown:
            raise TypeError(f"Contact has no field(s) {', '.join(sorted(unknown))}")
        values = list(_contact_values(self))
        for name, value in changes.items():
            values[_CONTACT_INDEX[name]] = value
        return Contact(*values)

    def copy(self, **changes: object) -> Contact:
        """A deep copy with some fields replaced (nested lists are not shared)."""
        clone = self.replace(**changes)
        clone.ids = dict(clone.ids)
        clone.custom_fields = dict(clone.custom_fields)
        if "relationships" not in changes:
            clone.relationships = [dataclasses.replace(r) for r in self.relationships]
        if "addresses" not in changes:
            clone.addresses = [dataclasses.replace(a) for a in self.addresses]
        if "phones" not in changes:
            clone.phones = [dataclasses.replace(p) for p in self.phones]
        if "forms" not in changes:
            clone.forms = [
                dataclasses.replace(f, fields=[dataclasses.replace(x) for x in f.fields])
                for f in self.forms
            ]
        if "company" not in changes and self.company is not None:
            clone.company = Company(self.company.name, dict(self.company.ids))
        return clone


# Contact's fields in __init__'s order: read all at once, and where each goes.
_CONTACT_FIELDS = tuple(f.name for f in dataclasses.fields(Contact))
_contact_values = attrgetter(*_CONTACT_FIELDS)
_CONTACT_INDEX = {name: index for index, name in enumerate(_CONTACT_FIELDS)}


def utc_now() -> datetime:
    """The current time, aware, in UTC, to the second (every wire we speak drops millis)."""
    return datetime.now(UTC).replace(microsecond=0)


def ensure_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: say which timezone it is in")
    return value.astimezone(UTC)
