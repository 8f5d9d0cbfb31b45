"""The fast request encoder writes what zeep writes for the same records."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zeep
from lxml import etree

from bridge.model import Address, Company, Contact, CrmForm, FormField, Phone, Relationship
from bridge.soap.client import SOAP11_BINDING, SOAP12_BINDING
from bridge.soap.contract.record import contact_to_record
from bridge.soap.encode import install_fast_input
from bridge.wsdl import wsdl_path

TZ = ZoneInfo("Australia/Sydney")
OPERATION = "ContactList_UpdateInsert"
ARRAY_ITEMS = {
    "relationships": "Relationship",
    "addresses": "Address",
    "phoneNos": "PhoneNo",
    "crmForms": "CrmForms",
    "crmFormFields": "CrmFormFields",
}


def zeep_shaped(record: dict[str, Any]) -> dict[str, Any]:
    """Arrays wrapped the way zeep's own serializer takes them (``{"Address": [...]}``)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        item = ARRAY_ITEMS.get(key)
        if item is not None:
            out[key] = {item: [zeep_shaped(v) for v in value]} if value else None
        else:
            out[key] = value
    return out


def contacts() -> list[Contact]:
    rng = random.Random(3)
    plain = Contact(
        external_id="EXT-1",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        title="Dr",
        date_of_birth=date(1815, 12, 10),
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("UTC")),
        updated_at=datetime(2025, 6, 7, 8, 9, 10, 123456, tzinfo=ZoneInfo("UTC")),
        phones=[Phone(kind=1, number="+61 2 9000 0000")],
        addresses=[Address(kind=1, line1="1 George St", city="Sydney", country_code="AU")],
        company=Company(name="Analytical Engines & Co"),
        relationships=[Relationship(entity_id=7, entity_type=2, name=None)],
        forms=[CrmForm(form_id=3, name="Club", fields=[FormField(5, 1, "Level", "Gold")])],
        opt_in=True,
    )
    awkward = Contact(
        email="x&y<z>@example.com",
        first_name="",
        last_name="Line\r\nbreak \t tab \u00e9\u4e2d\U0001f600 \"quoted\" 'single'",
        customer_type="  spaced  ",
        deleted=True,
    )
    bare = Contact()
    many = [
        Contact(
            external_id=f"EXT-{n}",
            email=f"p{n}@example.com",
            first_name=rng.choice(["Mia", "Noah", None]),
            phones=[Phone(kind=5, number=str(rng.randrange(10**9))) for _ in range(n % 3)],
        )
        for n in range(5)
    ]
    return [plain, awkward, bare, *many]


def shape(element: etree._Element) -> tuple[Any, ...]:
    """An element as data: name, attributes, text and children (prefixes do not matter)."""
    return (
        element.tag,
        sorted(element.attrib.items()),
        element.text or "",
        [shape(child) for child in element],
    )


@pytest.mark.parametrize("binding", [SOAP11_BINDING, SOAP12_BINDING], ids=["soap11", "soap12"])
def test_fast_request_equals_zeeps(binding: str):
    records = [contact_to_record(c, TZ, include_password=True) for c in contacts()]
    credentials = {"username": "api&<user>", "password": "p\u00e4ss", "siteId": 10101}
    reference = zeep.Client(str(wsdl_path()))
    fast = zeep.Client(str(wsdl_path()))
    install_fast_input(fast, binding, OPERATION)
    expected = reference.create_message(
        reference.create_service(binding, "http://127.0.0.1:9/x"),
        OPERATION,
        **credentials,
        contactsList={"ContactRecord": [zeep_shaped(r) for r in records]},
    )
    got = fast.create_message(
        fast.create_service(binding, "http://127.0.0.1:9/x"),
        OPERATION,
        **credentials,
        contactsList=records,
    )
    assert shape(got) == shape(expected)
    assert len(got.findall(".//{*}ContactRecord")) == len(records)


def test_missing_required_value_is_refused_as_zeep_does():
    client = zeep.Client(str(wsdl_path()))
    install_fast_input(client, SOAP11_BINDING, OPERATION)
    record = contact_to_record(Contact(email="a@example.com"), TZ)
    record["deleted"] = None
    with pytest.raises(zeep.exceptions.ValidationError):
        client.create_message(
            client.create_service(SOAP11_BINDING, "http://127.0.0.1:9/x"),
            OPERATION,
            username="u",
            password="p",
            siteId=1,
            contactsList=[record],
        )
