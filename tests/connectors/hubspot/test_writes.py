"""HubSpot writes: per-record outcomes from the 207, duplicates resolved, merges followed."""

from __future__ import annotations

import pytest

from bridge.connectors.base import UpsertStatus
from bridge.connectors.hubspot import HubSpotConnector
from bridge.connectors.hubspot.writes import existing_id
from bridge.errors import AuthError
from bridge.model import Contact

from ..test_battery import person


def test_a_batch_with_one_duplicate_email_and_one_invalid_record_writes_the_others(start_hubspot):
    started = start_hubspot(0)
    connector: HubSpotConnector = started.connector  # type: ignore[assignment]
    store = started.emulator.store
    # Someone typed this contact into HubSpot by hand: same email, no External ID.
    existing = store.create({"email": "dup.2@battery.example.com", "firstname": "Hand"})
    batch = [person(i, "dup") for i in range(6)]
    batch[4] = batch[4].copy(email="not an email address")
    outcomes = connector.upsert(batch)

    assert [o.ok for o in outcomes] == [True, True, True, True, False, True]
    assert outcomes[4].status is UpsertStatus.FAILED and outcomes[4].field == "email"
    assert outcomes[2].status is UpsertStatus.UPDATED and outcomes[2].id == str(existing.id)
    assert {outcomes[i].status for i in (0, 1, 3, 5)} == {UpsertStatus.CREATED}
    assert len(store.live) == 5  # four created, the duplicate written onto the existing one
    assert store.live[existing.id].props["bridge_external_id"] == "DUP-00002"
    assert store.live[existing.id].props["lastname"] == "Tery2"


def test_a_duplicate_holding_another_external_id_is_refused_not_overwritten(start_hubspot):
    started = start_hubspot(0)
    connector = started.connector
    assert connector.upsert([person(1, "own")])[0].ok
    other = person(2, "own").copy(email="own.1@battery.example.com")
    outcome = connector.upsert([other])[0]
    assert outcome.status is UpsertStatus.FAILED and outcome.code == "CONFLICT"
    held = connector.find_by_email("own.1@battery.example.com")
    assert held is not None and held.external_id == "OWN-00001"


def test_the_external_id_property_is_created_once_when_missing(start_hubspot):
    started = start_hubspot(0)
    connector: HubSpotConnector = started.connector  # type: ignore[assignment]
    assert "bridge_external_id" not in started.emulator.store.properties
    assert connector.upsert([person(1)])[0].ok
    prop = started.emulator.store.properties["bridge_external_id"]
    assert prop.unique and not prop.hubspot_defined
    assert connector.ensure_external_id_property() is False
    assert connector.find_by_external_id("BAT-00001") is not None


def test_contacts_without_external_id_upsert_on_email_and_a_bad_one_fails_alone(start_hubspot):
    started = start_hubspot(0)
    connector = started.connector
    plain = [Contact(email=f"plain.{i}@example.com", last_name=f"P{i}") for i in range(4)]
    assert {o.status for o in connector.upsert(plain)} == {UpsertStatus.CREATED}
    again = [c.copy(first_name="Again") for c in plain]
    again[1] = again[1].copy(email="broken@@example")
    outcomes = connector.upsert(again)
    assert [o.ok for o in outcomes] == [True, False, True, True]
    assert {outcomes[i].status for i in (0, 2, 3)} == {UpsertStatus.UPDATED}
    assert len(started.emulator.store.live) == 4


def test_an_update_of_a_merged_id_follows_the_merge(start_hubspot):
    started = start_hubspot(0)
    connector = started.connector
    store = started.emulator.store
    created = connector.upsert([person(1, "m"), person(2, "m")])
    one, two = (o.id for o in created)
    merged = store.merge(int(one), int(two))
    assert connector.get(two) is not None and connector.get(two).ids["hubspot"] == str(merged.id)

    linked = person(2, "m").copy(first_name="AfterMerge", ids={"hubspot": two})
    outcome = connector.upsert([linked])[0]
    assert outcome.status is UpsertStatus.UPDATED and outcome.id == str(merged.id)
    assert store.live[merged.id].props["firstname"] == "AfterMerge"
    assert len(store.live) == 1, "following the merge created nothing"
    assert connector.delete(two) is False, "an old id is not a licence to delete the merged record"


def test_the_existing_id_is_read_from_the_conflict_message():
    assert existing_id("Contact already exists. Existing ID: 37765128953") == "37765128953"
    assert existing_id("Property values were not valid") is None


def test_a_private_app_token_works_and_a_wrong_one_is_an_auth_error(start_hubspot):
    started = start_hubspot(120, emulator={"auth": "private"})
    assert started.table is not None and "access_token" in started.table
    assert "refresh_token" not in started.table
    keys = [c.ids["hubspot"] for p in started.connector.read_changes() for c in p.contacts]
    assert len(keys) == 120
    assert started.emulator.grants.tokens.grant_count("refresh_token") == 0

    wrong = start_hubspot(0, emulator={"auth": "private"}, access_token="pat-na1-wrong")
    with pytest.raises(AuthError) as caught:
        wrong.connector.verify()
    assert "pat-na1-wrong" not in str(caught.value)
