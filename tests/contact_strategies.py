"""Hypothesis strategies for awkward contacts: what a short cut must treat as its long way does.

Text that is blank, padded, upper-cased, unicode, comma-separated or control characters;
codes known and unknown; ids that are digits, zero-padded, zero or not numbers; companies
with and without names and ids; relationships that do or do not name the company; forms;
change times in UTC and around a daylight saving change; dates of birth in year 1.
``odd_contacts`` also puts values of the wrong type where a scalar is expected (numbers,
floats, booleans), as a contact built by hand or read from JSON may hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

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
)

SYDNEY = ZoneInfo("Australia/Sydney")
AWKWARD = [
    "",
    " ",
    "\t\n",
    "Ada",
    " Ada ",
    "ADA@Example.ORG ",
    "Zoë",
    "İstanbul",
    "Straße",
    "a\u00a0b",
    "line\nbreak",
    '"quoted" \\ back',
    "\u4e2d\U0001f600",
    "tag1, tag2 ,, ,tag3",
    ",",
    " , ",
    "0",
    "007",
    "42",
    "x1",
    "EXT-1",
]
texts = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=8))
maybe_texts = st.one_of(st.none(), texts)
ids_text = st.sampled_from(["", "0", "007", "12", "7618134000000632028", "x1", " 5", "-3"])


def codes(enum: Any) -> st.SearchStrategy[int]:
    """Known codes as members or plain ints, and unknown ones."""
    return st.one_of(st.sampled_from(list(enum)), st.integers(0, 12))


# Times that are exact, mid-second, and around the end of Sydney's daylight saving time
# (local times that happen twice, told apart by their fold).
_DST = datetime(2025, 4, 5, 15, 0, tzinfo=UTC)  # 02:00 local, clocks go back an hour later
times = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(-7200, 7200).map(lambda s: _DST + timedelta(seconds=s)),
    st.integers(-7200, 7200).map(lambda s: (_DST + timedelta(seconds=s)).astimezone(SYDNEY)),
)
births = st.one_of(
    st.none(),
    st.dates(),
    st.sampled_from([date(1, 1, 1), date(1, 6, 30), date(2000, 2, 29)]),
    st.datetimes(min_value=datetime(1, 1, 1)),  # a datetime where a date belongs
)

companies = st.one_of(
    st.none(),
    st.builds(
        Company,
        name=texts,
        ids=st.dictionaries(st.sampled_from(["legacy", "bigin"]), ids_text, max_size=2),
    ),
)
relationships = st.builds(
    Relationship,
    entity_id=st.one_of(st.none(), st.integers(0, 5)),
    entity_type=st.integers(0, 4),  # 2: the company
    name=maybe_texts,
)
addresses = st.builds(
    Address,
    kind=codes(AddressType),
    line1=maybe_texts,
    line2=maybe_texts,
    city=maybe_texts,
    zipcode=maybe_texts,
    state=maybe_texts,
    country_code=maybe_texts,
)
phones = st.builds(Phone, kind=codes(PhoneType), number=maybe_texts)
forms = st.builds(
    CrmForm,
    form_id=st.one_of(st.none(), st.integers(0, 3)),
    name=maybe_texts,
    fields=st.lists(
        st.builds(
            FormField,
            field_id=st.one_of(st.none(), st.integers(0, 3)),
            field_type=codes(FieldType),
            name=maybe_texts,
            value=maybe_texts,
        ),
        max_size=3,
    ),
)
custom_fields = st.dictionaries(
    st.one_of(st.sampled_from(["department", "description", "tags"]), texts), texts, max_size=4
)


def _contacts(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Contact]:
    return st.builds(
        Contact,
        external_id=scalars,
        email=scalars,
        ids=st.dictionaries(st.sampled_from(["legacy", "bigin", "other"]), ids_text, max_size=3),
        title=scalars,
        first_name=scalars,
        last_name=scalars,
        full_name=scalars,
        username=scalars,
        password=maybe_texts,
        date_of_birth=births,
        created_at=times,
        updated_at=times,
        customer_type=scalars,
        industry_type=scalars,
        lead_source_type=scalars,
        rating_type=scalars,
        company=companies,
        relationships=st.lists(relationships, max_size=3),
        addresses=st.lists(addresses, max_size=3),
        phones=st.lists(phones, max_size=4),
        forms=st.lists(forms, max_size=2),
        custom_fields=custom_fields,
        opt_in=st.booleans(),
        deleted=st.booleans(),
    )


#: Contacts whose fields hold the types the model declares.
contacts = _contacts(maybe_texts)
#: Contacts with, now and then, a number, a float or a boolean where text belongs.
odd_contacts = _contacts(st.one_of(maybe_texts, st.integers(), st.floats(), st.booleans()))


def outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """What a call gives: its value, or the type of what it raised (for comparing two ways)."""
    try:
        return ("value", function(*args))
    except Exception as error:  # either way must fail alike
        return ("raised", type(error))
