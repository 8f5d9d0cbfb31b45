"""The legacy ``ContactRecord``: its fields, types and order, and the mapping to ``Contact``.

The one home of the record's shape: :data:`STRUCTS` lists every complex type of the record
with its elements in the contract's sequence order, and the connector (decode), the facade
(spyne models, hot-path writer) and the legacy emulator (lenient reader, complete writer)
all read it from here. As code a record is a dict keyed by the wire's element names
(arrays as lists), the shape the client's decoder produces.

Every field of the record has a home in ``Contact``, so a record survives a round trip.
Dates on this wire are site-local and naive; ``0001-01-01T00:00:00`` means "none".
The output password is always blank, as the legacy service does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bridge.model import (
    Address,
    AddressType,
    Company,
    Contact,
    CrmForm,
    FieldType,
    FormField,
    Phone,
    PhoneType,
    Relationship,
    code_or_int,
)

SYSTEM = "legacy"
NO_DATE = datetime(1, 1, 1)
NO_DATE_TEXT = "0001-01-01T00:00:00"

# Element kinds: "s" string, "i" int (xs:int), "b" boolean, "d" dateTime, or the name of
# the struct an array holds (the array's items are elements named like that struct).
STRING, INT, BOOLEAN, DATETIME = "s", "i", "b", "d"
Fields = list[tuple[str, str]]
CONTACT_FIELDS: Fields = [
    ("entityId", INT),
    ("externalId", STRING),
    ("emailAddress", STRING),
    ("contactTitle", STRING),
    ("deleted", BOOLEAN),
    ("fullName", STRING),
    ("firstName", STRING),
    ("lastName", STRING),
    ("username", STRING),
    ("password", STRING),
    ("dateOfBirth", DATETIME),
    ("createDate", DATETIME),
    ("lastUpdateDate", DATETIME),
    ("customerType", STRING),
    ("industryType", STRING),
    ("leadSourceType", STRING),
    ("ratingType", STRING),
    ("relationships", "Relationship"),
    ("addresses", "Address"),
    ("phoneNos", "PhoneNo"),
    ("crmForms", "CrmForms"),
    ("MasterOptIn", BOOLEAN),
]
# Every struct of the record, inner ones before the ones that hold them.
STRUCTS: dict[str, Fields] = {
    "Relationship": [("entityId", INT), ("entityType", INT), ("name", STRING)],
    "Address": [
        ("addressTypeID", INT),
        ("addressLine1", STRING),
        ("addressLine2", STRING),
        ("city", STRING),
        ("zipcode", STRING),
        ("state", STRING),
        ("countryCode", STRING),
    ],
    "PhoneNo": [("phoneNoTypeID", INT), ("phoneNo", STRING)],
    "CrmFormFields": [
        ("fieldId", INT),
        ("fieldTypeId", INT),
        ("fieldName", STRING),
        ("fieldValue", STRING),
    ],
    "CrmForms": [("formId", INT), ("formName", STRING), ("crmFormFields", "CrmFormFields")],
    "ContactRecord": CONTACT_FIELDS,
}
# The value a missing element of each scalar kind stands for (strings stay None).
DEFAULTS: dict[str, object] = {STRING: None, INT: 0, BOOLEAN: False, DATETIME: NO_DATE}
# Relationship entityType that links a contact to its company. Not in the contract's code
# lists (inferred from the hosted CRM's "company" entity); configurable per connection.
COMPANY_ENTITY_TYPE = 2


def to_utc(local: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A site-local wire datetime as aware UTC; the 0001-01-01 sentinel becomes None."""
    if local is None:
        return None
    if local.tzinfo is not None:
        # Some servers add an offset or Z; it then says what it is.
        return local.astimezone(UTC)
    if local.year == 1:
        return None
    return local.replace(tzinfo=tz).astimezone(UTC)


def to_local(value: datetime | None, tz: ZoneInfo) -> datetime:
    """An aware datetime as the naive site-local form the wire wants (None -> sentinel)."""
    if value is None:
        return NO_DATE
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot be placed in site time")
    return value.astimezone(tz).replace(tzinfo=None)


