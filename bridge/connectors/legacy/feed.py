"""``ContactList_Retrieve`` records read from the XML straight into ``Contact`` objects.

The feed is the hot path of every legacy -> X sync. Decoding each ``ContactRecord`` into a
wire dict (:mod:`bridge.soap.decode`) and then mapping the dict (``record_to_contact``)
walked every value twice and built a dict per record and per nested item, which the
garbage collector then paid for again. Here one walk of each record's children builds the
``Contact`` and its parts, and a date seen before (the same text) is not parsed or
converted again.

The values are exactly those of ``record_to_contact`` applied to the decoder's dicts
(tests compare the two, and zeep's own decoding, on the same envelopes): the field types
come from the contract (:data:`bridge.soap.contract.record.STRUCTS`), ``""`` keys and
password mean "none", the ``0001-01-01`` dates mean "none", site-local dates become UTC, nil
array items are skipped. Unknown elements are ignored, as the schema decoder does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import IntEnum
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from lxml import etree

from bridge import model
from bridge.errors import ProtocolError
from bridge.model import Contact, code_or_int
from bridge.soap.contract.record import (
    BOOLEAN,
    COMPANY_ENTITY_TYPE,
    INT,
    STRING,
    STRUCTS,
    SYSTEM,
    to_utc,
)
from bridge.soap.decode import XSI_NIL, parse_datetime
from bridge.wsdl import NAMESPACE

NS = f"{{{NAMESPACE}}}"
# The lexical forms of xs:boolean true (xsi:nil is one).
TRUE = ("true", "1")
# Distinct date texts remembered per reader; a feed's dates repeat (birth dates, batch
# imports), and past this many the memory is started afresh.
DATE_MEMORY = 4096

Element: TypeAlias = etree._Element
# convert(element) -> its value; None for plain text, read inline (most fields are).
Convert = Callable[[Element], Any]
# How one field is read: its converter and its value when the element is absent.
Reading = tuple[Convert | None, Any]


def _int(elem: Element) -> int | None:
    text = elem.text
    return int(text) if text is not None and text.strip() else None


def _int_or_zero(elem: Element) -> int:
    return _int(elem) or 0


def _flag(elem: Element) -> bool:
    text = elem.text
    return text is not None and text.strip() in TRUE


def _code(enum: type[IntEnum]) -> Reading:
    return (lambda elem: code_or_int(enum, _int(elem) or 0)), code_or_int(enum, 0)


# Each scalar kind of the contract, read (an int with a code list is given explicitly).
_BY_KIND: dict[str, Reading] = {
    STRING: (None, None),
    INT: (_int_or_zero, 0),
    BOOLEAN: (_flag, False),
}


def _struct(struct: str, build: Callable[..., Any], **special: Reading) -> Convert:
    """A converter for one struct element: ``build`` gets each field's value, in order.

    Fields are read as their contract kind says unless ``special`` says otherwise; an
    array field (``ArrayOfX``) must be special, and reads as a new empty list when absent.
    """
    fields = STRUCTS[struct]
    readings = [special.get(name) or _BY_KIND[kind] for name, kind in fields]
    index = {
        NS + name: (i, reading[0])
        for i, ((name, _), reading) in enumerate(zip(fields, readings, strict=True))
    }
    defaults = [default for _, default in readings]
    lists = [i for i, (_, kind) in enumerate(fields) if kind in STRUCTS]

    def convert(elem: Element) -> Any:
        values = defaults.copy()
        get = index.get
        for child in elem:
            entry = get(child.tag)
            if entry is not None:  # a repeated element: the last one wins, as in the dicts
                i, read = entry
                values[i] = child.text if read is None else read(child)
        for i in lists:
            if values[i] is None:
                values[i] = []
        return build(*values)

    return convert


def _array(item: str, convert: Convert) -> Reading:
    """How an ``ArrayOfX`` element is read: its non-nil ``X`` items, converted."""
    tag = NS + item

    def convert_items(elem: Element) -> list[Any]:
        return [
            convert(child) for child in elem if child.tag == tag and child.get(XSI_NIL) not in TRUE
        ]

    return convert_items, None


_FORM_FIELDS = _array(
    "CrmFormFields", _struct("CrmFormFields", model.FormField, fieldTypeId=_code(model.FieldType))
)
_NESTED: dict[str, Reading] = {
    "relationships": _array("Relationship", _struct("Relationship", model.Relationship)),
    "addresses": _array(
        "Address", _struct("Address", model.Address, addressTypeID=_code(model.AddressType))
    ),
    "phoneNos": _array(
        "PhoneNo", _struct("PhoneNo", model.Phone, phoneNoTypeID=_code(model.PhoneType))
    ),
    "crmForms": _array("CrmForms", _struct("CrmForms", model.CrmForm, crmFormFields=_FORM_FIELDS)),
}


def _birth_day(text: str) -> date | None:
    """A birth date: the date part as written, none for the 0001-01-01 sentinel."""
    value = parse_datetime(text)
    return None if value is None or value.year == 1 else value.date()


def _remembered(memory: dict[str, Any], read: Callable[[str], Any]) -> Convert:
    """A converter of an element's text by ``read``, each distinct text read once."""

    def convert(elem: Element) -> Any:
        text = elem.text
        if text is None:
            return None
        try:
            return memory[text]
        except KeyError:
            pass
        value = read(text)
        if len(memory) >= DATE_MEMORY:
            memory.clear()
        memory[text] = value
        return value

    return convert


