"""The Bigin emulator over real HTTP: OAuth, listing rules, writes, limits, watch."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bridge.emulators.kit.server import Faults

FIELDS = {"fields": "First_Name,Last_Name,Email,Modified_Time"}


def token_form(bigin: Any, **changes: str) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "client_id": bigin.table["client_id"],
        "client_secret": bigin.table["client_secret"],
        "refresh_token": bigin.table["refresh_token"],
    }
    form.update(changes)
    return form


# -- OAuth ---------------------------------------------------------------------------


def test_refresh_grant_answers_the_zoho_token_shape(start_bigin):
    bigin = start_bigin(token_ttl=120)
    answer = requests.post(f"{bigin.url}/oauth/v2/token", data=token_form(bigin)).json()
    assert set(answer) == {"access_token", "scope", "api_domain", "token_type", "expires_in"}
    assert answer["api_domain"] == bigin.url and answer["expires_in"] == 120
    assert answer["access_token"].startswith("1000.")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"refresh_token": "1000.x.y"}, "invalid_code"),
    ],
)
def test_refused_grants_answer_200_with_an_error(start_bigin, change, error):
    bigin = start_bigin()
    response = requests.post(f"{bigin.url}/oauth/v2/token", data=token_form(bigin, **change))
    assert response.status_code == 200 and response.json() == {"error": error}


def test_authorization_code_is_one_time_and_yields_a_refresh_token(start_bigin):
    bigin = start_bigin()
    code = bigin.app.issuer.issue_code()
    form = token_form(bigin, grant_type="authorization_code", code=code)
    first = requests.post(f"{bigin.url}/oauth/v2/token", data=form).json()
    assert first["refresh_token"].startswith("1000.")
    again = requests.post(f"{bigin.url}/oauth/v2/token", data=form).json()
    assert again == {"error": "invalid_code"}
    refreshed = requests.post(
        f"{bigin.url}/oauth/v2/token", data=token_form(bigin, refresh_token=first["refresh_token"])
    ).json()
    assert "access_token" in refreshed


def test_refresh_limit_per_minute(start_bigin):
    bigin = start_bigin(refresh_limit=5)
    answers = [
        requests.post(f"{bigin.url}/oauth/v2/token", data=token_form(bigin)).json()
        for _ in range(6)
    ]
    assert all("access_token" in a for a in answers[:5])
    assert answers[5]["error"] == "Access Denied"


def test_api_wants_a_live_zoho_oauthtoken(start_bigin):
    bigin = start_bigin(records=3, token_ttl=1)
    token = bigin.token()
    bearer = bigin.api(
        "GET", "/Contacts", params=FIELDS, headers={"Authorization": f"Bearer {token}"}
    )
    assert bearer.status_code == 401 and bearer.json()["code"] == "INVALID_TOKEN"
    ok = bigin.api(
        "GET", "/Contacts", params=FIELDS, headers={"Authorization": f"Zoho-oauthtoken {token}"}
    )
    assert ok.status_code == 200 and "x-accesstoken-reset" in ok.headers
    time.sleep(1.05)
    expired = bigin.api(
        "GET", "/Contacts", params=FIELDS, headers={"Authorization": f"Zoho-oauthtoken {token}"}
    )
    assert expired.status_code == 401


# -- listing -------------------------------------------------------------------------


def test_fields_is_required_and_per_page_capped(start_bigin):
    bigin = start_bigin(records=3)
    missing = bigin.api("GET", "/Contacts")
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param": "fields"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
    assert bigin.api("GET", "/Contacts", params={**FIELDS, "per_page": 201}).status_code == 400


def test_empty_module_is_204_without_a_body(start_bigin):
    bigin = start_bigin(records=0)
    response = bigin.api("GET", "/Contacts", params=FIELDS)
    assert response.status_code == 204 and response.content == b""


def test_listing_info_sorting_and_requested_fields(start_bigin):
    bigin = start_bigin(records=30)
    response = bigin.api(
        "GET",
        "/Contacts",
        params={**FIELDS, "per_page": 10, "sort_by": "Modified_Time", "sort_order": "asc"},
    )
    body = response.json()
    assert set(body["info"]) == {
        "per_page", "next_page_token", "count", "sort_by", "page",
        "previous_page_token", "page_token_expiry", "sort_order", "more_records",
    }  # fmt: skip
    assert body["info"]["count"] == 10 and body["info"]["more_records"] is True
    times = [r["Modified_Time"] for r in body["data"]]
    assert times == sorted(times)
    assert set(body["data"][0]) == {"id", "First_Name", "Last_Name", "Email", "Modified_Time"}
    assert len(body["data"][0]["id"]) == 19 and body["data"][0]["id"].isdigit()
    assert body["data"][0]["Modified_Time"].endswith("+05:30")
    default = bigin.api("GET", "/Contacts", params=FIELDS).json()
    ids = [int(r["id"]) for r in default["data"]]
    assert ids == sorted(ids, reverse=True)  # default sort: id desc


def test_if_modified_since_filters_and_answers_304(start_bigin):
    bigin = start_bigin(records=20)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    none = bigin.api("GET", "/Contacts", params=FIELDS, headers={"If-Modified-Since": later})
    assert none.status_code == 304 and none.content == b""
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    write = bigin.api("POST", "/Contacts", json={"data": [{"Last_Name": "Fresh"}]})
    assert write.status_code == 201
    changed = bigin.api(
        "GET", "/Contacts", params=FIELDS, headers={"If-Modified-Since": since.isoformat()}
    ).json()
    assert [r["Last_Name"] for r in changed["data"]] == ["Fresh"]


def test_page_reaches_2000_records_then_page_token_continues(start_bigin):
    bigin = start_bigin(records=2500)
    token = bigin.token()
    auth = {"Authorization": f"Zoho-oauthtoken {token}"}
    beyond = bigin.api("GET", "/Contacts", params={**FIELDS, "page": 11}, headers=auth)
    assert beyond.status_code == 400
    assert beyond.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    tenth = bigin.api("GET", "/Contacts", params={**FIELDS, "page": 10}, headers=auth).json()
    assert tenth["info"]["more_records"] is True and tenth["info"]["next_page_token"]
    seen = [r["id"] for r in tenth["data"]]
    params = {**FIELDS, "page_token": tenth["info"]["next_page_token"]}
    while True:
        body = bigin.api("GET", "/Contacts", params=params, headers=auth).json()
        seen.extend(r["id"] for r in body["data"])
        if not body["info"]["more_records"]:
            break
        params["page_token"] = body["info"]["next_page_token"]
    assert len(seen) == 700 == len(set(seen))  # 1801..2500


def test_expired_page_token_is_refused(start_bigin):
    bigin = start_bigin(records=30, page_token_ttl=0)
    first = bigin.api("GET", "/Contacts", params={**FIELDS, "per_page": 10}).json()
    again = bigin.api(
        "GET", "/Contacts", params={**FIELDS, "page_token": first["info"]["next_page_token"]}
    )
    assert again.status_code == 400 and again.json()["details"]["param"] == "page_token"


# -- writes --------------------------------------------------------------------------


def test_writes_over_100_records_are_refused(start_bigin):
    bigin = start_bigin()
    rows = [{"Last_Name": f"N{i}"} for i in range(101)]
    response = bigin.api("POST", "/Contacts", json={"data": rows})
    assert response.status_code == 400 and response.json()["code"] == "LIMIT_EXCEEDED"
    assert bigin.app.store.count("Contacts") == 0


def test_insert_answers_per_record_codes_in_input_order(start_bigin):
    bigin = start_bigin()
    rows = [
        {"Last_Name": "Ok", "Email": "ok@example.com"},
        {"First_Name": "NoLast"},
        {"Last_Name": "BadMail", "Email": "nope"},
        {"Last_Name": "Twin", "Email": "OK@example.com"},
        {"Last_Name": "Fine"},
    ]
    response = bigin.api("POST", "/Contacts", json={"data": rows})
    assert response.status_code == 202  # multi-record insert
    entries = response.json()["data"]
    assert [e["code"] for e in entries] == [
        "SUCCESS", "MANDATORY_NOT_FOUND", "INVALID_DATA", "DUPLICATE_DATA", "SUCCESS",
    ]  # fmt: skip
    assert entries[1]["details"] == {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}
    assert entries[2]["details"]["expected_data_type"] == "email"
    assert entries[3]["details"]["duplicate_record"]["id"] == entries[0]["details"]["id"]
    all_bad = bigin.api("POST", "/Contacts", json={"data": [{"First_Name": "x"}]})
    assert all_bad.status_code == 400 and all_bad.json()["data"][0]["status"] == "error"


def test_upsert_matches_in_duplicate_check_order_and_keeps_modified_time(start_bigin):
    bigin = start_bigin()
    first = bigin.api(
        "POST", "/Contacts", json={"data": [{"Last_Name": "A", "Email": "a@example.com"}]}
    ).json()["data"][0]["details"]
    time.sleep(1.0)  # Modified_Time has second precision
    body = {
        "data": [
            {"Last_Name": "A2", "Email": "a@example.com", "External_ID": "X-1"},
            {"Last_Name": "B", "Email": "b@example.com", "Account_Name": {"name": "Zylker"}},
        ],
        "duplicate_check_fields": ["External_ID", "Email"],
    }
    entries = bigin.api("POST", "/Contacts/upsert", json=body).json()["data"]
    assert [(e["action"], e["duplicate_field"]) for e in entries] == [
        ("update", "Email"),
        ("insert", None),
    ]
    assert entries[0]["details"]["id"] == first["id"]
    assert entries[0]["details"]["Modified_Time"] > first["Modified_Time"]
    stored = bigin.app.store.get("Contacts", first["id"])
    assert stored["Last_Name"] == "A2" and stored["External_ID"] == "X-1"
    assert stored["Full_Name"] == "A2"
    company = bigin.app.store.get("Contacts", entries[1]["details"]["id"])["Account_Name"]
    assert company["name"] == "Zylker" and bigin.app.store.get("Accounts", company["id"])


def test_a_refused_record_creates_no_company(start_bigin):
    bigin = start_bigin()
    rows = [{"First_Name": "NoLast", "Account_Name": {"name": "Ghost Ltd"}}]
    assert bigin.api("POST", "/Contacts", json={"data": rows}).status_code == 400
    assert bigin.app.store.count("Accounts") == 0
    rows = [{"Last_Name": "Real", "Account_Name": "Ghost Ltd"}]
    assert bigin.api("POST", "/Contacts", json={"data": rows}).status_code == 201
    assert bigin.app.store.count("Accounts") == 1


def test_update_and_delete_unknown_ids(start_bigin):
    bigin = start_bigin(records=2)
    update = bigin.api("PUT", "/Contacts", json={"data": [{"id": "1", "Last_Name": "x"}]})
    assert update.status_code == 400
    assert update.json()["data"][0]["details"]["api_name"] == "id"
    some_id = next(iter(bigin.app.store.modules["Contacts"].records))
    deleted = bigin.api("DELETE", f"/Contacts/{some_id}")
    assert deleted.json()["data"][0]["code"] == "SUCCESS"
    assert bigin.api("GET", f"/Contacts/{some_id}").status_code == 204
    assert bigin.api("DELETE", f"/Contacts/{some_id}").status_code == 400


def test_search_criteria_email_and_word(start_bigin):
    bigin = start_bigin(records=30)
    found = bigin.api(
        "GET",
        "/Contacts/search",
        params={"criteria": "((Last_Name:equals:Watson)and(First_Name:starts_with:t))"},
    ).json()["data"]
    assert found and all(r["Last_Name"] == "Watson" and r["First_Name"] == "Ted" for r in found)
    email = found[0]["Email"]
    by_email = bigin.api("GET", "/Contacts/search", params={"email": email.upper()}).json()
    assert [r["id"] for r in by_email["data"]] == [found[0]["id"]]
    assert bigin.api("GET", "/Contacts/search", params={"word": "zzzz"}).status_code == 204
    assert bigin.api("GET", "/Contacts/search").status_code == 400


def test_search_lags_behind_writes(start_bigin):
    bigin = start_bigin(search_lag=30)
    bigin.api("POST", "/Contacts", json={"data": [{"Last_Name": "New", "Email": "n@example.com"}]})
    assert (
        bigin.api("GET", "/Contacts/search", params={"email": "n@example.com"}).status_code == 204
    )


# -- limits --------------------------------------------------------------------------


def test_credits_run_out_with_429_and_writes_cost_per_ten_records(start_bigin):
    bigin = start_bigin(credits=4, credit_window=3600)
    token = bigin.token()
    auth = {"Authorization": f"Zoho-oauthtoken {token}"}
    rows = [{"Last_Name": f"N{i}"} for i in range(25)]
    assert bigin.api("POST", "/Contacts", json={"data": rows}, headers=auth).status_code == 202
    assert bigin.app.credits.used() == 3  # 25 records: 3 credits
    assert bigin.api("GET", "/Contacts", params=FIELDS, headers=auth).status_code == 200
    refused = bigin.api("GET", "/Contacts", params=FIELDS, headers=auth)
    assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_REQUESTS"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert bigin.stats()["status_429"] == 1


def test_concurrency_cap_answers_429(start_bigin):
    bigin = start_bigin(records=3, concurrency=1, faults=Faults(latency=0.4))
    token = bigin.token()
    statuses: list[int] = []

    def call() -> None:
        response = bigin.api(
            "GET", "/Contacts", params=FIELDS, headers={"Authorization": f"Zoho-oauthtoken {token}"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses)[0] == 200 and 429 in statuses


# -- watch ---------------------------------------------------------------------------


def test_watch_delivers_create_edit_delete_notifications(start_bigin, webhook_receiver):
    bigin = start_bigin()
    channel = {
        "channel_id": "90210",
        "events": ["Contacts.all"],
        "notify_url": f"{webhook_receiver.url}/hook?source=bigin",
        "token": "verify-me",
    }
    created = bigin.api("POST", "/actions/watch", json={"watch": [channel]})
    assert created.status_code == 201
    entry = created.json()["watch"][0]
    assert entry["code"] == "SUCCESS"
    expiry = datetime.fromisoformat(entry["details"]["events"][0]["channel_expiry"])
    assert timedelta(minutes=59) < expiry - datetime.now(UTC) <= timedelta(hours=1)
    inserted = bigin.api("POST", "/Contacts", json={"data": [{"Last_Name": "W"}]}).json()
    record_id = inserted["data"][0]["details"]["id"]
    bigin.api("PUT", f"/Contacts/{record_id}", json={"data": [{"First_Name": "V"}]})
    bigin.api("DELETE", f"/Contacts/{record_id}")
    notes = webhook_receiver.wait_for(3)
    assert [n["operation"] for n in notes] == ["insert", "update", "delete"]
    for note in notes:
        assert note["ids"] == [record_id] and note["module"] == "Contacts"
        assert note["channel_id"] == "90210" and note["token"] == "verify-me"
        assert note["query_params"] == {"source": "bigin"}
    assert bigin.app.notifier.drain()  # counted once the sender saw the answer
    assert bigin.stats()["notifications_sent"] == 3
    listed = bigin.api("GET", "/actions/watch").json()["watch"]
    assert [c["channel_id"] for c in listed] == ["90210"]
    removed = bigin.api("DELETE", "/actions/watch", params={"channel_ids": "90210"})
    assert removed.json()["watch"][0]["code"] == "SUCCESS"
    bigin.api("POST", "/Contacts", json={"data": [{"Last_Name": "After"}]})
    assert bigin.app.notifier.drain()
    assert len(webhook_receiver.received) == 3


def test_watch_refuses_non_loopback_urls_and_caps_expiry(start_bigin, webhook_receiver):
    bigin = start_bigin()
    outside = {"channel_id": "1", "events": ["Contacts.all"], "notify_url": "https://example.com/h"}
    refused = bigin.api("POST", "/actions/watch", json={"watch": [outside]})
    assert refused.status_code == 400 and refused.json()["watch"][0]["code"] == "INVALID_URL"
    too_long = (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="seconds")
    channel = {
        "channel_id": "2",
        "events": ["Contacts.create"],
        "notify_url": f"{webhook_receiver.url}/h",
        "channel_expiry": too_long,
    }
    entry = bigin.api("POST", "/actions/watch", json={"watch": [channel]}).json()["watch"][0]
    expiry = datetime.fromisoformat(entry["details"]["events"][0]["channel_expiry"])
    assert expiry - datetime.now(UTC) <= timedelta(hours=1)


# -- command line --------------------------------------------------------------------


def test_emulate_bigin_prints_the_connection_table_first():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "bigin", "--records", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert set(table) == {
        "kind", "api_domain", "accounts_url", "client_id", "client_secret", "refresh_token",
    }  # fmt: skip
    assert table["kind"] == "bigin" and table["api_domain"].startswith("http://127.0.0.1:")
