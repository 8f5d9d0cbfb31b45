"""The zeep client against the legacy emulator, a real HTTP server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.connectors.base import UpsertStatus
from bridge.emulators.kit.server import Faults
from bridge.emulators.legacy import LegacySite
from bridge.errors import AuthError, ProtocolError
from bridge.model import Contact
from bridge.soap.contract.record import to_utc


def ids_of(pages) -> list[str]:
    return [c.ids["legacy"] for page in pages for c in page.contacts]


def test_1050_contacts_come_back_in_11_calls_once_each(start_legacy):
    legacy = start_legacy(records=1050)
    with legacy.connector() as connector:
        pages = list(connector.read_changes())
    assert len(pages) == 11
    assert [len(p.contacts) for p in pages] == [100] * 10 + [50]
    ids = ids_of(pages)
    assert len(ids) == len(set(ids)) == 1050
    assert set(ids) == {str(r["entityId"]) for r in legacy.app.store.all_records()}
    assert legacy.stats.snapshot()["requests"] == 11
    assert [p.position.cursor["offset"] for p in pages][-2:] == [1000, 1050]
    assert pages[-1].more is False and all(p.more for p in pages[:-1])


def test_reading_resumes_from_a_page_position(start_legacy):
    legacy = start_legacy(records=330)
    with legacy.connector() as connector:
        pages = connector.read_changes()
        first = [next(pages), next(pages)]
        resumed = list(connector.read_changes(resume=first[-1].position))
    assert len(set(ids_of(first) + ids_of(resumed))) == 330
    assert len(resumed) == 2


@pytest.mark.parametrize("timezone", ["Australia/Sydney", "America/New_York", "UTC"])
def test_since_filter_uses_site_local_time(start_legacy, timezone: str):
    legacy = start_legacy(records=400, site=LegacySite(timezone=timezone))
    records = legacy.app.store.all_records()
    tz = ZoneInfo(timezone)
    # A watermark in UTC halfway through the seeded changes.
    since = to_utc(records[200]["lastUpdateDate"], tz)
    expected = {str(r["entityId"]) for r in records if to_utc(r["lastUpdateDate"], tz) >= since}
    with legacy.connector() as connector:
        got = ids_of(connector.read_changes(since=since))
    assert set(got) == expected
    assert 150 < len(got) < 260
    # Told the wrong timezone, the client asks for the wrong local time and gets another set.
    if timezone != "UTC":
        with legacy.connector(timezone="UTC") as wrong:
            assert set(ids_of(wrong.read_changes(since=since))) != expected


def test_update_insert_matches_external_id_then_email_else_inserts(start_legacy):
    legacy = start_legacy(records=3)
    store = legacy.app.store
    first, second, _ = store.all_records()
    with legacy.connector() as connector:
        outcomes = connector.upsert(
            [
                # 1. External ID matches: updated even though the email changed.
                Contact(
                    external_id=first["externalId"], email="moved@example.com", last_name="Moved"
                ),
                # 2. No External ID, email matches (case-insensitive): updated.
                Contact(email=second["emailAddress"].upper(), last_name="ByEmail"),
                # 3. Neither: inserted, and inserted again when sent again.
                Contact(first_name="No", last_name="Keys"),
            ]
        )
        connector.upsert([Contact(first_name="No", last_name="Keys")])
    assert [o.status for o in outcomes] == [UpsertStatus.UPSERTED] * 3
    assert len(store) == 5
    assert store.get(first["entityId"])["emailAddress"] == "moved@example.com"
    assert store.get(first["entityId"])["lastName"] == "Moved"
    assert store.get(second["entityId"])["lastName"] == "ByEmail"
    # Fields the consumer did not send keep their value (lenient update).
    assert store.get(second["entityId"])["firstName"] == second["firstName"]
    assert sum(1 for r in store.all_records() if r["lastName"] == "Keys") == 2
    # Every write bumps lastUpdateDate past the seeded dates.
    assert store.get(first["entityId"])["lastUpdateDate"] > first["lastUpdateDate"]


def test_one_bad_record_does_not_sink_its_batch(start_legacy):
    legacy = start_legacy(records=0)
    contacts = [Contact(email=f"p{i}@example.com", last_name=f"P{i}") for i in range(5)]
    contacts[3] = Contact(email="not-an-email", last_name="Bad")
    with legacy.connector() as connector:
        outcomes = connector.upsert(contacts)
    assert [o.ok for o in outcomes] == [True, True, True, False, True]
    assert "invalid email" in outcomes[3].message
    assert len(legacy.app.store) == 4


def test_upserts_go_in_batches_of_at_most_100(start_legacy):
    legacy = start_legacy(records=0)
    contacts = [Contact(external_id=f"B-{i}", email=f"b{i}@example.com") for i in range(250)]
    with legacy.connector() as connector:
        assert all(o.ok for o in connector.upsert(contacts))
    assert len(legacy.app.store) == 250
    assert legacy.stats.snapshot()["requests"] == 3
    with legacy.connector(batch_size=40) as small:
        small.upsert(contacts[:80])
    assert legacy.stats.snapshot()["requests"] == 5
    assert len(legacy.app.store) == 250


def test_lookups_and_deletes(start_legacy):
    legacy = start_legacy(records=5)
    record = legacy.app.store.all_records()[2]
    with legacy.connector() as connector:
        by_id = connector.get(str(record["entityId"]))
        assert by_id is not None and by_id.email == record["emailAddress"]
        assert connector.find_by_email(record["emailAddress"]).ids == by_id.ids
        assert connector.find_by_external_id(record["externalId"]).ids == by_id.ids
        assert connector.get("999999") is None
        assert connector.find_by_email("nobody@example.com") is None
        assert connector.delete(str(record["entityId"])) is True
        assert connector.delete(str(record["entityId"])) is False
        other = legacy.app.store.all_records()[0]
        assert connector.delete_by_email(other["emailAddress"]) is True
    assert len(legacy.app.store) == 3


@pytest.mark.parametrize(
    "override", [{"password": "wrong"}, {"username": "someone@else"}, {"site_id": 999}]
)
def test_wrong_credentials_give_a_clear_error(start_legacy, override):
    legacy = start_legacy(records=5)
    with legacy.connector(**override) as connector:
        with pytest.raises(AuthError) as caught:
            connector.verify()
        with pytest.raises(AuthError):
            list(connector.read_changes())
    message = str(caught.value)
    assert "Invalid Username/Password or Site ID" in message
    assert "wrong" not in message  # the password never reaches the error
    with legacy.connector() as good:
        good.verify()


@pytest.mark.parametrize(
    ("quirk", "words"), [("empty-more", "empty page"), ("ignore-offset", "same page twice")]
)
def test_misbehaving_server_is_detected_not_looped(start_legacy, quirk: str, words: str):
    legacy = start_legacy(records=250, quirk=quirk)
    with legacy.connector() as connector, pytest.raises(ProtocolError, match=words):
        list(connector.read_changes())
    assert legacy.stats.snapshot()["requests"] <= 3


def test_reads_are_retried_through_server_errors(start_legacy):
    legacy = start_legacy(records=600, faults=Faults(fail_rate=0.3, seed=3))
    with legacy.connector() as connector:
        ids = ids_of(connector.read_changes())
    assert len(ids) == len(set(ids)) == 600
    assert legacy.stats.snapshot().get("status_503", 0) > 0


def test_soap12_binding_works_end_to_end(start_legacy):
    legacy = start_legacy(records=150)
    with legacy.connector(soap_version=12) as connector:
        assert len(ids_of(connector.read_changes())) == 150
        connector.upsert([Contact(external_id="S12", email="s12@example.com")])
        assert connector.find_by_external_id("S12") is not None


def test_written_contact_reads_back_with_site_local_dates(start_legacy):
    legacy = start_legacy(records=0, site=LegacySite(timezone="America/New_York"))
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    with legacy.connector() as connector:
        connector.upsert([Contact(external_id="T-1", email="t1@example.com", first_name="T")])
        back = connector.find_by_external_id("T-1")
    assert back is not None
    assert before <= back.updated_at <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize("read_ahead", [3, 8])
def test_read_ahead_overlaps_calls_and_still_returns_each_contact_once(start_legacy, read_ahead):
    legacy = start_legacy(records=1050, faults=Faults(latency=0.05))
    with legacy.connector(read_ahead=read_ahead) as connector:
        ids = ids_of(connector.read_changes())
    assert len(ids) == len(set(ids)) == 1050
    # Eleven pages, plus at most read_ahead - 1 guesses past the end.
    assert 11 <= legacy.stats.snapshot()["requests"] <= 11 + read_ahead - 1


def test_read_ahead_recovers_when_a_server_returns_short_pages(start_legacy):
    legacy = start_legacy(records=420)
    real = legacy.app.store.retrieve

    def short_pages(since, offset):
        records, _ = real(since, offset)
        records = records[:70]
        return records, offset + len(records) < 420

    legacy.app.store.retrieve = short_pages
    with legacy.connector(read_ahead=4) as connector:
        ids = ids_of(connector.read_changes())
    assert len(ids) == len(set(ids)) == 420
