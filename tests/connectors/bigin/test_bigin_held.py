"""Bigin's normalize without the record: the contact as a write and a read back leave it,
for awkward contacts and any External ID field (one a write would clash with takes the
long way)."""

from __future__ import annotations

from contact_strategies import contacts, odd_contacts, outcome
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.config import ConnectionConfig
from bridge.connectors.bigin.mapping import DEFAULT_EXTERNAL_ID_FIELD, held, held_by_round_trip
from bridge.connectors.registry import build_connector
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType

FIELDS = [DEFAULT_EXTERNAL_ID_FIELD, "Legacy_Ref", "Email", "id", "Tag", "Phone", "Full_Name"]
CHECKS = settings(max_examples=400, deadline=None)


@CHECKS
@given(contact=contacts, field=st.sampled_from(FIELDS))
def test_held_is_the_round_trip(contact: Contact, field: str) -> None:
    assert outcome(held, contact, field) == outcome(held_by_round_trip, contact, field)


@CHECKS
@given(contact=odd_contacts)
def test_held_is_the_round_trip_for_odd_values_too(contact: Contact) -> None:
    assert outcome(held, contact) == outcome(held_by_round_trip, contact)


def test_what_bigin_holds_of_a_contact() -> None:
    contact = Contact(
        external_id=" EXT-1 ",
        email="ada@example.org",
        ids={"bigin": "76", "legacy": "5"},
        first_name=" ",
        full_name=" Ada  L ",
        username="ada",
        company=Company("Engines", {"bigin": "99"}),
        addresses=[
            Address(AddressType.WORK, "9 Side St"),
            Address(AddressType.HOME, "1 Main St", "Unit 2", " Sydney "),
        ],
        phones=[
            Phone(PhoneType.MOBILE, " "),  # the first mobile: blank, so no mobile at all
            Phone(PhoneType.MOBILE, "0400"),
            Phone(PhoneType.WORK_PHONE, "02 9000"),
            Phone(PhoneType.PAGER, "1"),
        ],
        custom_fields={"tags": " a, ,b ", "department": " Sales ", "other": "x"},
        opt_in=True,
    )
    assert held(contact) == Contact(
        external_id="EXT-1",
        email="ada@example.org",
        full_name=" Ada  L ",
        company=Company("Engines", {"bigin": "99"}),
        addresses=[Address(AddressType.HOME, "1 Main St, Unit 2", None, "Sydney")],
        phones=[Phone(PhoneType.WORK_PHONE, "02 9000")],
        custom_fields={"department": "Sales", "tags": "a,b"},
        opt_in=True,
    )
    assert held(contact) == held_by_round_trip(contact)


def test_the_connector_normalizes_with_its_external_id_field() -> None:
    settings = {"api_domain": "http://127.0.0.1:9", "accounts_url": "http://127.0.0.1:9",
                "client_id": "c", "client_secret": "s", "refresh_token": "r"}  # fmt: skip
    contact = Contact(external_id="EXT-9", email="e@example.org", first_name="E")
    for field in ("Legacy_Ref", "Email"):
        bigin = build_connector(
            ConnectionConfig("b", "bigin", dict(settings, external_id_field=field))
        )
        assert bigin.normalize(contact) == held_by_round_trip(contact, field)
    # A write puts the External ID where the email goes: what Bigin would then hold.
    assert bigin.normalize(contact).email == "EXT-9"
