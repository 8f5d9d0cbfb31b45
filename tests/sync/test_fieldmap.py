"""Per-integration mapping overrides: exclude, defaults, custom field renames."""

from __future__ import annotations

import pytest

from bridge.errors import ConfigError
from bridge.model import Contact, Phone, PhoneType
from bridge.sync import PassOptions, SyncEngine, SyncSpec
from bridge.sync.fieldmap import FieldMap


def test_outgoing_applies_exclude_defaults_and_renames():
    fieldmap = FieldMap.from_config(
        {
            "exclude": ["title", "phones"],
            "defaults": {"customer_type": "Member"},
            "custom_fields": {"tags": "labels"},
        }
    )
    contact = Contact(
        email="a@example.com",
        title="Dr",
        phones=[Phone(PhoneType.MOBILE, "1")],
        custom_fields={"tags": "vip"},
    )
    out = fieldmap.outgoing(contact)
    assert (out.title, out.phones, out.customer_type) == (None, [], "Member")
    assert out.custom_fields == {"labels": "vip"}
    assert fieldmap.outgoing(out, reverse=True).custom_fields == {"tags": "vip"}
    assert contact.title == "Dr"  # the original is untouched
    assert fieldmap.outgoing(Contact(customer_type="Prospect")).customer_type == "Prospect"


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"exclude": ["nickname"]}, "not a contact field"),
        ({"exclude": ["email"]}, "match keys"),
        ({"rename": {}}, "unknown key"),
    ],
)
def test_bad_mappings_are_config_errors(mapping, words):
    with pytest.raises(ConfigError, match=words):
        FieldMap.from_config(mapping)


def test_an_excluded_field_is_neither_written_nor_a_change(make_pair):
    pair = make_pair(records=20)
    fieldmap = FieldMap.from_config({"exclude": ["title"]})

    def run():
        source, target = pair.connectors()
        with source, target:
            spec = SyncSpec("members", source, target, fieldmap=fieldmap, options=PassOptions())
            return SyncEngine(pair.store, spec).run()

    run()
    key = pair.legacy_rows()[0]["externalId"]
    bigin_title = {r["External_ID"]: r.get("Title") for r in pair.bigin_rows()}[key]
    assert bigin_title is None
    source, _ = pair.connectors()
    with source:
        held = source.find_by_external_id(key)
        source.upsert([held.copy(title="Professor", ids={})])
    report = run()
    assert report.totals.updated == 0 and report.totals.unchanged >= 1
    assert {r["External_ID"]: r.get("Title") for r in pair.bigin_rows()}[key] is None
