"""ContactRecord <-> Contact: every field survives a round trip, dates are site-local."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.emulators.legacy.records import complete
from bridge.emulators.legacy.store import seed_record
from bridge.model import AddressType, Company, Contact, PhoneType
from bridge.soap.contract.record import (
    NO_DATE,
    contact_to_record,
    record_to_contact,
    to_local,
    to_utc,
)

SYDNEY = ZoneInfo("Australia/Sydney")


def full_record() -> dict:
    record = complete(seed_record(7, random.Random(1)))
    record["entityId"] = 4242
    record["relationships"] = [
        {"entityId": 77, "entityType": 2, "name": "Zylker Pty Ltd"},
        {"entityId": 78, "entityType": 5, "name": "Book club"},
    ]
    record["password"] = ""
    record["addresses"].append(
        {
            "addressTypeID": 8,
            "addressLine1": "PO Box 1",
            "addressLine2": "Level 2",
            "city": "Perth",
            "zipcode": "6000",
            "state": "WA",
            "countryCode": "AU",
        }
    )
    record["phoneNos"].append({"phoneNoTypeID": 11, "phoneNo": "unknown code survives"})
    return record


def test_record_round_trip_keeps_every_field():
    record = full_record()
    contact = record_to_contact(record, SYDNEY)
    assert contact_to_record(contact, SYDNEY) == record


def test_record_maps_into_the_canonical_model():
    contact = record_to_contact(full_record(), SYDNEY)
    assert contact.ids == {"legacy": "4242"}
    assert contact.external_id == "EXT-000008"
    assert contact.company == Company("Zylker Pty Ltd", {"legacy": "77"})
    assert contact.phone(PhoneType.HOME_PHONE) and contact.phone(PhoneType.MOBILE)
    assert contact.address(AddressType.BILLING).line1 == "PO Box 1"
    assert contact.forms[0].fields[0].name == "Membership level"
    assert contact.date_of_birth == date(1957, 8, 8)
    assert contact.updated_at.tzinfo is UTC
    # 2025-01-01 in Sydney is UTC+11 (daylight saving): the seeded 09:14 local is 22:14 UTC the day before.
    assert contact.created_at.utcoffset().total_seconds() == 0


def test_contact_round_trip_through_the_wire_shape():
    contact = Contact(
        external_id="X-1",
        email="a@example.com",
        first_name="A",
        last_name="B",
        created_at=datetime(2026, 6, 1, 2, 3, 4, tzinfo=UTC),
        updated_at=datetime(2026, 6, 2, tzinfo=UTC),
        company=Company("Acme"),
        opt_in=True,
    )
    back = record_to_contact(contact_to_record(contact, SYDNEY), SYDNEY)
    assert back.created_at == contact.created_at
    assert back.updated_at == contact.updated_at
    assert back.company.name == "Acme"
    assert (back.external_id, back.email, back.opt_in) == ("X-1", "a@example.com", True)


def test_password_is_written_only_when_asked_and_never_in_repr():
    contact = Contact(email="a@example.com", password="s3cret!")
    assert "s3cret" not in repr(contact)
    assert contact_to_record(contact, SYDNEY)["password"] == ""
    assert contact_to_record(contact, SYDNEY, include_password=True)["password"] == "s3cret!"


def test_missing_dates_are_the_contract_sentinel():
    assert to_utc(NO_DATE, SYDNEY) is None
    assert to_local(None, SYDNEY) == NO_DATE
    record = contact_to_record(Contact(email="x@example.com"), SYDNEY)
    assert record["dateOfBirth"] == record["createDate"] == record["lastUpdateDate"] == NO_DATE


@pytest.mark.parametrize(
    ("tz", "local", "utc"),
    [
        (
            "Australia/Sydney",
            datetime(2026, 1, 15, 10, 0),
            datetime(2026, 1, 14, 23, 0, tzinfo=UTC),
        ),
        ("Australia/Sydney", datetime(2026, 7, 15, 10, 0), datetime(2026, 7, 15, 0, 0, tzinfo=UTC)),
        (
            "America/New_York",
            datetime(2026, 1, 15, 10, 0),
            datetime(2026, 1, 15, 15, 0, tzinfo=UTC),
        ),
        ("UTC", datetime(2026, 1, 15, 10, 0), datetime(2026, 1, 15, 10, 0, tzinfo=UTC)),
    ],
)
def test_site_local_time_converts_both_ways(tz: str, local: datetime, utc: datetime):
    zone = ZoneInfo(tz)
    assert to_utc(local, zone) == utc
    assert to_local(utc, zone) == local


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1), SYDNEY)
    with pytest.raises(ValueError):
        Contact(updated_at=datetime(2026, 1, 1))