def company_of(relationships: list[Relationship], company_entity_type: int) -> Company | None:
    """The company a record's relationships name: the first of the company type with a name."""
    for rel in relationships:
        if rel.entity_type == company_entity_type and rel.name:
            return Company(rel.name, {SYSTEM: str(rel.entity_id)} if rel.entity_id else {})
    return None


def _entity_number(text: str | None) -> int:
    """An id as the wire's ``entityId``: its number when it is all digits, else 0."""
    return int(text) if text and text.isdigit() else 0


def _added_company(contact: Contact, company_entity_type: int) -> Relationship | None:
    """The relationship a write adds to name the contact's company: none without a
    company, or when a relationship of the company type is there already."""
    company = contact.company
    if company is None or any(
        int(r.entity_type) == company_entity_type for r in contact.relationships
    ):
        return None
    return Relationship(_entity_number(company.ids.get(SYSTEM)), company_entity_type, company.name)


def _birth_date(value: datetime | None) -> date | None:
    if value is None or value.year == 1:
        return None
    return value.date()


def record_to_contact(
    record: dict[str, Any], tz: ZoneInfo, company_entity_type: int = COMPANY_ENTITY_TYPE
) -> Contact:
    """A decoded ``ContactRecord`` as a ``Contact``."""
    relationships = [
        Relationship(
            entity_id=r.get("entityId") or 0,
            entity_type=r.get("entityType") or 0,
            name=r.get("name"),
        )
        for r in record.get("relationships") or ()
        if r is not None
    ]
    entity_id = record.get("entityId")
    return Contact(
        external_id=record.get("externalId") or None,
        email=record.get("emailAddress") or None,
        ids={SYSTEM: str(entity_id)} if entity_id else {},
        title=record.get("contactTitle"),
        first_name=record.get("firstName"),
        last_name=record.get("lastName"),
        full_name=record.get("fullName"),
        username=record.get("username"),
        password=record.get("password") or None,
        date_of_birth=_birth_date(record.get("dateOfBirth")),
        created_at=to_utc(record.get("createDate"), tz),
        updated_at=to_utc(record.get("lastUpdateDate"), tz),
        customer_type=record.get("customerType"),
        industry_type=record.get("industryType"),
        lead_source_type=record.get("leadSourceType"),
        rating_type=record.get("ratingType"),
        company=company_of(relationships, company_entity_type),
        relationships=relationships,
        addresses=[
            Address(
                kind=code_or_int(AddressType, a.get("addressTypeID") or 0),
                line1=a.get("addressLine1"),
                line2=a.get("addressLine2"),
                city=a.get("city"),
                zipcode=a.get("zipcode"),
                state=a.get("state"),
                country_code=a.get("countryCode"),
            )
            for a in record.get("addresses") or ()
            if a is not None
        ],
        phones=[
            Phone(kind=code_or_int(PhoneType, p.get("phoneNoTypeID") or 0), number=p.get("phoneNo"))
            for p in record.get("phoneNos") or ()
            if p is not None
        ],
        forms=[
            CrmForm(
                form_id=f.get("formId") or 0,
                name=f.get("formName"),
                fields=[
                    FormField(
                        field_id=x.get("fieldId") or 0,
                        field_type=code_or_int(FieldType, x.get("fieldTypeId") or 0),
                        name=x.get("fieldName"),
                        value=x.get("fieldValue"),
                    )
                    for x in f.get("crmFormFields") or ()
                    if x is not None
                ],
            )
            for f in record.get("crmForms") or ()
            if f is not None
        ],
        opt_in=bool(record.get("MasterOptIn")),
        deleted=bool(record.get("deleted")),
    )


