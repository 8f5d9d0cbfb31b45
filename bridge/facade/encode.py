"""The facade's hot path: ``Contact`` objects written straight to ``ContactRecord`` XML.

Profiling a 100-record ``ContactList_Retrieve`` answer through spyne's own serializer shows
the time going to its generic machinery (per field: type lookup, attribute handling,
element creation through lxml's Python API), not to the bytes. The contract is fixed, so
this module writes the same elements with string joins in sequence order, the way the
legacy service's bytes look (value types always present, ``None`` strings omitted, empty
strings as ``<x />``, the password always blank). spyne still parses, dispatches and
describes the service; only this answer skips its serializer.

The fields and the mapping are the contract's (:data:`bridge.soap.contract.record.STRUCTS`,
:func:`bridge.soap.contract.record.contact_to_record`), unrolled here for speed: building
the record dict first and walking the field table per element is the generic work this
module exists to skip, so tests compare the two on the same contacts instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bridge.model import Contact
from bridge.soap.contract.record import COMPANY_ENTITY_TYPE, NO_DATE_TEXT, SYSTEM
from bridge.soap.contract.wire import escape_text


def _s(parts: list[str], name: str, value: str | None) -> None:
    if value is None:
        return
    if value:
        parts.append(f"<{name}>{escape_text(value)}</{name}>")
    else:
        parts.append(f"<{name} />")


class LocalTime:
    """Aware datetimes as the site-local, offset-less text the legacy wire carries."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        # Seeded and bulk-edited data repeats the same instants; converting each once helps.
        self._cache: dict[datetime, str] = {}

    def text(self, value: datetime | None) -> str:
        if value is None:
            return NO_DATE_TEXT
        cached = self._cache.get(value)
        if cached is None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            cached = value.astimezone(self.tz).replace(tzinfo=None).isoformat(timespec="seconds")
            if len(self._cache) < 4096:
                self._cache[value] = cached
        return cached


def write_contact(
    parts: list[str],
    contact: Contact,
    entity_id: int,
    local: LocalTime,
    element: str = "ContactRecord",
    company_entity_type: int = COMPANY_ENTITY_TYPE,
) -> None:
    """Append one ``<element>`` holding ``contact`` as a ``ContactRecord``."""
    parts.append(f"<{element}><entityId>{entity_id}</entityId>")
    _s(parts, "externalId", contact.external_id)
    _s(parts, "emailAddress", contact.email)
    _s(parts, "contactTitle", contact.title)
    parts.append("<deleted>true</deleted>" if contact.deleted else "<deleted>false</deleted>")
    _s(parts, "fullName", contact.full_name)
    _s(parts, "firstName", contact.first_name)
    _s(parts, "lastName", contact.last_name)
    _s(parts, "username", contact.username)
    birth = contact.date_of_birth
    parts.append(
        "<password /><dateOfBirth>"
        + (f"{birth.isoformat()}T00:00:00" if birth else NO_DATE_TEXT)
        + "</dateOfBirth><createDate>"
        + local.text(contact.created_at)
        + "</createDate><lastUpdateDate>"
        + local.text(contact.updated_at)
        + "</lastUpdateDate>"
    )
    _s(parts, "customerType", contact.customer_type)
    _s(parts, "industryType", contact.industry_type)
    _s(parts, "leadSourceType", contact.lead_source_type)
    _s(parts, "ratingType", contact.rating_type)
    _relationships(parts, contact, company_entity_type)
    if contact.addresses:
        parts.append("<addresses>")
        for a in contact.addresses:
            parts.append(f"<Address><addressTypeID>{int(a.kind)}</addressTypeID>")
            _s(parts, "addressLine1", a.line1)
            _s(parts, "addressLine2", a.line2)
            _s(parts, "city", a.city)
            _s(parts, "zipcode", a.zipcode)
            _s(parts, "state", a.state)
            _s(parts, "countryCode", a.country_code)
            parts.append("</Address>")
        parts.append("</addresses>")
    if contact.phones:
        parts.append("<phoneNos>")
        for p in contact.phones:
            parts.append(f"<PhoneNo><phoneNoTypeID>{int(p.kind)}</phoneNoTypeID>")
            _s(parts, "phoneNo", p.number)
            parts.append("</PhoneNo>")
        parts.append("</phoneNos>")
    if contact.forms:
        _forms(parts, contact)
    parts.append(
        f"<MasterOptIn>{'true' if contact.opt_in else 'false'}</MasterOptIn></{element}>"
    )


def _relationships(parts: list[str], contact: Contact, company_entity_type: int) -> None:
    rels = [(r.entity_id, int(r.entity_type), r.name) for r in contact.relationships]
    company = contact.company
    if company is not None and not any(kind == company_entity_type for _, kind, _ in rels):
        company_id = company.ids.get(SYSTEM)
        rels.append(
            (
                int(company_id) if company_id and company_id.isdigit() else 0,
                company_entity_type,
                company.name,
            )
        )
    if not rels:
        return
    parts.append("<relationships>")
    for entity_id, kind, name in rels:
        parts.append(
            f"<Relationship><entityId>{entity_id}</entityId><entityType>{kind}</entityType>"
        )
        _s(parts, "name", name)
        parts.append("</Relationship>")
    parts.append("</relationships>")


def _forms(parts: list[str], contact: Contact) -> None:
    parts.append("<crmForms>")
    for form in contact.forms:
        parts.append(f"<CrmForms><formId>{form.form_id}</formId>")
        _s(parts, "formName", form.name)
        if form.fields:
            parts.append("<crmFormFields>")
            for f in form.fields:
                parts.append(
                    f"<CrmFormFields><fieldId>{f.field_id}</fieldId>"
                    f"<fieldTypeId>{int(f.field_type)}</fieldTypeId>"
                )
                _s(parts, "fieldName", f.name)
                _s(parts, "fieldValue", f.value)
                parts.append("</CrmFormFields>")
            parts.append("</crmFormFields>")
        parts.append("</CrmForms>")
    parts.append("</crmForms>")


def retrieve_children(
    contacts: Iterable[tuple[Contact, int]], local: LocalTime, next_offset: int, more: bool
) -> str:
    """The children of ``ContactList_RetrieveResponse`` for one page."""
    parts = ["<ContactList_RetrieveResult>"]
    for contact, entity_id in contacts:
        write_contact(parts, contact, entity_id, local)
    parts.append(
        f"</ContactList_RetrieveResult><recordStart>{next_offset}</recordStart>"
        f"<moreRecords>{'true' if more else 'false'}</moreRecords>"
    )
    return "".join(parts)


def contact_element(element: str, contact: Contact, entity_id: int, local: LocalTime) -> str:
    parts: list[str] = []
    write_contact(parts, contact, entity_id, local, element)
    return "".join(parts)
