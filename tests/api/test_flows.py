"""Install steps, runs and jobs, and Bigin webhooks, against the emulators on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from bridge.api.installers import renew_channels


def _install(api, integration):
    for index in range(len(integration["install"])):
        integration = api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    return integration


def _pair(api, legacy, bigin, name="members", direction="both"):
    source = api.connection("legacy", legacy)
    target = api.connection("bigin", bigin)
    body = {"name": name, "settings": {"source": source, "target": target, "direction": direction}}
    return api.ok("POST", "/v1/integrations", 201, json=body)


def test_install_steps_verify_credentials_and_create_the_bigin_watch(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(), start_bigin()
    integration = _pair(api, legacy, bigin)
    path = f"/v1/integrations/{integration['_id']}"
    assert [s["installerFunction"] for s in integration["install"]] == [
        "verifyConnection",
        "verifyConnection",
        "createBiginWatch",
    ]
    not_yet = api.call("POST", f"{path}/run")
    assert not_yet.status_code == 409 and not_yet.json()["errors"][0]["code"] == "not_installed"
    early = api.call("POST", f"{path}/install/1")
    assert early.status_code == 409 and early.json()["errors"][0]["code"] == "step_out_of_order"
    assert api.call("POST", f"{path}/install/7").status_code == 404

    first = api.ok("POST", f"{path}/install/0")
    assert [s["completed"] for s in first["install"]] == [True, False, False]
    assert first["mode"] == "install"
    installed = _install(api, first)
    assert installed["mode"] == "settings" and all(s["completed"] for s in installed["install"])
    assert api.call("POST", f"{path}/install/0").status_code == 409  # installed already

    [channel] = api.store.webhook_channels.all()
    assert channel.integration_id == integration["_id"] and channel.connection == "bigin"
    assert channel.notify_url == f"{api.url}/webhooks/bigin"
    listed = bigin.api("GET", "/actions/watch").json()["watch"]
    assert [(c["channel_id"], c["notify_url"]) for c in listed] == [
        (channel.channel_id, channel.notify_url)
    ]
    # Deleting the integration removes its channel at Bigin too.
    assert api.call("DELETE", path).status_code == 204
    assert bigin.api("GET", "/actions/watch").status_code == 204
    assert api.store.webhook_channels.all() == []


def test_a_step_with_refused_credentials_fails_and_stays_incomplete(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(), start_bigin()
    source = api.connection("legacy", legacy)
    api.ok("PUT", f"/v1/connections/{source}", json={"settings": {"password": "wrong"}})
    target = api.connection("bigin", bigin)
    integration = api.ok(
        "POST",
        "/v1/integrations",
        201,
        json={"name": "bad", "settings": {"source": source, "target": target}},
    )
    failed = api.call("POST", f"/v1/integrations/{integration['_id']}/install/0")
    assert failed.status_code == 422
    assert failed.json()["errors"][0]["code"] == "installer_failed"
    after = api.ok("GET", f"/v1/integrations/{integration['_id']}")
    assert after["install"][0]["completed"] is False and after["mode"] == "install"
    ping = api.call("GET", f"/v1/connections/{source}/ping")
    assert ping.status_code == 422
    assert api.ok("GET", f"/v1/connections/{target}/ping") == {"code": 200}


def test_run_answers_202_and_the_job_reports_counts_and_errors(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=30), start_bigin()
    rows = legacy.app.store.all_records()
    blanked = [rows[3]["entityId"], rows[11]["entityId"], rows[20]["entityId"]]
    for entity_id in blanked:  # Bigin requires Last_Name
        legacy.app.store._records[entity_id]["lastName"] = None
    integration = _pair(api, legacy, bigin, direction="source-to-target")
    # One way, legacy -> Bigin: no watch on Bigin (its notifications would be ignored).
    assert [s["installerFunction"] for s in integration["install"]] == ["verifyConnection"] * 2
    integration = _install(api, integration)
    before = datetime.now(UTC) - timedelta(seconds=1)

    started = api.call("POST", f"/v1/integrations/{integration['_id']}/run")
    assert started.status_code == 202
    job = started.json()
    assert job["status"] == "queued" and job["_integrationId"] == integration["_id"]
    done = api.wait_job(job["_id"])
    assert done["status"] == "completed", done
    assert (done["numExport"], done["numSuccess"], done["numError"], done["numIgnore"]) == (30, 27, 3, 0)
    assert done["startedAt"] <= done["endedAt"] and done["duration"] >= 0

    errors = api.call("GET", f"/v1/jobs/{job['_id']}/joberrors", params={"limit": 2})
    assert [e["code"] for e in errors.json()] == ["MANDATORY_NOT_FOUND"] * 2
    assert "next" in errors.links
    rest = api.http.get(errors.links["next"]["url"], headers={"Authorization": f"Bearer {api.token}"})
    assert len(rest.json()) == 1 and "next" not in rest.links
    keys = {e["recordKey"] for e in errors.json() + rest.json()}
    assert keys == {str(i) for i in blanked}

    again = api.wait_job(api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)["_id"])
    assert again["status"] == "completed" and again["numSuccess"] == 0

    listed = api.ok("GET", "/v1/jobs", params={"_integrationId": integration["_id"], "type": "flow"})
    assert [j["_id"] for j in listed] == [again["_id"], job["_id"]]  # newest first
    assert api.ok("GET", "/v1/jobs", params={"type": "webhook"}) == []
    since = before.isoformat().replace("+00:00", "Z")
    assert len(api.ok("GET", "/v1/jobs", params={"createdAt_gte": since, "type": "flow"})) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.ok("GET", "/v1/jobs", params={"createdAt_gte": future}) == []
    assert api.ok("GET", "/v1/jobs", params={"status": "failed"}) == []
    bad = api.call("GET", "/v1/jobs", params={"createdAt_lte": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "createdAt_lte"


def test_a_run_that_cannot_start_fails_its_job_with_the_reason(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=3), start_bigin()
    integration = _install(api, _pair(api, legacy, bigin))
    source = integration["settings"]["source"]
    api.ok("PUT", f"/v1/connections/{source}", json={"settings": {"password": "rotated-away"}})
    job = api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)
    done = api.wait_job(job["_id"])
    assert done["status"] == "failed" and done["error"] and done["endedAt"]
    assert "rotated-away" not in str(done)


def test_a_bigin_edit_reaches_the_legacy_side_through_the_webhook(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=5), start_bigin()
    integration = _install(api, _pair(api, legacy, bigin))
    first = api.wait_job(api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)["_id"])
    assert first["numSuccess"] == 5
    # Bigin notifies the run's own writes back: pushed, found unchanged, nothing written.
    deadline = time.monotonic() + 5
    while not api.ok("GET", "/v1/jobs", params={"type": "webhook"}) and time.monotonic() < deadline:
        time.sleep(0.05)
    echoes = api.ok("GET", "/v1/jobs", params={"type": "webhook"})
    assert echoes and all(j["numSuccess"] == 0 and j["numError"] == 0 for j in echoes)
    contacts = bigin.api("GET", "/Contacts", params={"fields": "First_Name,Last_Name,Email"}).json()["data"]
    record = contacts[0]

    edited_at = time.monotonic()
    answer = bigin.api("PUT", f"/Contacts/{record['id']}", json={"data": [{"First_Name": "Webhooked"}]})
    assert answer.status_code == 200
    arrived = None
    while time.monotonic() - edited_at < 10:
        matches = [r for r in legacy.app.store.all_records() if r["firstName"] == "Webhooked"]
        if matches:
            arrived = time.monotonic() - edited_at
            break
        time.sleep(0.05)
    assert arrived is not None, "the edit did not reach the legacy side within 10 s"
    assert matches[0]["emailAddress"] == record["Email"]
    assert arrived < 5
    deadline = time.monotonic() + 5
    while True:
        pushes = api.ok("GET", "/v1/jobs", params={"type": "webhook", "status": "completed"})
        written = [j for j in pushes if j["numUpdated"] == 1]
        if written or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert written and written[0]["direction"] == "target-to-source"


def test_webhook_refuses_unknown_channels_and_wrong_tokens(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(), start_bigin()
    _install(api, _pair(api, legacy, bigin))
    [channel] = api.store.webhook_channels.all()
    note = {"channel_id": channel.channel_id, "token": "wrong", "ids": ["1"], "operation": "update"}
    for body in (note, {**note, "channel_id": "123"}, {**note, "token": None}):
        refused = requests.post(f"{api.url}/webhooks/bigin", json=body, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["code"] == "invalid_token"
    garbage = requests.post(f"{api.url}/webhooks/bigin", data=b"[1,", timeout=10)
    assert garbage.status_code == 400
    right = {**note, "token": api.store.webhook_channels.token(channel.channel_id), "operation": "delete"}
    accepted = requests.post(f"{api.url}/webhooks/bigin", json=right, timeout=10)
    # A delete is pushed (the push finds id 1 unlinked and carries nothing).
    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1, "pushed": True}


def test_channels_expiring_soon_are_renewed_with_the_same_token(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(), start_bigin()
    _install(api, _pair(api, legacy, bigin))
    [channel] = api.store.webhook_channels.all()
    token = api.store.webhook_channels.token(channel.channel_id)
    api.store.webhook_channels.renew(channel.channel_id, datetime.now(UTC) + timedelta(minutes=10))
    wiring = api.plane.ctx.wiring
    assert renew_channels(wiring, within=timedelta(minutes=5)) == 0  # not due yet
    assert renew_channels(wiring) == 1
    renewed = api.store.webhook_channels.get(channel.channel_id)
    assert renewed.expires_at - datetime.now(UTC) > timedelta(hours=23)
    [listed] = bigin.api("GET", "/actions/watch").json()["watch"]
    remote_expiry = datetime.fromisoformat(listed["channel_expiry"])
    assert remote_expiry - datetime.now(UTC) > timedelta(hours=23)
    assert listed["token"] == token
    assert api.store.webhook_channels.verify(channel.channel_id, token) is not None


def test_the_api_works_the_same_over_postgresql(start_api, start_legacy, start_bigin):
    api = start_api(backend="postgresql")
    assert api.store.dialect == "postgresql"
    legacy, bigin = start_legacy(records=8), start_bigin()
    integration = _install(api, _pair(api, legacy, bigin))
    assert integration["mode"] == "settings"
    clone = api.ok(
        "POST",
        f"/v1/integrations/{integration['_id']}/clone",
        201,
        json={"name": "copy", "connectionMap": {c: c for c in (integration["settings"]["source"], integration["settings"]["target"])}},
    )
    assert clone["settings"]["source"] == integration["settings"]["source"]
    job = api.wait_job(api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)["_id"])
    assert (job["status"], job["numSuccess"], job["numError"]) == ("completed", 8, 0)
    page = api.call("GET", "/v1/integrations", params={"limit": 1})
    assert page.headers["X-Total-Count"] == "2" and "next" in page.links


def test_the_server_renews_due_channels_by_itself(start_api, start_legacy, start_bigin):
    api = start_api(renew_every=0.2)
    legacy, bigin = start_legacy(), start_bigin()
    _install(api, _pair(api, legacy, bigin))
    [channel] = api.store.webhook_channels.all()
    api.store.webhook_channels.renew(channel.channel_id, datetime.now(UTC) + timedelta(minutes=3))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        renewed = api.store.webhook_channels.get(channel.channel_id)
        if renewed.expires_at - datetime.now(UTC) > timedelta(hours=23):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the channel was not renewed by the server's renewal thread")
