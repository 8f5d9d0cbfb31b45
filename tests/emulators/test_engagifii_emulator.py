"""The Engagifii emulator on the wire, as any HTTP client sees it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import requests

from bridge.emulators.engagifii.store import NO_ORGANIZATION


def token(running, **form: str) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": running.table["client_id"],
        "client_secret": running.table["client_secret"],
        **form,
    }
    return requests.post(running.table["token_url"], data=data, timeout=10)


def api(running, method: str, path: str, *, tenant: str | None = None, bearer=None, **kw):
    headers = {"tenant-code": tenant or running.table["tenant_code"]}
    bearer = bearer or token(running).json()["access_token"]
    headers["Authorization"] = f"Bearer {bearer}"
    headers.update(kw.pop("headers", {}))
    return requests.request(
        method, f"{running.table['base_url']}/{path}", headers=headers, timeout=10, **kw
    )


def test_client_credentials_token_shape_and_refusals(start_engagifii):
    running = start_engagifii()
    answer = token(running)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "refresh_token" not in body
    assert token(running, client_secret="wrong").json()["error"] == "invalid_client"
    assert token(running, client_secret="wrong").status_code == 401
    assert token(running, grant_type="password").json()["error"] == "unsupported_grant_type"
    as_json = requests.post(running.table["token_url"], json={"grant_type": "x"}, timeout=10)
    assert as_json.status_code == 400
    assert running.stats.snapshot()["tokens_issued"] == 1


def test_paging_envelope_is_zero_based_and_paths_ignore_case(start_engagifii):
    running = start_engagifii(records=120)
    first = api(running, "POST", "people/PeoplePagingList", json={"pageIndex": 0, "pageSize": 50})
    assert first.status_code == 200
    body = first.json()
    assert (body["totalCount"], body["pageIndex"], body["pageSize"]) == (120, 0, 50)
    assert body["hasNextPage"] is True and len(body["data"]) == 50
    last = api(
        running,
        "POST",
        "People/peoplepaginglist",
        data=json.dumps({"pageIndex": 2, "pageSize": 50}),
        headers={"Content-Type": "application/json-patch+json"},
    ).json()
    assert len(last["data"]) == 20 and last["hasNextPage"] is False
    person = body["data"][0]
    same = api(running, "GET", f"PEOPLE/{person['id'].upper()}").json()
    assert same["email"] == person["email"]
    huge = api(running, "POST", "people/PeoplePagingList", json={"pageSize": 5000}).json()
    assert huge["pageSize"] == 100
    found = api(running, "POST", f"people/SearchPeopleList/{person['email'][:8]}").json()
    assert person["id"] in {p["id"] for p in found["data"]}


def test_people_are_isolated_per_tenant(start_engagifii):
    running = start_engagifii(records=3)
    body = {"firstName": "Ten", "lastName": "Ant", "email": "ten.ant@example.org"}
    created = api(running, "POST", f"people/CreatePersonInline/{NO_ORGANIZATION}", json=body)
    assert created.status_code == 201
    person_id = created.json()["id"]
    assert api(running, "GET", f"people/{person_id}").status_code == 200
    elsewhere = api(running, "GET", f"people/{person_id}", tenant="second-tenant")
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "NOT_FOUND"
    listed = api(running, "POST", "people/PeoplePagingList", tenant="second-tenant", json={})
    assert listed.json()["totalCount"] == 0
    denied = api(running, "GET", f"people/{person_id}", tenant="someone-else")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "TENANT_ACCESS_DENIED"
    missing = requests.get(
        f"{running.table['base_url']}/people/{person_id}",
        headers={"Authorization": f"Bearer {token(running).json()['access_token']}"},
        timeout=10,
    )
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "TENANT_REQUIRED"


def test_errors_use_the_documented_envelope(start_engagifii):
    running = start_engagifii()
    answer = api(
        running,
        "POST",
        f"people/CreatePersonInline/{NO_ORGANIZATION}",
        json={"lastName": "X", "email": "nope", "phone": "call me"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details", "timestamp", "requestId", "path", "method"}
    assert error["code"] == "VALIDATION_ERROR" and error["method"] == "POST"
    assert {(d["field"], d["code"]) for d in error["details"]} == {
        ("email", "INVALID_FORMAT"),
        ("phone", "INVALID_FORMAT"),
    }
    plain = api(
        running,
        "POST",
        "people/PeoplePagingList",
        data="{}",
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    assert api(running, "GET", "nothing/here").json()["error"]["code"] == "NOT_FOUND"


def test_expired_and_unknown_tokens_get_401(start_engagifii):
    running = start_engagifii(token_ttl=0.2)
    bearer = token(running).json()["access_token"]
    running.app.tokens.ttl = 3600
    time.sleep(0.3)
    expired = api(running, "POST", "people/PeoplePagingList", bearer=bearer, json={})
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "TOKEN_EXPIRED"
    unknown = api(running, "POST", "people/PeoplePagingList", bearer="forged", json={})
    assert unknown.json()["error"]["code"] == "UNAUTHORIZED"


def test_rate_limit_answers_429_with_retry_after_and_counters(start_engagifii):
    running = start_engagifii(rate_limit=3)
    bearer = token(running).json()["access_token"]
    answers = [
        api(running, "POST", "people/PeoplePagingList", bearer=bearer, json={}) for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[1].headers["X-RateLimit-Remaining"] == "1"
    refused = answers[3]
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert 0 < int(refused.headers["X-RateLimit-Reset"]) - time.time() <= 61


def test_modified_date_filter_can_be_honoured_or_ignored(start_engagifii):
    running = start_engagifii(records=30)
    people = running.app.store.page_people(running.app.store.tenant("emulator"), {}, 0, 100)[0]
    cut = sorted(p["modifiedDate"] for p in people)[20]
    flt = {"filter": {"modifiedDate": cut}}
    honoured = api(running, "POST", "people/PeoplePagingList", json=flt).json()
    assert honoured["totalCount"] == sum(p["modifiedDate"] >= cut for p in people) < 30
    running.app.modified_filter = False
    ignored = api(running, "POST", "people/PeoplePagingList", json=flt).json()
    assert ignored["totalCount"] == 30


def test_emulate_command_prints_the_connection_table_first():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "engagifii", "--records", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        assert set(table) == {
            "kind",
            "base_url",
            "token_url",
            "client_id",
            "client_secret",
            "tenant_code",
        }
        assert table["kind"] == "engagifii" and table["base_url"].startswith("http://127.0.0.1:")
        answer = requests.post(
            table["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": table["client_id"],
                "client_secret": table["client_secret"],
            },
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
