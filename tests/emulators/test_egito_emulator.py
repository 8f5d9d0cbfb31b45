"""The Egito emulator on the wire, as any HTTP client (or a browser form) sees it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import requests

API = "/services/restapi/json"


def token_by_query(running, **params: str) -> requests.Response:
    """The vendor's own example: a POST with every parameter in the query string."""
    query = {
        "grant_type": "password",
        "client_id": running.table["client_id"],
        "client_secret": running.table["client_secret"],
        "username": running.table["username"],
        "password": running.table["password"],
        **params,
    }
    return requests.post(
        f"{running.url}/oauth/token",
        params=query,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        timeout=10,
    )


def bearer(running) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_by_query(running).json()['access_token']}"}


def call(running, route: str, *, headers=None, **kw) -> requests.Response:
    method = kw.pop("method", "POST")
    return requests.request(
        method, f"{running.url}{API}/{route}", headers=headers or bearer(running), timeout=10, **kw
    )


def test_password_grant_from_query_or_form_and_refresh(start_egito):
    running = start_egito()
    answer = token_by_query(running)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["scope"] == "write read"
    assert len(body["access_token"]) == 36 and len(body["refresh_token"]) == 36
    form = {
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
        "client_id": running.table["client_id"],
        "client_secret": running.table["client_secret"],
    }
    refreshed = requests.post(f"{running.url}/oauth/token", data=form, timeout=10)
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != body["access_token"]
    assert running.app.tokens.grant_count("refresh_token") == 1
    bad = token_by_query(running, password="wrong")
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Bad credentials"},
    )
    assert token_by_query(running, client_secret="wrong").json()["error"] == "invalid_client"
    form["refresh_token"] = "not-a-refresh-token"
    again = requests.post(f"{running.url}/oauth/token", data=form, timeout=10)
    assert again.json()["error"] == "invalid_grant"


def test_json_and_form_creates_both_work(start_egito):
    running = start_egito()
    headers = bearer(running)
    as_json = call(
        running,
        "Contact/create",
        headers=headers,
        json={"firstName": "Jan", "lastName": "Json", "email": "jan@example.pl", "industry": 10},
    )
    assert as_json.status_code == 200
    as_form = call(
        running,
        "Contact/create",
        headers=headers,
        data={"firstName": "Ola", "lastName": "Form", "marketingConsent": "on", "accountId": ""},
    )
    assert as_form.status_code == 200
    json_id, form_id = as_json.json()["id"], as_form.json()["id"]
    assert isinstance(json_id, int) and form_id == json_id + 1
    stored = running.app.store.get("Contact", form_id)
    assert stored["marketingConsent"] is True and stored["accountId"] is None
    got = call(running, "Contact/get", headers=headers, method="GET", params={"id": json_id})
    assert got.json()["industry"] == 10 and got.json()["lastName"] == "Json"


def test_failures_are_errors_lists_in_http_200(start_egito):
    running = start_egito()
    headers = bearer(running)
    invalid = call(running, "Contact/create", headers=headers, json={"email": "nope"})
    assert invalid.status_code == 200
    assert invalid.json() == {
        "errors": [{"message": "Niepoprawny adres e-mail", "code": "email", "field": "email"}]
    }
    missing = call(running, "Contact/get", headers=headers, data={"id": "999999"})
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["code"] == "notFound"
    dictionary = call(
        running, "Contact/create", headers=headers, json={"lastName": "X", "industry": 1}
    )
    assert dictionary.json()["errors"][0]["field"] == "industry"
    running.app.error_status = 400
    assert call(running, "Contact/create", headers=headers, json={}).status_code == 400


def test_dictionaries_list_paging_and_modified_from(start_egito):
    running = start_egito(records=30)
    headers = bearer(running)
    industries = call(
        running, "SelectDictionary/list", headers=headers, method="GET", params={"type": "industry"}
    ).json()
    assert {"id": 10, "name": "Retail"} in industries
    page = call(
        running, "Contact/list", headers=headers, method="GET", params={"start": 25, "limit": 10}
    ).json()
    assert page["total"] == 30 and len(page["data"]) == 5
    stamps = sorted(r["modifyDate"] for r in running.app.store.contacts.values())
    since = stamps[25]
    recent = call(
        running, "Contact/list", headers=headers, data={"modifiedFrom": since, "limit": "100"}
    ).json()
    assert recent["total"] == sum(s >= since for s in stamps) < 30
    running.app.modified_filter = False
    ignored = call(running, "Contact/list", headers=headers, data={"modifiedFrom": since}).json()
    assert ignored["total"] == 30


def test_tokens_expire_and_query_tokens_are_accepted(start_egito):
    running = start_egito(token_ttl=0.2)
    access = token_by_query(running).json()["access_token"]
    ok = requests.get(
        f"{running.url}{API}/Contact/list", params={"access_token": access}, timeout=10
    )
    assert ok.status_code == 200
    time.sleep(0.3)
    expired = call(running, "Contact/list", headers={"Authorization": f"Bearer {access}"})
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"
    assert expired.json()["error_description"].startswith("Access token expired")
    assert access not in expired.text


def test_rate_limit_and_injected_faults(start_egito):
    running = start_egito(rate_limit=2)
    headers = bearer(running)
    statuses = [call(running, "Contact/list", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = call(running, "Contact/list", headers=headers)
    assert refused.json()["errors"][0]["code"] == "rateLimit"
    assert int(refused.headers["Retry-After"]) >= 1
    running.app.throttle.limit = 0
    running.app.faults.fail_rate = 1.0
    down = call(running, "Contact/list", headers=headers)
    assert down.status_code == 503 and down.headers["Content-Type"] == "text/html"


def test_emulate_command_prints_the_connection_table_first():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "egito", "--records", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        assert {"kind", "base_url", "client_id", "client_secret", "username", "password"} <= set(
            table
        )
        assert table["kind"] == "egito"
        answer = requests.post(
            f"{table['base_url']}/oauth/token",
            params={
                "grant_type": "password",
                "client_id": table["client_id"],
                "client_secret": table["client_secret"],
                "username": table["username"],
                "password": table["password"],
            },
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