def contact_to_record(
    contact: Contact,
    tz: ZoneInfo,
    *,
    include_password: bool = False,
    company_entity_type: int = COMPANY_ENTITY_TYPE,
) -> dict[str, Any]:
    """A ``Contact`` as a ``ContactRecord`` dict, every field present, arrays as lists."""
    entity_id = contact.ids.get(SYSTEM)
    relationships = [
        {"entityId": r.entity_id, "entityType": int(r.entity_type), "name": r.name}
        for r in contact.relationships
    ]
    added = _added_company(contact, company_entity_type)
    if added is not None:
        relationships.append(
            {"entityId": added.entity_id, "entityType": added.entity_type, "name": added.name}
        )
    birth = contact.date_of_birth
    return {
        "entityId": _entity_number(entity_id),
        "externalId": contact.external_id,
        "emailAddress": contact.email,
        "contactTitle": contact.title,
        "deleted": contact.deleted,
        "fullName": contact.full_name,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "username": contact.username,
        "password": (contact.password or "") if include_password else "",
        "dateOfBirth": datetime.combine(birth, time()) if birth else NO_DATE,
        "createDate": to_local(contact.created_at, tz),
        "lastUpdateDate": to_local(contact.updated_at, tz),
        "customerType": contact.customer_type,
        "industryType": contact.industry_type,
        "leadSourceType": contact.lead_source_type,
        "ratingType": contact.rating_type,
        "relationships": relationships,
        "addresses": [
            {
                "addressTypeID": int(a.kind),
                "addressLine1": a.line1,
                "addressLine2": a.line2,
                "city": a.city,
                "zipcode": a.zipcode,
                "state": a.state,
                "countryCode": a.country_code,
            }
            for a in contact.addresses
        ],
        "phoneNos": [{"phoneNoTypeID": int(p.kind), "phoneNo": p.number} for p in contact.phones],
        "crmForms": [
            {
                "formId": f.form_id,
                "formName": f.name,
                "crmFormFields": [
                    {
                        "fieldId": x.field_id,
                        "fieldTypeId": int(x.field_type),
                        "fieldName": x.name,
                        "fieldValue": x.value,
                    }
                    for x in f.fields
                ],
            }
            for f in contact.forms
        ],
        "MasterOptIn": contact.opt_in,
    }


def held(
    contact: Contact,
    tz: ZoneInfo,
    company_entity_type: int = COMPANY_ENTITY_TYPE,
) -> Contact:
    """The contact as the legacy service holds it: what ``record_to_contact`` gives for
    ``contact_to_record(contact, tz, include_password=True, ...)``, without the record
    (the sync's comparer asks for this form of every contact it fingerprints).
    """
    entity = _entity_number(contact.ids.get(SYSTEM))
    relationships = [
        Relationship(entity_id=r.entity_id or 0, entity_type=int(r.entity_type), name=r.name)
        for r in contact.relationships
    ]
    added = _added_company(contact, company_entity_type)
    if added is not None:
        relationships.append(added)
    birth = contact.date_of_birth
    if birth:
        birth = _birth_date(datetime.combine(birth, time()))
    created, updated = contact.created_at, contact.updated_at
    return Contact(
        external_id=contact.external_id or None,
        email=contact.email or None,
        ids={SYSTEM: str(entity)} if entity else {},
        title=contact.title,
        first_name=contact.first_name,
        last_name=contact.last_name,
        full_name=contact.full_name,
        username=contact.username,
        password=contact.password or None,
        date_of_birth=birth or None,
        created_at=None if created is None else to_utc(to_local(created, tz), tz),
        updated_at=None if updated is None else to_utc(to_local(updated, tz), tz),
        customer_type=contact.customer_type,
        industry_type=contact.industry_type,
        lead_source_type=contact.lead_source_type,
        rating_type=contact.rating_type,
        company=company_of(relationships, company_entity_type),
        relationships=relationships,
        # A code that is already its enum member reads back as that member: no look-up.
        addresses=[
            Address(
                a.kind
                if a.kind.__class__ is AddressType
                else code_or_int(AddressType, int(a.kind)),
                a.line1,
                a.line2,
                a.city,
                a.zipcode,
                a.state,
                a.country_code,
            )
            for a in contact.addresses
        ],
        phones=[
            Phone(
                p.kind if p.kind.__class__ is PhoneType else code_or_int(PhoneType, int(p.kind)),
                p.number,
            )
            for p in contact.phones
        ],
        forms=[
            CrmForm(
                form_id=f.form_id or 0,
                name=f.name,
                fields=[
                    FormField(
                        field_id=x.field_id or 0,
                        field_type=code_or_int(FieldType, int(x.field_type)),
                        name=x.name,
                        value=x.value,
                    )
                    for x in f.fields
                ],
            )
            for f in contact.forms
        ],
        opt_in=bool(contact.opt_in),
        deleted=bool(contact.deleted),
    )
