"""Deletes through the control plane: Bigin's delete notifications, the guard's confirming
call, job counts and the Prometheus counter."""

from __future__ import annotations

import re
import time

import requests

LEGACY_DELETED = 'soapbridge_deletes_total{outcome="deleted",system="legacy"}'


def _legacy_deletes(api) -> float:
    """The counter's value now (the registry is the process's: other tests count too)."""
    text = requests.get(f"{api.url}/metrics", timeout=10).text
    found = re.search(re.escape(LEGACY_DELETED) + r" ([0-9.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def _integration(api, legacy, bigin, direction, **options):
    source = api.connection("legacy", legacy)
    target = api.connection("bigin", bigin)
    settings = {"source": source, "target": target, "direction": direction, "options": options}
    integration = api.ok(
        "POST", "/v1/integrations", 201, json={"name": "members", "settings": settings}
    )
    for index in range(len(integration["install"])):
        integration = api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    return integration


def _run(api, integration, **body):
    job = api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202, json=body or None)
    return api.wait_job(job["_id"])


def test_a_contact_deleted_in_bigin_leaves_the_legacy_side_through_the_webhook(
    api, start_legacy, start_bigin
):
    legacy, bigin = start_legacy(records=25), start_bigin()
    integration = _integration(api, legacy, bigin, "both", deletes="propagate")
    assert _run(api, integration)["numCreated"] == 25
    victim = legacy.app.store.all_records()[4]
    found = bigin.api("GET", "/Contacts/search", params={"email": victim["emailAddress"]})
    bigin_id = found.json()["data"][0]["id"]

    counted_before = _legacy_deletes(api)
    deleted_at = time.monotonic()
    assert bigin.api("DELETE", f"/Contacts/{bigin_id}").status_code == 200
    while time.monotonic() - deleted_at < 10:
        if all(r["entityId"] != victim["entityId"] for r in legacy.app.store.all_records()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the delete did not reach the legacy side within 10 s")
    assert len(legacy.app.store.all_records()) == 24
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        jobs = api.ok("GET", "/v1/jobs", params={"type": "webhook", "status": "completed"})
        if any(j["numDeleted"] == 1 for j in jobs):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no webhook job counted the delete")
    assert _legacy_deletes(api) == counted_before + 1
    # A full run afterwards finds nothing more to do.
    again = _run(api, integration, reconcile=True)
    assert (again["numDeleted"], again["numCreated"]) == (0, 0)
    assert len(legacy.app.store.all_records()) == 24


def test_the_guard_holds_deletes_until_a_confirming_call(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=20), start_bigin()
    integration = _integration(api, legacy, bigin, "source-to-target", deletes="propagate")
    assert _run(api, integration)["numCreated"] == 20
    for record in legacy.app.store.all_records()[:3]:
        assert legacy.app.store.delete(record["entityId"])

    held = _run(api, integration, reconcile=True)
    assert held["numDeleted"] == 0 and "3 delete(s)" in held["error"]
    assert len(bigin.app.store.select("Contacts")) == 20
    bad = api.call(
        "POST", f"/v1/integrations/{integration['_id']}/run", json={"confirmDeletes": "yes"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "confirmDeletes"

    confirmed = _run(api, integration, confirmDeletes=True)
    assert confirmed["status"] == "completed" and confirmed["numDeleted"] == 3
    assert confirmed["error"] is None
    assert len(bigin.app.store.select("Contacts")) == 17


def test_delete_options_are_validated(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(), start_bigin()
    source, target = api.connection("legacy", legacy), api.connection("bigin", bigin)
    for options, field in (
        ({"deletes": "wipe"}, "settings.options.deletes"),
        ({"max_delete_fraction": 2}, "settings.options.max_delete_fraction"),
        ({"max_deletes": -1}, "settings.options.max_deletes"),
        ({"reconcile": "yes"}, "settings.options.reconcile"),
    ):
        settings = {"source": source, "target": target, "options": options}
        answer = api.call("POST", "/v1/integrations", json={"name": "x", "settings": settings})
        assert answer.status_code == 422, options
        assert answer.json()["errors"][0]["field"] == field
