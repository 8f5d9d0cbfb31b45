"""The Bigin connector against the Bigin emulator on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bridge.connectors.base import Position, UpsertStatus
from bridge.connectors.bigin import verify_notification
from bridge.connectors.bigin.mapping import contact_to_record, record_to_contact
from bridge.emulators.kit.server import Faults
from bridge.errors import AuthError, ProtocolError, RateLimited, TransientError
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType
from bridge.retry import RetrySchedule

FAST = RetrySchedule(attempts=3, initial=0.05, maximum=5)


def ids_of(pages) -> list[str]:
    return [c.ids["bigin"] for p in pages for c in p.contacts]


def test_reads_2500_contacts_by_moving_the_modified_since_anchor(start_bigin):
    bigin = start_bigin(records=2500)
    connector = bigin.connector()
    pages = list(connector.read_changes())
    ids = ids_of(pages)
    assert len(ids) == 2500 == len(set(ids)) == bigin.app.store.count("Contacts")
    assert len(pages) == 13  # 200 per page
    cursors = [p.position.cursor for p in pages]
    # Every request was page 1 of "modified after the anchor": past 2,000 records
    # without ever reaching Bigin's page limit.
    assert all(c["page"] == 1 and "page_token" not in c for c in cursors)
    anchors = [c["anchor"] for c in cursors[:-1]]
    assert anchors == sorted(anchors) and len(set(anchors)) == len(anchors)
    times = [c.updated_at for p in pages for c in p.contacts]
    assert times == sorted(times)  # Modified_Time ascending


def test_a_record_modified_mid_read_does_not_hide_another(start_bigin):
    bigin = start_bigin(records=300)
    connector = bigin.connector(per_page=100)
    feed = connector.read_changes()
    first = next(feed)
    connector.upsert([first.contacts[10].copy(first_name="Touched")])
    rest = list(feed)
    seen = set(ids_of([first])) | set(ids_of(rest))
    # Offset paging would lose one record here: every record behind the touched one
    # shifts back by one place. The touched record comes again, at the end.
    assert len(seen) == 300
    assert ids_of(rest)[-1] == first.contacts[10].ids["bigin"]


def frozen_flood(start_bigin, count: int):
    """An emulator holding ``count`` contacts all modified in the same second."""
    bigin = start_bigin()
    # Frozen at "now": page token expiries are computed from this clock too.
    instant = datetime.now(UTC).replace(microsecond=0)
    bigin.app.store.clock = lambda: instant
    connector = bigin.connector()
    contacts = [Contact(email=f"f{i}@example.com", last_name=f"F{i}") for i in range(count)]
    assert all(o.ok for o in connector.upsert(contacts))
    return bigin, connector


def test_over_2000_records_in_one_second_cross_the_page_limit_by_token(start_bigin):
    bigin, connector = frozen_flood(start_bigin, 2300)
    pages = list(connector.read_changes())
    ids = ids_of(pages)
    assert len(ids) == 2300 == len(set(ids))
    assert any("page_token" in p.position.cursor for p in pages)
    assert bigin.stats().get("status_400", 0) == 0  # never asked for a page past 2,000


def test_resume_inside_a_one_second_flood_and_after_its_token_expired(start_bigin):
    _, connector = frozen_flood(start_bigin, 2300)
    feed = connector.read_changes()
    head = [next(feed) for _ in range(11)]
    feed.close()
    position = Position.from_json(head[-1].position.to_json())
    assert "page_token" in position.cursor
    rest = list(connector.read_changes(resume=position))
    assert len(ids_of(head)) + len(ids_of(rest)) == 2300
    assert not set(ids_of(head)) & set(ids_of(rest))
    # An expired token cannot be used: that second is read again, so nothing is lost.
    stale = Position(None, dict(position.cursor, expiry="2000-01-01T00:00:00+00:00"))
    again = set(ids_of(connector.read_changes(resume=stale)))
    assert set(ids_of(rest)) <= again


def test_empty_module_and_nothing_modified_are_empty_feeds(start_bigin):
    connector = start_bigin(records=0).connector()
    pages = list(connector.read_changes())
    assert [(len(p.contacts), p.more) for p in pages] == [(0, False)]
    connector = start_bigin(records=10).connector(overlap_seconds=0)
    future = datetime.now(UTC) + timedelta(hours=1)
    assert ids_of(connector.read_changes(since=future)) == []


def test_modified_since_uses_an_overlap_window(start_bigin):
    bigin = start_bigin(records=5)
    connector = bigin.connector(overlap_seconds=120)
    connector.upsert([Contact(email="early@example.com", last_name="Early")])
    since = datetime.now(UTC) + timedelta(seconds=60)  # as if our clock ran a minute fast
    changed = [c.email for p in connector.read_changes(since=since) for c in p.contacts]
    assert changed == ["early@example.com"]


def test_per_record_errors_keep_vendor_code_and_field(start_bigin):
    bigin = start_bigin()
    connector = bigin.connector()
    connector.upsert([Contact(external_id="X-1", email="one@example.com", last_name="One")])
    connector.upsert([Contact(external_id="X-2", email="two@example.com", last_name="Two")])
    outcomes = connector.upsert(
        [
            Contact(email="nolast@example.com", first_name="No"),
            Contact(external_id="X-3", email="bad email", last_name="Bad"),
            # Matches X-1 by External ID but takes X-2's email: a duplicate.
            Contact(external_id="X-1", email="two@example.com", last_name="Clash"),
            Contact(external_id="X-4", email="four@example.com", last_name="Four"),
        ]
    )
    assert [(o.status, o.code, o.field) for o in outcomes] == [
        (UpsertStatus.FAILED, "MANDATORY_NOT_FOUND", "Last_Name"),
        (UpsertStatus.FAILED, "INVALID_DATA", "Email"),
        (UpsertStatus.FAILED, "DUPLICATE_DATA", "Email"),
        (UpsertStatus.CREATED, "SUCCESS", None),
    ]
    assert outcomes[3].id and connector.get(outcomes[3].id).external_id == "X-4"


def test_contacts_linked_to_a_bigin_id_are_updated_by_it(start_bigin):
    bigin = start_bigin()
    connector = bigin.connector()
    [created] = connector.upsert([Contact(email="old@example.com", last_name="Moved")])
    linked = Contact(ids={"bigin": created.id}, email="new@example.com", last_name="Moved")
    fresh = Contact(email="other@example.com", last_name="Other")
    gone = Contact(ids={"bigin": "7618134999999999999"}, last_name="Gone")
    outcomes = connector.upsert([linked, fresh, gone])
    assert [(o.status, o.id == created.id) for o in outcomes[:2]] == [
        (UpsertStatus.UPDATED, True),
        (UpsertStatus.CREATED, False),
    ]
    assert (outcomes[2].status, outcomes[2].code, outcomes[2].field) == (
        UpsertStatus.FAILED, "INVALID_DATA", "id",
    )  # fmt: skip
    assert bigin.app.store.count("Contacts") == 2  # an email change made no twin
    assert connector.find_by_email("new@example.com").ids["bigin"] == created.id


def test_upsert_batches_by_100_in_input_order(start_bigin):
    bigin = start_bigin()
    connector = bigin.connector()
    contacts = [Contact(email=f"p{i}@example.com", last_name=f"P{i}") for i in range(250)]
    outcomes = connector.upsert(contacts)
    assert len(outcomes) == 250 and all(o.status is UpsertStatus.CREATED for o in outcomes)
    upsert_calls = bigin.stats()["requests"] - 1  # the rest was the token call
    assert upsert_calls == 3
    assert connector.client.credits_spent == 10 + 10 + 5  # 1 credit per 10 records
    for i in (0, 99, 100, 249):
        assert connector.get(outcomes[i].id).email == f"p{i}@example.com"


def test_mapping_round_trip_through_bigin(start_bigin):
    bigin = start_bigin()
    connector = bigin.connector(external_id_field="External_ID")
    contact = Contact(
        external_id="EXT-77",
        email="full@example.com",
        first_name="Full",
        last_name="Record",
        title="Director",
        company=Company("Zylker Corp"),
        phones=[Phone(PhoneType.WORK_PHONE, "+1 1"), Phone(PhoneType.MOBILE, "+1 2")],
        addresses=[Address(AddressType.HOME, line1="1 Main St", city="Austin", zipcode="73301")],
        custom_fields={"tags": "VIP,Partner", "department": "Sales"},
        opt_in=True,
    )
    [outcome] = connector.upsert([contact])
    got = connector.find_by_external_id("EXT-77")
    assert got is not None and got.ids["bigin"] == outcome.id
    assert (got.email, got.first_name, got.last_name, got.title) == (
        "full@example.com", "Full", "Record", "Director",
    )  # fmt: skip
    assert got.company is not None and got.company.name == "Zylker Corp" and got.company.ids
    assert got.phone(PhoneType.WORK_PHONE) == "+1 1" and got.phone(PhoneType.MOBILE) == "+1 2"
    assert got.address(AddressType.HOME).city == "Austin"
    assert got.custom_fields == {"tags": "VIP,Partner", "department": "Sales"}
    assert got.opt_in is True and got.full_name == "Full Record"
    assert got.updated_at is not None and got.updated_at.tzinfo is not None
    # A partial contact updates only what it carries.
    connector.upsert([Contact(external_id="EXT-77", first_name="Renamed")])
    again = connector.get(outcome.id)
    assert again.first_name == "Renamed" and again.title == "Director"


def test_mapping_leaves_out_unknown_fields():
    record = contact_to_record(Contact(email="a@example.com"), "Legacy_ID")
    assert record == {"Email": "a@example.com", "Email_Opt_Out": True}
    contact = record_to_contact({"id": "1", "Legacy_ID": "L-1", "Email": None}, "Legacy_ID")
    assert contact.external_id == "L-1" and contact.email is None


def test_find_by_external_id_escapes_criteria(start_bigin):
    connector = start_bigin().connector()
    connector.upsert([Contact(external_id="A(1),B", email="esc@example.com", last_name="Esc")])
    found = connector.find_by_external_id("A(1),B")
    assert found is not None and found.email == "esc@example.com"
    assert connector.find_by_external_id("A(1)") is None


def test_api_domain_from_the_token_response_wins(start_bigin):
    bigin = start_bigin(records=3)
    # Port 9 on loopback: nothing listens; only the token's api_domain can make this work.
    connector = bigin.connector(api_domain="http://127.0.0.1:9")
    assert len(ids_of(connector.read_changes())) == 3
    assert connector.client.api_domain() == bigin.url


def test_revoked_token_is_replaced_once_mid_run(start_bigin):
    bigin = start_bigin(records=120)
    connector = bigin.connector(per_page=50)
    pages = []
    for page in connector.read_changes():
        pages.append(page)
        bigin.app.issuer.revoke_all()
    assert len(ids_of(pages)) == 120
    stats = bigin.stats()
    # Revoked after pages 1 and 2: pages 2 and 3 each met one 401, then a fresh token.
    assert stats["status_401"] == 2 and stats["tokens_issued"] == 3


def test_wrong_secret_is_an_auth_error_without_the_secret(start_bigin):
    bigin = start_bigin()
    connector = bigin.connector(client_secret="s3cr3t-wrong")
    with pytest.raises(AuthError) as caught:
        connector.verify()
    assert "invalid_client" in str(caught.value) and "s3cr3t" not in str(caught.value)
    assert "s3cr3t" not in repr(connector) and bigin.table["refresh_token"] not in repr(connector)


def test_exhausted_credits_raise_rate_limited_without_waiting(start_bigin):
    bigin = start_bigin(records=3, credits=2, credit_window=3600)
    connector = bigin.connector()
    connector.verify()
    connector.verify()
    began = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        connector.verify()
    assert caught.value.retry_after is not None and caught.value.retry_after > 3000
    assert time.monotonic() - began < 1.0
    assert bigin.stats()["status_429"] == 1


def test_server_errors_on_upsert_retried_only_when_keyed(start_bigin):
    bigin = start_bigin(faults=Faults(fail_rate=1.0))
    connector = bigin.connector()
    connector.client.schedule = FAST
    with pytest.raises(TransientError):
        connector.upsert([Contact(email="k@example.com", last_name="Keyed")])
    assert bigin.stats()["status_500"] == 3  # every attempt of the schedule
    with pytest.raises(TransientError):
        connector.upsert([Contact(first_name="No", last_name="Key")])
    assert bigin.stats()["status_500"] == 4  # sent once: a repeat could insert a twin


def test_throttled_writes_are_sent_again_after_retry_after(start_bigin):
    bigin = start_bigin(faults=Faults(throttle_rate=0.5, retry_after=1, seed=3))
    connector = bigin.connector()
    began = time.monotonic()
    outcomes = connector.upsert([Contact(first_name="No", last_name=f"Key{i}") for i in range(3)])
    elapsed = time.monotonic() - began
    throttled = bigin.stats().get("status_429", 0)
    assert throttled >= 1
    assert [o.status for o in outcomes] == [UpsertStatus.CREATED] * 3
    assert bigin.app.store.count("Contacts") == 3  # no twins
    assert elapsed >= 0.9 * throttled


def test_client_pacing_spaces_calls(start_bigin):
    connector = start_bigin(records=1).connector(max_calls_per_second=20)
    began = time.monotonic()
    for _ in range(6):
        connector.verify()
    assert time.monotonic() - began >= 0.25  # 5 gaps of 50 ms


def test_credit_budget_spreads_calls_after_the_burst(start_bigin):
    # 864,000 credits a day is 10 a second; a burst of 5 lets the first calls go at once.
    connector = start_bigin(records=1).connector(daily_credits=864000, credit_burst=5)
    began = time.monotonic()
    for _ in range(15):
        connector.verify()
    assert time.monotonic() - began >= 0.9  # 10 credits past the burst at 10 a second
    # Time spent in the calls refills the bucket too, so the waits cover the rest.
    assert connector.client.budget.waited > 0.5


def test_pager_refuses_a_server_that_ignores_paging():
    from bridge.connectors.bigin.paging import ModifiedTimePager

    page = ([{"id": "1", "Modified_Time": "2026-01-01T00:00:00+00:00"}], {"more_records": True})
    pager = ModifiedTimePager(lambda params, anchor: page, per_page=1)
    with pytest.raises(ProtocolError):
        list(pager.pages())


def test_watch_channel_lifecycle_and_notifications(start_bigin, webhook_receiver):
    bigin = start_bigin()
    connector = bigin.connector()
    channel = connector.watch.create(f"{webhook_receiver.url}/webhooks/bigin")
    assert channel.token and channel.expires_at is not None
    # Asked for (almost) a day: granted, since it is within Bigin's one-day maximum.
    assert channel.expires_at - datetime.now(UTC) > timedelta(hours=23)
    assert [c.channel_id for c in connector.watch.list()] == [channel.channel_id]
    [outcome] = connector.upsert([Contact(email="w@example.com", last_name="Watched")])
    [note] = webhook_receiver.wait_for(1)
    parsed = verify_notification(note, channel.token)
    assert (parsed.operation, parsed.ids) == ("insert", (outcome.id,))
    with pytest.raises(ProtocolError):
        verify_notification(note, "another-token")
    short = connector.watch.renew(channel, lifetime=timedelta(minutes=30))
    assert short.expires_at < channel.expires_at
    renewed = connector.watch.renew_due([short], within=timedelta(hours=1))
    assert renewed[0].expires_at > short.expires_at + timedelta(hours=20)
    untouched = connector.watch.renew_due(renewed, within=timedelta(hours=1))
    assert untouched[0] is renewed[0]
    assert connector.watch.delete(channel.channel_id) is True
    assert connector.watch.delete(channel.channel_id) is False
    assert connector.watch.list() == []


def test_normalize_holds_an_account_by_name_whether_or_not_its_id_is_known(start_bigin):
    """A write names a known Account by id only; the held form must still carry its name."""
    connector = start_bigin().connector()
    by_id = Contact(email="a@example.com", company=Company("Acme Corp", {"bigin": "42"}))
    by_name = Contact(email="a@example.com", company=Company("Acme Corp"))
    assert contact_to_record(by_id)["Account_Name"] == {"id": "42"}
    for contact in (by_id, by_name):
        held = connector.normalize(contact)
        assert held.company is not None and held.company.name == "Acme Corp"
    assert connector.normalize(by_id).company.ids == {"bigin": "42"}
