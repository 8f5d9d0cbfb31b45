"""HubSpot in the control plane: the External ID install step, signed webhooks pushed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from bridge.emulators import hubspot
from bridge.emulators.hubspot.webhooks import sign_v3
from bridge.emulators.kit.server import EmulatorServer


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
    for index in range(len(functions)):
        integration = api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{index}")
    assert integration["mode"] == "settings"
    prop = hub.app.store.properties["bridge_external_id"]
    assert prop.unique and not prop.hubspot_defined


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
    event = {
        "objectId": record.id,
        "subscriptionType": "contact.creation",
        "eventId": 1,
        "subscriptionId": 1,
        "portalId": 4242,
        "appId": 777,
        "attemptNumber": 0,
        "occurredAt": int(time.time() * 1000),
        "changeSource": "CRM",
        "changeFlag": "NEW",
    }

    forged = _deliver(api, "not-the-app-secret", [event])
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["code"] == "invalid_signature"

    accepted = _deliver(api, hub.table["client_secret"], [event])
    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1, "pushed": 1}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        emails = [r["emailAddress"] for r in legacy.app.store.all_records()]
        if "hooked@example.com" in emails:
            break
        time.sleep(0.05)
    assert "hooked@example.com" in emails, "the pushed contact did not reach the legacy side"
