"""The legacy service's normalize without the record: the contact as
``record_to_contact(contact_to_record(...))`` leaves it, for awkward contacts, time zones
with daylight saving and any company entity type."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from contact_strategies import contacts, odd_contacts, outcome
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Company, Contact, Relationship
from bridge.soap.contract.record import contact_to_record, held, record_to_contact

ZONES = [ZoneInfo("Australia/Sydney"), ZoneInfo("UTC"), ZoneInfo("America/St_Johns")]
CHECKS = settings(max_examples=400, deadline=None)


def round_trip(contact: Contact, tz: ZoneInfo, kind: int = 2) -> Contact:
    record = contact_to_record(contact, tz, include_password=True, company_entity_type=kind)
    return record_to_contact(record, tz, kind)


@CHECKS
@given(contact=contacts, tz=st.sampled_from(ZONES), kind=st.integers(0, 3))
def test_held_is_the_round_trip(contact: Contact, tz: ZoneInfo, kind: int) -> None:
    assert outcome(held, contact, tz, kind) == outcome(round_trip, contact, tz, kind)


@CHECKS
@given(contact=odd_contacts)
def test_held_is_the_round_trip_for_odd_values_too(contact: Contact) -> None:
    assert outcome(held, contact, ZONES[0]) == outcome(round_trip, contact, ZONES[0])


def test_what_the_legacy_service_holds_of_a_contact() -> None:
    sydney = ZONES[0]
    # 02:30 local on 6 April 2025 happens twice in Sydney: this is the second time, which
    # the local time keeps (as its fold) on the way back.
    second_time = datetime(2025, 4, 5, 16, 30, tzinfo=UTC)
    contact = Contact(
        external_id="",
        ids={"legacy": "007", "bigin": "76"},
        password="",
        date_of_birth=date(1, 2, 3),
        updated_at=second_time,
        company=Company("Engines", {"legacy": "x"}),
        relationships=[Relationship(3, 5, "Club")],
        custom_fields={"tags": "a"},
        opt_in=1,  # type: ignore[arg-type]
    )
    kept = held(contact, sydney)
    assert kept.ids == {"legacy": "7"}
    assert (kept.external_id, kept.password, kept.date_of_birth) == (None, None, None)
    assert kept.updated_at == second_time
    assert kept.relationships == [Relationship(3, 5, "Club"), Relationship(0, 2, "Engines")]
    assert kept.company == Company("Engines", {})
    assert (kept.custom_fields, kept.opt_in) == ({}, True)
    assert kept == round_trip(contact, sydney)
