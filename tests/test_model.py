"""Contact.replace: the shallow copy the sync makes per record is dataclasses.replace's copy,
field for field, with its checks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from bridge.model import Address, Company, Contact, Phone, PhoneType

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _contact() -> Contact:
    return Contact(
        external_id="EXT-1", email="ada@example.org", ids={"legacy": "1"}, title="Dr",
        first_name="Ada", last_name="Lovelace", full_name="Ada Lovelace", username="ada",
        password="secret", date_of_birth=date(1990, 1, 2), created_at=WHEN, updated_at=WHEN,
        customer_type="Member", industry_type="Science", lead_source_type="Web",
        rating_type="Hot", company=Company("Engines"), addresses=[Address(1, "1 Main St")],
        phones=[Phone(PhoneType.MOBILE, "+61 400")], custom_fields={"tags": "a"},
        opt_in=True, deleted=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ids": {}},
        {"created_at": None, "updated_at": None},
        {"email": "x@y.z", "opt_in": False},
    ],
)
def test_replace_makes_what_dataclasses_replace_makes(changes: dict[str, object]) -> None:
    contact = _contact()
    copy = contact.replace(**changes)
    assert copy == dataclasses.replace(contact, **changes)  # type: ignore[arg-type]
    assert copy is not contact
    assert contact == _contact()  # the original is untouched
    # Shallow: the parts not replaced are shared, as with dataclasses.replace.
    assert copy.phones is contact.phones


def test_replace_refuses_unknown_fields_and_naive_times() -> None:
    with pytest.raises(TypeError, match="nickname"):
        _contact().replace(nickname="Ada")
    with pytest.raises(ValueError, match="updated_at must be timezone-aware"):
        _contact().replace(updated_at=datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="created_at must be timezone-aware"):
        Contact(created_at=datetime(2026, 1, 2))
