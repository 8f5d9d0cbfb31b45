"""Fingerprints do not depend on the comparer's shortcuts: a contact's digest is the hash
of its two-way normal form without change times, whichever connector is inner, and a
connector that carries change times gets them dropped before its round trip."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType
from bridge.sync.fingerprint import Comparer, canonical, fingerprint

BIGIN = {"api_domain": "http://127.0.0.1:9", "accounts_url": "http://127.0.0.1:9",
         "client_id": "c", "client_secret": "s", "refresh_token": "r"}  # fmt: skip
LEGACY = {"endpoint": "http://127.0.0.1:9/x.asmx", "username": "u", "password": "p",
          "site_id": 1, "timezone": "Australia/Sydney"}  # fmt: skip
CHANGED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _contact() -> Contact:
    return Contact(
        external_id="EXT-1",
        email=" Ada@Example.org ",
        ids={"legacy": "1001"},
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=date(1990, 1, 2),
        created_at=CHANGED,
        updated_at=CHANGED,
        company=Company("Engines Ltd"),
        addresses=[Address(kind=AddressType.HOME, line1="1 Main St", city="Sydney")],
        phones=[Phone(kind=PhoneType.MOBILE, number="+61 400 000 000")],
        opt_in=True,
    )


@pytest.fixture()
def ends() -> dict[str, Connector]:
    return {
        "legacy": build_connector(ConnectionConfig("crm", "legacy", dict(LEGACY))),
        "bigin": build_connector(ConnectionConfig("bigin", "bigin", dict(BIGIN))),
    }


@pytest.mark.parametrize(("first", "second"), [("legacy", "bigin"), ("bigin", "legacy")])
def test_digest_is_the_normal_form_without_change_times(
    ends: dict[str, Connector], first: str, second: str
) -> None:
    compare = Comparer(ends[first], ends[second])
    contact = _contact()
    bare = dataclasses.replace(contact, created_at=None, updated_at=None)

    expected = fingerprint(ends[first].normalize(ends[second].normalize(bare)))

    assert compare(contact) == expected
    # Change times alone never make a contact look changed.
    later = dataclasses.replace(contact, updated_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert compare(later) == expected
    assert compare(dataclasses.replace(contact, first_name="Augusta")) != expected


def test_change_times_are_dropped_before_a_round_trip_that_carries_them(
    ends: dict[str, Connector],
) -> None:
    # The legacy wire carries change times (converted to and from site time); Bigin's
    # writes carry none, so its round trip drops them by itself.
    assert ends["legacy"].normalize(_contact()).updated_at == CHANGED
    assert ends["bigin"].normalize(_contact()).updated_at is None
    seen: list[datetime | None] = []
    legacy = ends["legacy"]
    normalize = legacy.normalize

    def watched(contact: Contact) -> Contact:
        seen.append(contact.updated_at)
        return normalize(contact)

    compare = Comparer(ends["bigin"], legacy)
    legacy.normalize = watched  # type: ignore[method-assign]
    compare(_contact())
    assert seen == [None]


def test_addresses_of_one_kind_differing_where_one_has_no_part_are_fingerprinted() -> None:
    """Two addresses of one kind, the first difference a part only one of them has: the
    rows once compared None with text and the comparer failed on the record."""
    plain = Address(AddressType.HOME, "1 Main St")
    unit = Address(AddressType.HOME, "1 Main St", "Unit 2")
    one = Contact(email="a@example.org", addresses=[plain, unit])
    other = Contact(email="a@example.org", addresses=[unit, plain])
    assert fingerprint(one) == fingerprint(other)  # the order they come in does not count
    assert canonical(one)["addresses"][0][2] is None  # the address without a part first
    assert fingerprint(one) != fingerprint(Contact(email="a@example.org", addresses=[unit]))
