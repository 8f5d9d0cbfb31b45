"""The control plane's install step creates HubSpot's External ID property."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.emulators import hubspot
from bridge.emulators.server import EmulatorServer


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
