"""HubSpot in the control plane: the External ID install step, signed webhooks pushed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from bridge.emulators import hubspot
from bridge.emulators.hubspot.webhooks import sign_v3
from bridge.emulators.kit.server import EmulatorServer
from bridge.store.repos.tombstones import SideRef


class RunningHubSpot:
    def __init__(self, app: Any, server: EmulatorServer) -> None:
        self.app = app
        self.table = hubspot.connection_table(app, server.url)


@pytest.fixture
def start_hubspot_emulator():
    servers: list[EmulatorServer] = []

    def start() -> RunningHubSpot:
        app = hubspot.build_app(0)
        server = EmulatorServer(app).start()
        servers.append(server)
        return RunningHubSpot(app, server)

    yield start
    for server in servers:
        server.stop()


def test_install_creates_the_external_id_property_once(api, start_legacy, start_hubspot_emulator):
    legacy, hub = start_legacy(), start_hubspot_emulator()
    body = {"name": "to-hubspot", "settings": {"source": api.connection("legacy", legacy),
                                               "target": api.connection("hubspot", hub),
                                               "direction": "source-to-target"}}  # fmt: skip
    integration = api.ok("POST", "/v1/integrations", 201, json=body)
    functions = [s["installerFunction"] for s in integration["install"]]
    assert functions == ["verifyConnection", "verifyConnection", "createHubSpotProperty"]
    assert "bridge_external_id" not in hub.app.store.properties
    assert "bridge_deleted" not in hub.app.store.properties
    for index in range(len(functions)):
        integration = api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    assert integration["mode"] == "settings"
    prop = hub.app.store.properties["bridge_external_id"]
    assert prop.unique and not prop.hubspot_defined
    flag = hub.app.store.properties["bridge_deleted"]
    assert flag.type == "bool" and not flag.unique and not flag.hubspot_defined


def _deliver(api, secret: str, events: list[dict[str, Any]]) -> requests.Response:
    url = f"{api.url}/webhooks/hubspot"
    body = json.dumps(events).encode()
    stamp = int(time.time() * 1000)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": str(stamp),
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", url, body, stamp),
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


def _event(record_id: int, kind: str, **extra: Any) -> dict[str, Any]:
    """One event as HubSpot delivers it, happening now."""
    return {
        "objectId": record_id,
        "subscriptionType": kind,
        "eventId": record_id,
        "subscriptionId": 1,
        "portalId": 4242,
        "appId": 777,
        "attemptNumber": 0,
        "occurredAt": int(time.time() * 1000),
        "changeSource": "CRM",
        **extra,
    }


def _within(seconds: float, check: Callable[[], bool]) -> bool:
    """Whether ``check`` comes true within ``seconds`` (pushes run in the background)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_signed_delivery_is_pushed_and_a_bad_signature_refused(
    api, start_legacy, start_hubspot_emulator
):
    legacy, hub = start_legacy(), start_hubspot_emulator()
    body = {
        "name": "both",
        "settings": {
            "source": api.connection("legacy", legacy),
            "target": api.connection("hubspot", hub),
            "direction": "both",
        },
    }
    integration = api.ok("POST", "/v1/integrations", 201, json=body)
    for index in range(len(integration["install"])):
        api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    record = hub.app.store.create({"email": "hooked@example.com", "lastname": "Hooked"})
    event = _event(record.id, "contact.creation", changeFlag="NEW")

    forged = _deliver(api, "not-the-app-secret", [event])
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["code"] == "invalid_signature"

    accepted = _deliver(api, hub.table["client_secret"], [event])
    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1, "pushed": 1}

    def arrived() -> bool:
        return "hooked@example.com" in [r["emailAddress"] for r in legacy.app.store.all_records()]

    assert _within(10, arrived), "the pushed contact did not reach the legacy side"


def test_a_deletion_event_files_a_tombstone_and_deletes_the_legacy_contact(
    api, start_legacy, start_hubspot_emulator
):
    legacy, hub = start_legacy(), start_hubspot_emulator()
    settings = {
        "source": api.connection("legacy", legacy),
        "target": api.connection("hubspot", hub),
        "direction": "both",
        "options": {"deletes": "propagate"},
    }
    integration = api.ok("POST", "/v1/integrations", 201, json={"name": "hs", "settings": settings})
    for index in range(len(integration["install"])):
        api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    records = [
        hub.app.store.create({"email": f"kept{i}@example.com", "lastname": f"Kept{i}"})
        for i in range(30)
    ]
    job = api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)
    assert api.wait_job(job["_id"])["numCreated"] == 30
    victim = records[3]
    assert hub.app.store.archive(victim.id)

    accepted = _deliver(api, hub.table["client_secret"], [_event(victim.id, "contact.deletion")])

    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1, "pushed": 1}
    [stone] = api.store.tombstones.for_side(SideRef(integration["_id"], "target", None, "hubspot"))
    assert (stone.record_id, stone.seen_by) == (str(victim.id), "webhook")

    def emails() -> list[str]:
        return [r["emailAddress"] for r in legacy.app.store.all_records()]

    def counted() -> bool:
        jobs = api.ok("GET", "/v1/jobs", params={"type": "webhook", "status": "completed"})
        return any(j["numDeleted"] == 1 for j in jobs)

    assert _within(10, lambda: "kept3@example.com" not in emails()), "the delete did not travel"
    assert len(emails()) == 29
    assert _within(5, counted), "no webhook job counted the delete"
    # A run afterwards (the archived list names the contact too) carries nothing more.
    job = api.ok(
        "POST", f"/v1/integrations/{integration['_id']}/run", 202, json={"reconcile": True}
    )
    again = api.wait_job(job["_id"])
    assert (again["numDeleted"], again["numCreated"], again["status"]) == (0, 0, "completed")
    assert len(legacy.app.store.all_records()) == 29
