"""The HubSpot emulator speaks the documented wire: paths, envelopes, errors, limits, OAuth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bridge.emulators import hubspot
from bridge.emulators.kit.server import EmulatorServer, Stats, with_admin

CONTACTS = "/crm/v3/objects/contacts"


class Running:
    def __init__(self, app: hubspot.HubSpotApp, server: EmulatorServer) -> None:
        self.app, self.url = app, server.url
        self.headers = {"Authorization": f"Bearer {app.app.private_token}"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(
            self.url + path, headers=kw.pop("headers", self.headers), timeout=10, **kw
        )

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return requests.post(self.url + path, json=body, headers=kw.pop("headers", self.headers),
                             timeout=10, **kw)  # fmt: skip


@pytest.fixture
def start() -> Iterator[Callable[..., Running]]:
    servers: list[tuple[EmulatorServer, hubspot.HubSpotApp]] = []

    def run(records: int = 0, **options: Any) -> Running:
        stats = Stats()
        app = hubspot.build_app(records, auth="private", stats=stats, **options)
        server = EmulatorServer(with_admin(app, stats)).start()
        servers.append((server, app))
        return Running(app, server)

    yield run
    for server, app in servers:
        server.stop()
        app.close()


def test_list_pages_by_ascending_id_and_the_last_page_has_no_paging(start):
    hs = start(250)
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 100, "properties": "email,jobtitle"} | (
            {"after": after} if after else {}
        )
        body = hs.get(CONTACTS, params=params).json()
        seen += [r["id"] for r in body["results"]]
        pages += 1
        assert set(body["results"][0]["properties"]) == {"email", "jobtitle"}
        assert body["results"][0]["properties"]["jobtitle"] is None  # requested, unset: null
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert pages == 3 and len(seen) == 250 and seen == sorted(seen, key=int)
    default = hs.get(CONTACTS).json()["results"]
    assert len(default) == 10
    assert set(default[0]["properties"]) == {"createdate", "email", "firstname", "hs_object_id",
                                             "lastmodifieddate", "lastname"}  # fmt: skip


def test_errors_carry_status_message_correlation_id_and_category(start):
    hs = start(1)
    missing = hs.get(CONTACTS + "/999")
    assert missing.status_code == 404
    body = missing.json()
    assert body["status"] == "error" and body["category"] == "OBJECT_NOT_FOUND"
    assert body["correlationId"] and missing.headers["x-hubspot-correlation-id"]
    unknown = hs.post(CONTACTS, {"properties": {"no_such_property": "x"}})
    assert unknown.status_code == 400 and unknown.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in unknown.json()["message"]
    for shape in ({"properties": ["a"]}, {"properties": "x"}, [1, 2]):
        wrong = hs.post(CONTACTS, shape)
        assert wrong.status_code == 400 and wrong.json()["category"] == "VALIDATION_ERROR"
    assert hs.post(CONTACTS + "/batch/read", {"inputs": [{"id": {"x": 1}}]}).status_code in (
        400,
        404,
    )
    email = hs.get(CONTACTS + "/1").json()  # not found either way
    assert email["category"] == "OBJECT_NOT_FOUND"
    first = hs.get(CONTACTS, params={"limit": 1}).json()["results"][0]["properties"]["email"]
    taken = hs.post(CONTACTS, {"properties": {"email": first}})
    assert taken.status_code == 409 and "Existing ID: " in taken.json()["message"]
    assert hs.app.store.ids[0] == int(taken.json()["message"].rsplit(" ", 1)[1])
    assert (
        requests.delete(hs.url + CONTACTS + "/424242", headers=hs.headers, timeout=5).status_code
        == 204
    )


def test_batches_answer_207_per_input_and_cap_at_100(start):
    hs = start(3)
    prop = {"name": "ext_id", "label": "Ext", "type": "string", "fieldType": "text",
            "groupName": "contactinformation", "hasUniqueValue": True}  # fmt: skip
    assert hs.post("/crm/v3/properties/contacts", prop).status_code == 201
    assert hs.post("/crm/v3/properties/contacts", prop).status_code == 409
    inputs = [{"id": f"E{i}", "idProperty": "ext_id", "properties": {"email": f"e{i}@x.com"}}
              for i in range(3)]  # fmt: skip
    inputs[1]["properties"]["email"] = "nope"
    answer = hs.post(CONTACTS + "/batch/upsert", {"inputs": inputs})
    assert answer.status_code == 207
    body = answer.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 1
    assert body["errors"][0]["context"]["ids"] == ["E1"]
    assert sorted(r["properties"]["ext_id"] for r in body["results"]) == ["E0", "E2"]
    assert all(r["new"] for r in body["results"])
    again = hs.post(CONTACTS + "/batch/upsert", {"inputs": [inputs[0]]}).json()
    assert again["results"][0]["new"] is False
    read = hs.post(
        CONTACTS + "/batch/read", {"inputs": [{"id": "E0"}, {"id": "E9"}], "idProperty": "ext_id"}
    )
    assert read.status_code == 207 and read.json()["errors"][0]["context"]["ids"] == ["E9"]
    assert hs.post(CONTACTS + "/batch/read", {"inputs": [{"id": "1"}]}).status_code == 404
    too_many = [{"id": str(i)} for i in range(101)]
    assert hs.post(CONTACTS + "/batch/read", {"inputs": too_many}).status_code == 400
    email_upsert = hs.post(CONTACTS + "/batch/upsert", {"inputs": [
        {"id": "a@x.com", "idProperty": "email", "properties": {}},
        {"id": "bad", "idProperty": "email", "properties": {}}]})  # fmt: skip
    assert email_upsert.status_code == 400, "no partial upserts on email"
    by_email = hs.post(CONTACTS + "/batch/update", {"inputs": [], "idProperty": "email"})
    assert by_email.status_code == 400 and "non-unique" in by_email.json()["message"]
    ids = [{"id": str(i)} for i in hs.app.store.ids[:2]]
    assert hs.post(CONTACTS + "/batch/archive", {"inputs": ids}).status_code == 204
    archived = hs.get(CONTACTS, params={"archived": "true"}).json()["results"]
    assert [r["id"] for r in archived] == [i["id"] for i in ids]
    assert all(r["archived"] and r["archivedAt"].endswith("Z") for r in archived)
    assert hs.get(CONTACTS + "/" + ids[0]["id"]).status_code == 404
    assert hs.get(CONTACTS + "/" + ids[0]["id"], params={"archived": "true"}).status_code == 200


def test_search_filters_sorts_ceiling_and_index_lag(start):
    hs = start(600, index_lag=0.4, search_limit=0)
    ids = hs.app.store.ids
    body = {"filterGroups": [{"filters": [
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(ids[100])},
                {"propertyName": "hs_object_id", "operator": "LTE", "value": str(ids[399])}]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}], "limit": 200}  # fmt: skip
    page = hs.post(CONTACTS + "/search", body).json()
    assert page["total"] == 299 and page["paging"]["next"]["after"] == "200"
    assert [r["id"] for r in page["results"]][:2] == [str(ids[399]), str(ids[398])]
    assert hs.post(CONTACTS + "/search", {**body, "limit": 201}).status_code == 400
    assert hs.post(CONTACTS + "/search", {**body, "after": "10000"}).status_code == 400
    six = {
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6
    }
    assert hs.post(CONTACTS + "/search", six).status_code == 400
    two_sorts = {"sorts": ["email", "-createdate"]}
    assert hs.post(CONTACTS + "/search", two_sorts).status_code == 400
    fresh = hs.post(CONTACTS, {"properties": {"email": "new@x.com"}}).json()
    eq = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "NEW@x.com"}]}
        ]
    }
    assert hs.post(CONTACTS + "/search", eq).json()["total"] == 0, "not indexed yet"
    time.sleep(0.5)
    found = hs.post(CONTACTS + "/search", eq).json()
    assert [r["id"] for r in found["results"]] == [fresh["id"]]
    since = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                            "value": fresh["updatedAt"]}]}]}  # fmt: skip
    assert hs.post(CONTACTS + "/search", since).json()["total"] == 1
    assert hs.get(CONTACTS + "/search").status_code != 200


def test_merge_makes_a_new_id_that_both_old_ids_answer(start):
    hs = start(2)
    one, two = hs.app.store.ids
    merged = hs.post(
        CONTACTS + "/merge", {"primaryObjectId": str(one), "objectIdToMerge": str(two)}
    ).json()
    assert merged["id"] not in (str(one), str(two))
    assert merged["properties"]["hs_merged_object_ids"] == f"{one};{two}"
    for old in (one, two):
        assert hs.get(f"{CONTACTS}/{old}").json()["id"] == merged["id"]
    assert [r["id"] for r in hs.get(CONTACTS).json()["results"]] == [merged["id"]]
    assert hs.get(CONTACTS, params={"archived": "true"}).json()["results"] == []


def test_rate_limit_headers_and_429_policies(start):
    hs = start(1, burst_limit=3, daily_limit=5, search_limit=2)
    first = hs.get(CONTACTS)
    assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "4"
    hs.get(CONTACTS), hs.get(CONTACTS)
    refused = hs.get(CONTACTS)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert refused.json()["errorType"] == "RATE_LIMIT"
    searches = [hs.post(CONTACTS + "/search", {}) for _ in range(3)]
    assert [s.status_code for s in searches] == [200, 200, 429]
    assert "X-HubSpot-RateLimit-Max" not in searches[0].headers
    assert searches[2].json()["policyName"] == "SECONDLY"


def test_oauth_code_flow_refresh_and_expiry(start):
    hs = start(1, token_ttl=1)
    client = hs.app.app
    authorize = requests.get(hs.url + "/oauth/authorize", allow_redirects=False, timeout=5,
                             params={"client_id": client.client_id, "redirect_uri": "http://127.0.0.1/cb",
                                     "scope": "crm.objects.contacts.read", "state": "s1"})  # fmt: skip
    assert authorize.status_code == 302
    query = parse_qs(urlsplit(authorize.headers["Location"]).query)
    assert query["state"] == ["s1"]
    form = {"grant_type": "authorization_code", "client_id": client.client_id,
            "client_secret": client.client_secret, "redirect_uri": "http://127.0.0.1/cb",
            "code": query["code"][0]}  # fmt: skip
    token = requests.post(hs.url + "/oauth/v1/token", data=form, timeout=5)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1 and body["refresh_token"]
    again = requests.post(hs.url + "/oauth/v1/token", data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # single use
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert hs.get(CONTACTS, headers=bearer).status_code == 200
    time.sleep(1.1)
    expired = hs.get(CONTACTS, headers=bearer)
    assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    refresh = {"grant_type": "refresh_token", "client_id": client.client_id,
               "client_secret": client.client_secret, "refresh_token": body["refresh_token"]}  # fmt: skip
    assert requests.post(hs.url + "/oauth/v3/token", data=refresh, timeout=5).status_code == 200
    nobody = hs.get(CONTACTS, headers={"Authorization": "Bearer nope"})
    assert nobody.status_code == 401 and nobody.json()["category"] == "INVALID_AUTHENTICATION"
    assert nobody.headers["x-hubspot-auth-failure"] == "401 Unauthorized"


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_emulate_prints_the_connection_table_first_and_idles_at_no_cpu():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "hubspot", "--records", "10"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        time.sleep(0.5)
        before = _cpu_seconds(process.pid)
        time.sleep(2.0)
        idle = _cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert table["kind"] == "hubspot" and table["base_url"].startswith("http://127.0.0.1:")
    assert {"client_id", "client_secret", "refresh_token"} <= set(table)
    assert idle < 0.1, f"the emulator used {idle:.2f} CPU seconds doing nothing"
