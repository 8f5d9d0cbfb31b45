"""The Egito connector against its emulator on loopback."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bridge.connectors.base import UpsertStatus
from bridge.errors import AuthError
from bridge.model import Address, AddressType, Company, Contact, Phone, PhoneType, utc_now


def client(i: int, **changes) -> Contact:
    contact = Contact(
        external_id=f"K-{i:04d}",
        email=f"klient.{i}@example.pl",
        first_name="Klient",
        last_name=f"Nr{i}",
    )
    return contact.copy(**changes) if changes else contact


@pytest.mark.parametrize("error_status", [200, 400])
def test_errors_in_the_body_fail_their_record_whatever_the_status(start_egito, error_status):
    running = start_egito(error_status=error_status)
    with running.connector() as connector:
        outcomes = connector.upsert([client(1), client(2, email="zły adres"), client(3)])
    assert [o.status for o in outcomes] == [
        UpsertStatus.CREATED,
        UpsertStatus.FAILED,
        UpsertStatus.CREATED,
    ]
    assert (outcomes[1].code, outcomes[1].field) == ("email", "email")
    assert "Niepoprawny adres e-mail" in (outcomes[1].message or "")
    assert len(running.app.store.contacts) == 2


def test_bare_string_error_items_and_not_found_are_understood(start_egito):
    running = start_egito(error_items="strings")
    with running.connector() as connector:
        outcomes = connector.upsert([client(1, email="zły adres"), client(2)])
        assert connector.get("424242") is None
        assert connector.delete("424242") is False
    assert [o.status for o in outcomes] == [UpsertStatus.FAILED, UpsertStatus.CREATED]
    assert outcomes[0].code == "ERROR" and outcomes[0].field is None
    assert outcomes[0].message is not None and "Niepoprawny adres e-mail" in outcomes[0].message


@pytest.mark.parametrize("body_format", ["json", "form"])
def test_writes_as_json_or_as_browser_form_posts(start_egito, body_format):
    running = start_egito()
    contact = client(1, opt_in=True, phones=[Phone(PhoneType.MOBILE, "+48 600 000 001")])
    with running.connector(body_format=body_format) as connector:
        [created] = connector.upsert([contact])
        [updated] = connector.upsert([contact.copy(opt_in=False)])
        [same] = connector.upsert([contact.copy(opt_in=False)])
        got = connector.get(created.id)
    assert (created.status, updated.status, same.status) == (
        UpsertStatus.CREATED,
        UpsertStatus.UPDATED,
        UpsertStatus.UNCHANGED,
    )
    assert created.id == updated.id == same.id
    assert got is not None and got.opt_in is False
    assert got.phone(PhoneType.MOBILE) == "+48 600 000 001"
    counts = running.stats.snapshot()
    assert counts.get(f"{body_format}_posts") == 2
    assert counts.get("form_posts" if body_format == "json" else "json_posts") is None


def test_industry_and_customer_type_go_through_the_dictionaries(start_egito):
    running = start_egito()
    contact = client(1, industry_type="education", customer_type="Partner")
    with running.connector() as connector:
        [outcome] = connector.upsert([contact])
        stored = running.app.store.get("Contact", outcome.id)
        got = connector.get(outcome.id)
        [unknown] = connector.upsert([client(2, industry_type="Mining")])
    industry = {e["name"]: e["id"] for e in running.app.store.dictionaries["industry"]}
    kinds = {e["name"]: e["id"] for e in running.app.store.dictionaries["relationshipType"]}
    assert stored["industry"] == industry["Education"]
    assert stored["relationshipType"] == kinds["Partner"]
    assert got is not None and (got.industry_type, got.customer_type) == ("Education", "Partner")
    # Unknown values are left out by default, so the record still goes in.
    assert unknown.status is UpsertStatus.CREATED
    assert running.app.store.get("Contact", unknown.id)["industry"] is None
    with running.connector(strict_dictionaries=True) as strict:
        [refused] = strict.upsert([client(3, industry_type="Mining")])
    assert (refused.status, refused.code, refused.field) == (
        UpsertStatus.FAILED,
        "UNKNOWN_DICTIONARY_VALUE",
        "industry",
    )


def test_company_becomes_one_account_and_times_are_local(start_egito):
    running = start_egito()
    people = [
        client(
            i,
            company=Company("Nowa Firma Sp. z o.o."),
            addresses=[Address(AddressType.HOME, "ul. Prosta 1", None, "Warszawa", "00-001")],
        )
        for i in range(2)
    ]
    with running.connector() as connector:
        outcomes = connector.upsert(people)
        got = connector.get(outcomes[0].id)
    accounts = [a["name"] for a in running.app.store.accounts.values()]
    assert accounts.count("Nowa Firma Sp. z o.o.") == 1
    assert got is not None and got.company is not None
    assert got.company.name == "Nowa Firma Sp. z o.o."
    assert got.addresses[0].city == "Warszawa"
    stored = running.app.store.get("Contact", outcomes[0].id)
    assert " " in stored["modifyDate"] and "+" not in stored["modifyDate"]  # naive, local
    # Warsaw is one or two hours ahead of UTC: a wrong zone would show here.
    assert got.updated_at is not None and abs(got.updated_at - utc_now()) < timedelta(minutes=1)


@pytest.mark.parametrize("server_filters", [True, False])
def test_modified_since_with_or_without_server_filtering(start_egito, server_filters):
    running = start_egito(records=220, modified_filter=server_filters)
    with running.connector() as connector:
        since = utc_now()
        assert all(o.ok for o in connector.upsert([client(i) for i in range(3)]))
        pages = list(connector.read_changes(since=since))
    assert {c.email for p in pages for c in p.contacts} == {
        f"klient.{i}@example.pl" for i in range(3)
    }
    assert len(pages) == (1 if server_filters else 3)


def test_expired_tokens_are_refreshed_then_logged_in_again(start_egito):
    running = start_egito(records=5, token_ttl=1)
    tokens = running.app.tokens
    with running.connector(token_leeway=0) as connector:
        connector.verify()
        time.sleep(1.1)
        connector.verify()
        assert tokens.grant_count("refresh_token") == 1
        tokens.revoke_all()
        connector.verify()  # 401, then the refresh grant
        assert tokens.grant_count("refresh_token") == 2
        tokens.revoke_all(refresh_too=True)
        connector.verify()  # 401, refresh refused, password grant again
    assert tokens.grant_count("password") == 2
    assert running.stats.snapshot()["status_401"] == 2


def test_rate_limit_is_waited_out_on_reads_and_writes(start_egito):
    running = start_egito(records=5, rate_limit=3)
    running.app.throttle.window = 1.0
    began = time.monotonic()
    with running.connector() as connector:
        outcomes = connector.upsert([client(i) for i in range(2)])
        assert connector.find_by_email("klient.1@example.pl") is not None
    assert [o.status for o in outcomes] == [UpsertStatus.CREATED] * 2
    assert running.stats.snapshot()["status_429"] >= 1
    assert time.monotonic() - began >= 0.9


def test_wrong_password_is_an_auth_error_without_secrets(start_egito):
    running = start_egito()
    with (
        running.connector(password="hunter2-wrong") as connector,
        pytest.raises(AuthError) as caught,
    ):
        connector.verify()
    assert "invalid_grant" in str(caught.value) and "hunter2" not in str(caught.value)


def test_delete_and_lookups(start_egito):
    running = start_egito(records=3)
    with running.connector() as connector:
        [outcome] = connector.upsert([client(9)])
        assert connector.find_by_external_id("K-0009") is not None
        assert connector.delete(outcome.id) is True
        assert connector.get(outcome.id) is None
        assert connector.find_by_external_id("K-0009") is None
        assert connector.delete(outcome.id) is False


def test_normalize_predicts_what_reads_back(start_egito):
    running = start_egito()
    contact = client(
        4,
        title="Pani",
        company=Company("Softex S.A."),
        industry_type="retail",
        rating_type="Hot",
        custom_fields={"position": "Prezes", "shoe size": "38"},
        addresses=[Address(AddressType.WORK, "ul. Długa 5", "lok. 2", "Gdańsk", "80-001", "PM")],
        phones=[Phone(PhoneType.HOME_PHONE, "+48 58 000 00 00")],
    )
    with running.connector() as connector:
        [outcome] = connector.upsert([contact])
        got = connector.get(outcome.id)
        predicted = connector.normalize(contact)
    assert got is not None
    assert predicted.industry_type == got.industry_type == "Retail"
    assert predicted.rating_type is None and predicted.custom_fields == {"position": "Prezes"}
    assert predicted.addresses == got.addresses  # one address: lines joined, state dropped
    assert predicted.company is not None and got.company is not None
    same = predicted.copy(
        ids=got.ids, created_at=got.created_at, updated_at=got.updated_at, company=got.company
    )
    assert same == got


def test_deleted_contacts_are_skipped_unless_told_to_delete(start_egito):
    running = start_egito()
    with running.connector() as connector:
        [created] = connector.upsert([client(5)])
        [kept] = connector.upsert([client(5, deleted=True)])
        [never] = connector.upsert([client(6, deleted=True)])
    assert (kept.status, kept.id) == (UpsertStatus.UNCHANGED, created.id)
    assert (never.status, never.id) == (UpsertStatus.UNCHANGED, None)
    assert len(running.app.store.contacts) == 1
    with running.connector(delete_deleted=True) as connector:
        [removed] = connector.upsert([client(5, deleted=True)])
    assert (removed.status, removed.id) == (UpsertStatus.UPDATED, created.id)
    assert not running.app.store.contacts


def test_parallel_upserts_create_a_new_account_once(start_egito):
    running = start_egito()
    batches = [
        [
            client(10 * b + i, company=Company("Nowa Sp. z o.o."), industry_type="IT")
            for i in range(3)
        ]
        for b in range(4)
    ]
    with running.connector() as connector, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(connector.upsert, batches))
    assert all(o.status is UpsertStatus.CREATED for batch in results for o in batch)
    assert [a["name"] for a in running.app.store.accounts.values()].count("Nowa Sp. z o.o.") == 1
    # The dictionary was loaded once however many threads needed it.
    assert running.stats.snapshot()["requests"] - 1 == 12 * 3 + 2 + 1
