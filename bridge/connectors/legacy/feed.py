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
from datetime import UTC, date, datetime
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
    company_of,
    to_utc,
)
from bridge.soap.decode import XSI_NIL, parse_datetime
from bridge.wsdl import NAMESPACE

NS = f"{{{NAMESPACE}}}"
# The lexical forms of xs:boolean true (xsi:nil is one).
TRUE = ("true", "1")
# Distinct texts remembered per converted field (dates, codes, flags); a feed's values
# repeat (birth dates, batch imports, a handful of codes), and past this many a field's
# memory is started afresh.
DATE_MEMORY = 4096

Element: TypeAlias = etree._Element
# convert(element) -> its value.
Convert = Callable[[Element], Any]
# read(text) -> the value of an element's text (None for an empty element).
ReadText = Callable[[str | None], Any]
# How one field is read, and its value when the element is absent: the element's text as
# it is (None), its text converted and remembered (a ReadText in a ``_Remembered``), or
# the element converted (a Convert: numbers that rarely repeat, arrays).
Reading = tuple["_Remembered | Convert | None", Any]


class _Remembered:
    """A conversion of an element's text, each distinct text converted once.

    The texts are remembered in ``memory`` when one is given (fields that share it), else
    in a memory of the converter's own field.
    """

    __slots__ = ("memory", "read")

    def __init__(self, read: ReadText, memory: dict[str | None, Any] | None = None) -> None:
        self.read = read
        self.memory = memory


def _int_text(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip() else None


def _int(elem: Element) -> int | None:
    return _int_text(elem.text)


def _int_or_zero(text: str | None) -> int:
    return _int_text(text) or 0


def _flag(text: str | None) -> bool:
    return text is not None and text.strip() in TRUE


def _code(enum: type[IntEnum]) -> Reading:
    return _Remembered(lambda text: code_or_int(enum, _int_text(text) or 0)), code_or_int(enum, 0)


# Each scalar kind of the contract, read (an int with a code list is given explicitly).
_BY_KIND: dict[str, Reading] = {
    STRING: (None, None),
    INT: (_Remembered(_int_or_zero), 0),
    BOOLEAN: (_Remembered(_flag), False),
}


def _struct(struct: str, build: Callable[..., Any], **special: Reading) -> Convert:
    """A converter for one struct element: ``build`` gets each field's value, in order.

    Fields are read as their contract kind says unless ``special`` says otherwise; an
    array field (``ArrayOfX``) must be special, and reads as a new empty list when absent.
    A field read by a ``_Remembered`` without a memory of its own gets one per converter
    made here (the nested structs' converters, made once, share theirs across readers:
    codes and numbers do not depend on the site).
    """
    fields = STRUCTS[struct]
    readings = [special.get(name) or _BY_KIND[kind] for name, kind in fields]
    # {tag: (index, memory or None, how)}: the loop below reads every element of the
    # feed, so each kind is told apart by two identity tests, without a call for text.
    index: dict[str, tuple[int, dict[str | None, Any] | None, Any]] = {}
    for i, ((name, _), (how, _)) in enumerate(zip(fields, readings, strict=True)):
        if isinstance(how, _Remembered):
            index[NS + name] = (i, {} if how.memory is None else how.memory, how.read)
        else:
            index[NS + name] = (i, None, how)
    defaults = [default for _, default in readings]
    lists = [i for i, (_, kind) in enumerate(fields) if kind in STRUCTS]

    # The tags in the contract's order: a server writes a record's elements in that order,
    # so the element after field i is most often field i + 1, and comparing its tag with
    # that one costs less than hashing it (a new string per element) for the lookup.
    order = tuple(NS + name for name, _ in fields)
    entries = tuple(index[tag] for tag in order)
    count = len(order)

    def convert(elem: Element) -> Any:
        values = defaults.copy()
        get = index.get
        at = 0
        for child in elem:
            tag = child.tag
            entry = entries[at] if at < count and tag == order[at] else get(tag)
            if entry is None:
                continue
            # A repeated element: the last one wins, as in the dicts.
            i, memory, how = entry
            at = i + 1
            if how is None:
                values[i] = child.text
            elif memory is None:
                values[i] = how(child)
            else:
                text = child.text
                value = memory.get(text, memory)  # the memory itself: never a value
                if value is memory:
                    value = how(text)
                    if len(memory) >= DATE_MEMORY:
                        memory.clear()
                    memory[text] = value
                values[i] = value
        for i in lists:
            if values[i] is None:
                values[i] = []
        return build(*values)

    return convert


def _array(item: str, convert: Convert) -> Reading:
    """How an ``ArrayOfX`` element is read: its non-nil ``X`` items, converted."""
    tag = NS + item

    def convert_items(elem: Element) -> list[Any]:
        # Most items carry no attribute at all: listing none costs less than the namespaced
        # get that looks for xsi:nil.
        return [
            convert(child)
            for child in elem
            if child.tag == tag and not (child.keys() and child.get(XSI_NIL) in TRUE)
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


def _birth_day(text: str | None) -> date | None:
    """A birth date: the date part as written, none for the 0001-01-01 sentinel."""
    value = parse_datetime(text)
    return None if value is None or value.year == 1 else value.date()


class FeedReader:
    """Reads ``ContactRecord`` elements into contacts for one site (its time zone)."""

    def __init__(self, tz: ZoneInfo, company_entity_type: int = COMPANY_ENTITY_TYPE) -> None:
        self.tz = tz
        self.company_entity_type = company_entity_type
        self._instants: dict[str | None, Any] = {}
        # Converters other than the plain kind's; ``_contact`` receives the values in the
        # contract's order (a test compares every field with record_to_contact's).
        self._record = _struct(
            "ContactRecord",
            self._contact,
            entityId=(_int, None),
            dateOfBirth=(_Remembered(_birth_day), None),
            createDate=(_Remembered(self._instant, self._instants), None),
            lastUpdateDate=(_Remembered(self._instant, self._instants), None),
            **_NESTED,
        )

    def _instant(self, text: str | None) -> datetime | None:
        """A site-local dateTime as aware UTC: ``to_utc``'s value.

        Nearly every record brings a new instant or two, so the common case (naive, not
        the sentinel) attaches the zone positionally: ``local.replace(tzinfo=...)``, as
        ``to_utc`` writes it, spends more on parsing its keyword than the conversion
        costs. ``fromisoformat`` gives fold 0, as ``replace`` keeps it.
        """
        local = parse_datetime(text)
        if local is None or local.tzinfo is not None or local.year == 1:
            return to_utc(local, self.tz)
        return datetime(
            local.year,
            local.month,
            local.day,
            local.hour,
            local.minute,
            local.second,
            local.microsecond,
            self.tz,
        ).astimezone(UTC)

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
            company=company_of(relationships, self.company_entity_type),
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
            if child.keys() and child.get(XSI_NIL) in TRUE:
                raise ProtocolError("the feed holds a nil ContactRecord", system=SYSTEM)
            contact: Contact = self._record(child)
            entity_id = contact.ids.get(SYSTEM)
            out.append({"entityId": entity_id, "deleted": contact.deleted, "contact": contact})
        return out
