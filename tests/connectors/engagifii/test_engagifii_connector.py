"""The Engagifii connector against its emulator on loopback."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bridge.connectors.base import UpsertStatus
from bridge.connectors.engagifii.mapping import parse_datetime
from bridge.connectors.kit.paging import PageIndexPager
from bridge.errors import AuthError, ProtocolError
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType, utc_now


def member(i: int, **changes) -> Contact:
    contact = Contact(
        external_id=f"M-{i:04d}",
        email=f"member.{i}@example.org",
        first_name="Mem",
        last_name=f"Ber{i}",
        phones=[Phone(PhoneType.WORK_PHONE, "+1 202 555 0100")],
    )
    return contact.copy(**changes) if changes else contact


def emails(pages) -> set[str]:
    return {c.email for page in pages for c in page.contacts}


@pytest.mark.parametrize("server_filters", [True, False])
def test_modified_since_is_right_whether_the_filter_is_honoured_or_not(
    start_engagifii, server_filters: bool
):
    running = start_engagifii(records=250, modified_filter=server_filters)
    with running.connector() as connector:
        since = utc_now()
        assert all(o.ok for o in connector.upsert([member(i) for i in range(3)]))
        pages = list(connector.read_changes(since=since))
    assert emails(pages) == {f"member.{i}@example.org" for i in range(3)}
    # Honoured: one short page with the server's count. Ignored: every page of the
    # tenant is read and compared here, and the server's count is not reported.
    assert len(pages) == (1 if server_filters else 3)
    assert pages[-1].total == (3 if server_filters else None)


def test_client_side_mode_does_not_send_the_filter(start_engagifii):
    running = start_engagifii(records=30)
    records = running.app.store.page_people(running.app.store.tenant("emulator"), {}, 0, 100)[0]
    newest = max(r["modifiedDate"] for r in records)
    with running.connector(modified_filter="client") as connector:
        since = parse_datetime(newest)
        pages = list(connector.read_changes(since=since))
    assert {c.updated_at for p in pages for c in p.contacts} == {since}


def test_tenants_do_not_see_each_other(start_engagifii):
    running = start_engagifii(records=5)
    with running.connector() as first, running.connector(tenant_code="second-tenant") as second:
        [outcome] = second.upsert([member(1)])
        assert outcome.status is UpsertStatus.CREATED
        assert first.get(outcome.id) is None
        assert first.find_by_email("member.1@example.org") is None
        assert second.get(outcome.id) is not None
        assert sum(len(p.contacts) for p in first.read_changes()) == 5
        assert sum(len(p.contacts) for p in second.read_changes()) == 1
    with running.connector(tenant_code="not-mine") as stranger, pytest.raises(AuthError):
        stranger.verify()


def test_upsert_outcomes_unchanged_company_and_external_id(start_engagifii):
    running = start_engagifii()
    tenant = running.app.store.tenant("emulator")
    with running.connector() as connector:
        people = [member(i, company=Company("Acme Ltd")) for i in range(3)]
        created = connector.upsert(people)
        assert [o.status for o in created] == [UpsertStatus.CREATED] * 3
        # One organization, found again by name for the second and third person.
        assert [o["name"] for o in tenant.organizations.values()] == ["Acme Ltd"]
        again = connector.upsert(people)
        assert [o.status for o in again] == [UpsertStatus.UNCHANGED] * 3
        moved = connector.upsert([people[0].copy(email="new.address@example.org")])
        assert moved[0].status is UpsertStatus.UPDATED and moved[0].id == created[0].id
        found = connector.find_by_external_id("M-0000")
        assert found is not None and found.email == "new.address@example.org"
        assert found.company is not None and found.company.name == "Acme Ltd"


def test_round_trip_keeps_what_the_api_can_hold(start_engagifii):
    running = start_engagifii()
    contact = member(
        7,
        title="Dr",
        full_name="Dr Mem Ber",
        customer_type="Member",
        industry_type="Education",
        opt_in=True,
        custom_fields={"Chapter": "North"},
        addresses=[Address(AddressType.WORK, "1 K St", None, "Washington", "20001", "DC", "US")],
        phones=[Phone(PhoneType.HOME_PHONE, "+1 202 555 0101"), Phone(PhoneType.MOBILE, "555")],
    )
    with running.connector(external_id_field="customFields.LegacyId") as connector:
        [outcome] = connector.upsert([contact])
        got = connector.get(outcome.id)
        stored = running.app.store.get_person(running.app.store.tenant("emulator"), outcome.id)
    assert stored["customFields"]["LegacyId"] == "M-0007" and stored["externalId"] is None
    assert got is not None
    assert (got.external_id, got.full_name, got.title) == ("M-0007", "Dr Mem Ber", "Dr")
    assert (got.customer_type, got.industry_type, got.opt_in) == ("Member", "Education", True)
    assert got.custom_fields == {"Chapter": "North"}
    assert got.addresses[0].kind == AddressType.WORK and got.addresses[0].city == "Washington"
    # One landline slot: the home phone comes back as the work phone.
    assert got.phone(PhoneType.WORK_PHONE) == "+1 202 555 0101"
    assert got.phone(PhoneType.MOBILE) == "555"
    assert got.updated_at is not None and abs(got.updated_at - utc_now()) < timedelta(minutes=1)


def test_validation_errors_fail_only_their_record_with_the_field(start_engagifii):
    running = start_engagifii()
    with running.connector() as connector:
        outcomes = connector.upsert([member(1), member(2, email="bad"), member(3)])
    assert [o.status for o in outcomes] == [
        UpsertStatus.CREATED,
        UpsertStatus.FAILED,
        UpsertStatus.CREATED,
    ]
    assert (outcomes[1].code, outcomes[1].field) == ("INVALID_FORMAT", "email")


def test_delete_deactivates_by_default_and_can_delete_for_real(start_engagifii):
    running = start_engagifii()
    tenant = running.app.store.tenant("emulator")
    with running.connector() as connector:
        [outcome] = connector.upsert([member(1)])
        assert connector.delete(outcome.id) is True
        assert running.app.store.get_person(tenant, outcome.id)["isActive"] is False
        deleted = [c for p in connector.read_changes() for c in p.contacts]
        assert [c.deleted for c in deleted] == [True]
    with running.connector(delete_mode="delete") as connector:
        assert connector.delete(outcome.id) is True
        assert running.app.store.get_person(tenant, outcome.id) is None
        assert connector.delete(outcome.id) is False


def test_expired_and_revoked_tokens_are_replaced(start_engagifii):
    running = start_engagifii(records=10, token_ttl=1)
    with running.connector(token_leeway=0) as connector:
        connector.verify()
        time.sleep(1.1)
        connector.verify()  # the source sees the expiry and fetches anew
        running.app.tokens.revoke_all()
        connector.verify()  # a 401, then one retry with a fresh token
    assert running.stats.snapshot()["tokens_issued"] == 3
    assert running.stats.snapshot()["status_401"] == 1


def test_per_minute_limit_is_waited_out(start_engagifii):
    running = start_engagifii(records=10, rate_limit=2)
    running.app.throttle.window = 1.0  # a one-second "minute" keeps the test short
    began = time.monotonic()
    with running.connector() as connector:
        outcomes = connector.upsert([member(i) for i in range(2)])
    elapsed = time.monotonic() - began
    assert [o.status for o in outcomes] == [UpsertStatus.CREATED] * 2
    refused = running.stats.snapshot()["status_429"]
    assert refused >= 1
    assert elapsed >= 0.9


def test_wrong_secret_is_an_auth_error_without_the_secret(start_engagifii):
    running = start_engagifii()
    with (
        running.connector(client_secret="s3cr3t-wrong") as connector,
        pytest.raises(AuthError) as caught,
    ):
        connector.verify()
    assert "invalid_client" in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_pager_refuses_a_server_that_repeats_a_page():
    page = {"data": [{"id": "a"}], "totalCount": 10, "pageSize": 1, "hasNextPage": True}
    pager = PageIndexPager(lambda index, size: page, system="engagifii", page_size=1)
    with pytest.raises(ProtocolError, match="previous page"):
        list(pager.pages())
    empty = {"data": [], "totalCount": 10, "hasNextPage": True}
    with pytest.raises(ProtocolError, match="empty page"):
        list(PageIndexPager(lambda i, s: empty, system="engagifii").pages())


def test_pager_falls_back_on_total_count_without_has_next_page():
    pages = {
        0: {"data": [{"id": "a"}, {"id": "b"}], "totalCount": 3, "pageSize": 2},
        1: {"data": [{"id": "c"}], "totalCount": 3, "pageSize": 2},
    }
    pager = PageIndexPager(lambda index, size: pages[index], system="engagifii", page_size=2)
    walked = list(pager.pages())
    assert [p.more for p in walked] == [True, False]
    assert [r["id"] for p in walked for r in p.records] == ["a", "b", "c"]


def test_stats_admin_counts_calls(start_engagifii):
    running = start_engagifii(records=3)
    with running.connector() as connector:
        connector.verify()
    with urllib.request.urlopen(f"{running.url}/_emulator/stats", timeout=5) as response:
        counts = json.loads(response.read())
    # The token call and the one API call.
    assert counts["requests"] == 2 and counts["tokens_issued"] == 1


def test_normalize_predicts_what_reads_back(start_engagifii):
    running = start_engagifii()
    contact = member(
        3,
        title="Ms",
        company=Company("Globex"),
        lead_source_type="Web",
        opt_in=True,
        addresses=[Address(AddressType.HOME, "2 Elm St", "Unit 4", "Austin", "73301", "TX", "US")],
        phones=[Phone(PhoneType.HOME_PHONE, "+1 512 555 0100"), Phone(PhoneType.PAGER, "99")],
    )
    with running.connector() as connector:
        [outcome] = connector.upsert([contact])
        got = connector.get(outcome.id)
        predicted = connector.normalize(contact)
    assert got is not None
    assert predicted.phones == got.phones  # home became work, the pager was dropped
    assert predicted.company is not None and got.company is not None
    assert predicted.company.name == got.company.name
    same = predicted.copy(
        ids=got.ids, created_at=got.created_at, updated_at=got.updated_at, company=got.company
    )
    assert same == got


def test_deleted_contacts_deactivate_and_are_never_created(start_engagifii):
    running = start_engagifii()
    tenant = running.app.store.tenant("emulator")
    with running.connector() as connector:
        [created] = connector.upsert([member(5)])
        [gone] = connector.upsert([member(5, deleted=True)])
        [never] = connector.upsert([member(6, deleted=True)])
        [back] = connector.upsert([member(5)])
    assert (gone.status, gone.id) == (UpsertStatus.UPDATED, created.id)
    assert (never.status, never.id) == (UpsertStatus.UNCHANGED, None)
    assert back.status is UpsertStatus.UPDATED
    assert [p["isActive"] for p in tenant.people.values()] == [True]


def test_parallel_upserts_create_a_new_company_once(start_engagifii):
    running = start_engagifii()
    batches = [[member(10 * b + i, company=Company("Initech")) for i in range(3)] for b in range(4)]
    with running.connector() as connector, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(connector.upsert, batches))
    assert all(o.status is UpsertStatus.CREATED for batch in results for o in batch)
    orgs = running.app.store.tenant("emulator").organizations.values()
    assert [o["name"] for o in orgs].count("Initech") == 1