class FeedReader:
    """Reads ``ContactRecord`` elements into contacts for one site (its time zone)."""

    def __init__(self, tz: ZoneInfo, company_entity_type: int = COMPANY_ENTITY_TYPE) -> None:
        self.tz = tz
        self.company_entity_type = company_entity_type
        self._instants: dict[str, Any] = {}
        # Converters other than the plain kind's; ``_contact`` receives the values in the
        # contract's order (a test compares every field with record_to_contact's).
        self._record = _struct(
            "ContactRecord",
            self._contact,
            entityId=(_int, None),
            dateOfBirth=(_remembered({}, _birth_day), None),
            createDate=(_remembered(self._instants, self._instant), None),
            lastUpdateDate=(_remembered(self._instants, self._instant), None),
            **_NESTED,
        )

    def _instant(self, text: str) -> datetime | None:
        """A site-local dateTime as aware UTC."""
        return to_utc(parse_datetime(text), self.tz)

    def _contact(
        self,
        entity_id: int | None,
        external_id: str | None,
        email: str | None,
        title: str | None,
        deleted: bool,
        full_name: str | None,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        password: str | None,
        date_of_birth: date | None,
        created_at: datetime | None,
        updated_at: datetime | None,
        customer_type: str | None,
        industry_type: str | None,
        lead_source_type: str | None,
        rating_type: str | None,
        relationships: list[model.Relationship],
        addresses: list[model.Address],
        phones: list[model.Phone],
        forms: list[model.CrmForm],
        opt_in: bool,
    ) -> Contact:
        company = None
        for rel in relationships:
            if rel.entity_type == self.company_entity_type and rel.name:
                company = model.Company(
                    rel.name, {SYSTEM: str(rel.entity_id)} if rel.entity_id else {}
                )
                break
        # The wire's "" (an empty CDATA) means "none" for the keys and the password.
        return Contact(
            external_id=external_id or None,
            email=email or None,
            ids={SYSTEM: str(entity_id)} if entity_id else {},
            title=title,
            first_name=first_name,
            last_name=last_name,
            full_name=full_name,
            username=username,
            password=password or None,
            date_of_birth=date_of_birth,
            created_at=created_at,
            updated_at=updated_at,
            customer_type=customer_type,
            industry_type=industry_type,
            lead_source_type=lead_source_type,
            rating_type=rating_type,
            company=company,
            relationships=relationships,
            addresses=addresses,
            phones=phones,
            forms=forms,
            opt_in=opt_in,
            deleted=deleted,
        )

    def records(self, result: Element | None) -> list[dict[str, Any]]:
        """The ``ContactRecord`` items of a ``ContactList_RetrieveResult`` element.

        Each as ``{"entityId", "deleted", "contact"}``: what paging and id listing look
        at (the id as text, None for none) and the contact. A nil record has nothing to
        read: the page is refused rather than shortened (offsets count records).
        """
        if result is None:
            return []
        tag = NS + "ContactRecord"
        out: list[dict[str, Any]] = []
        for child in result:
            if child.tag != tag:
                continue
            if child.get(XSI_NIL) in TRUE:
                raise ProtocolError("the feed holds a nil ContactRecord", system=SYSTEM)
            contact: Contact = self._record(child)
            entity_id = contact.ids.get(SYSTEM)
            out.append({"entityId": entity_id, "deleted": contact.deleted, "contact": contact})
        return out
