"""The fingerprint's JSON text written directly is the sorted-key JSON of ``canonical``,
byte for byte: for awkward contacts, under any field exclusion, and, for values it does
not write itself, through the encoder (the same digest, or the same failure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import date
from pathlib import Path

import pytest
from contact_strategies import contacts, odd_contacts, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.model import Address, Company, Contact, CrmForm, FormField, Phone, Relationship
from bridge.sync.fingerprint import _ENCODER, _NEVER, canonical, canonical_text, fingerprint
from bridge.sync.payload import contact_from_json

FIELDS = [
    "addresses", "company", "custom_fields", "customer_type", "date_of_birth", "deleted",
    "email", "external_id", "first_name", "forms", "industry_type", "last_name",
    "lead_source_type", "opt_in", "phones", "rating_type", "relationships", "title",
    "username", "full_name", "ids", "not_a_field",
]  # fmt: skip
ignores = st.frozensets(st.sampled_from(FIELDS), max_size=6)
CHECKS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURE = Path(__file__).parent / "fixtures" / "digests.json"


def long_way(contact: Contact, ignore: Collection[str] = ()) -> str:
    text = _ENCODER.encode(canonical(contact, ignore))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@CHECKS
@given(contact=contacts, ignore=ignores)
def test_the_text_is_the_encoders_for_contacts_of_the_model(
    contact: Contact, ignore: frozenset[str]
) -> None:
    # No fallback here: values of the model's own types are all written directly.
    expected = outcome(lambda: _ENCODER.encode(canonical(contact, ignore)))
    assert outcome(lambda: canonical_text(contact, _NEVER | ignore)) == expected
    assert outcome(fingerprint, contact, ignore) == outcome(long_way, contact, ignore)


@CHECKS
@given(contact=odd_contacts, ignore=ignores)
def test_odd_values_give_the_encoders_digest_or_its_failure(
    contact: Contact, ignore: frozenset[str]
) -> None:
    assert outcome(fingerprint, contact, ignore) == outcome(long_way, contact, ignore)


def test_the_fixtures_contacts_are_written_directly() -> None:
    cases = json.loads(FIXTURE.read_text())["cases"]
    for case in cases:
        contact = contact_from_json(case["contact"])
        for ignore in ([], ["title", "phones"], ["company", "forms", "email"]):
            text = canonical_text(contact, _NEVER.union(ignore))
            assert text == _ENCODER.encode(canonical(contact, ignore)), case


def awkward() -> Contact:
    return Contact(
        email=" MiXed@Example.ORG ",
        title="  ",
        first_name='Zoë \u4e2d\U0001f600 "q" \\ \n',
        date_of_birth=date(1, 1, 1),
        company=Company("  "),
        relationships=[Relationship(1, 2, " B "), Relationship(2, 2, None), Relationship(0, 1, "")],
        addresses=[
            Address(8, "z", None, " "),
            Address(1, " b", "\t"),  # blank parts are not empty ones: cleaned to null
            Address(1, "a", "x"),
            Address(2),  # empty: left out
        ],
        phones=[Phone(5, " 2 "), Phone(5, "10"), Phone(1, "  "), Phone(3, None)],
        forms=[CrmForm(2, None, [FormField(3, 1, None, " v "), FormField(1, 1, None, None)])],
        custom_fields={"b": " x ", "a": "y", "blank": "  "},
        opt_in=True,
    )


@pytest.mark.parametrize(
    ("changes", "direct"),
    [
        ({}, True),
        ({"title": 7}, True),
        ({"opt_in": 1}, True),
        ({"email": ""}, True),
        ({"title": 1.5}, False),
        ({"custom_fields": {"a": 2.5}}, False),
        ({"custom_fields": {3: "x"}}, False),
        ({"relationships": [Relationship(1, 2.0, "x")]}, False),  # type: ignore[arg-type]
        ({"email": 5}, False),  # canonical fails to lower-case it: so does the fingerprint
    ],
)
def test_values_the_text_does_not_write_go_through_the_encoder(
    changes: dict[str, object], direct: bool
) -> None:
    contact = awkward().replace(**changes)
    written = outcome(lambda: canonical_text(contact, _NEVER))
    encoded = outcome(lambda: _ENCODER.encode(canonical(contact)))
    assert (written == encoded and written[0] == "value") is direct
    assert outcome(fingerprint, contact) == outcome(long_way, contact)
