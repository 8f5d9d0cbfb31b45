"""Integrations and connections over HTTP: CRUD, paging, clone, locks, secrets, the config."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bridge.config import parse_config

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _plain_connection(api, name="crm", kind="legacy", **settings):
    body = {
        "name": name,
        "type": kind,
        "settings": {"endpoint": "http://127.0.0.1:9/x", "username": "u", "password": "p", **settings},
    }
    return api.ok("POST", "/v1/connections", 201, json=body)


def test_integration_crud_in_integrator_io_shape(api):
    source = _plain_connection(api, "legacy-a")["_id"]
    target = _plain_connection(api, "legacy-b")["_id"]
    settings = {"source": source, "target": target, "direction": "both", "schedule": "*/5 * * * *"}
    created = api.ok(
        "POST", "/v1/integrations", 201, json={"name": "Members", "readme": "why", "settings": settings}
    )
    assert HEX24.match(created["_id"]) and ISO_MS.match(created["lastModified"])
    assert created["mode"] == "install" and created["updateInProgress"] is False
    assert created["version"] == "1.0.0" and created["settings"] == settings
    assert [s["installerFunction"] for s in created["install"]] == ["verifyConnection"] * 2
    assert [s["_connectionId"] for s in created["install"]] == [source, target]
    assert not any(s["completed"] for s in created["install"])

    one = api.ok("GET", f"/v1/integrations/{created['_id']}")
    assert one == created
    changed = api.ok(
        "PUT", f"/v1/integrations/{created['_id']}", json={"readme": "new", "version": "1.1.0"}
    )
    assert (changed["readme"], changed["version"], changed["name"]) == ("new", "1.1.0", "Members")
    assert changed["lastModified"] >= created["lastModified"]
    duplicate = api.call("POST", "/v1/integrations", json={"name": "Members"})
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "name"

    bad = api.call(
        "PUT", f"/v1/integrations/{created['_id']}", json={"settings": {"source": "f" * 24}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0] == {
        "code": "invalid_ref",
        "message": f"no connection with _id '{'f' * 24}'",
        "field": "settings.source",
    }
    for wrong, field in (
        ({"direction": "sideways"}, "settings.direction"),
        ({"schedule": "every tuesday"}, "settings.schedule"),
        ({"mapping": {"exclude": ["email"]}}, "settings.mapping"),
        ({"colour": "red"}, "settings.colour"),
    ):
        answer = api.call("PUT", f"/v1/integrations/{created['_id']}", json={"settings": wrong})
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field

    in_use = api.call("DELETE", f"/v1/connections/{source}")
    assert in_use.status_code == 409 and in_use.json()["errors"][0]["code"] == "in_use"
    assert api.call("DELETE", f"/v1/integrations/{created['_id']}").status_code == 204
    assert api.call("GET", f"/v1/integrations/{created['_id']}").status_code == 404
    assert api.call("DELETE", f"/v1/connections/{source}").status_code == 204


def test_lists_page_with_skip_limit_and_link_headers(api):
    names = [f"i{n}" for n in range(5)]
    for name in names:
        api.ok("POST", "/v1/integrations", 201, json={"name": name})
    first = api.call("GET", "/v1/integrations", params={"limit": 2})
    assert [i["name"] for i in first.json()] == names[:2]
    assert first.headers["X-Total-Count"] == "5"
    assert first.links["next"]["url"].endswith("/v1/integrations?skip=2&limit=2")
    assert "prev" not in first.links
    seen, url = [], api.url + "/v1/integrations?limit=2"
    while url:
        page = api.http.get(url, headers={"Authorization": f"Bearer {api.token}"}, timeout=10)
        seen += [i["name"] for i in page.json()]
        url = page.links.get("next", {}).get("url")
    assert seen == names
    last = api.call("GET", "/v1/integrations", params={"skip": 4, "limit": 2})
    assert "next" not in last.links
    assert parse_qs(urlsplit(last.links["prev"]["url"]).query) == {"skip": ["2"], "limit": ["2"]}
    too_big = api.call("GET", "/v1/integrations", params={"limit": 5000})
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "limit"


def test_clone_swaps_connections_through_the_connection_map(api):
    a, b = _plain_connection(api, "a")["_id"], _plain_connection(api, "b")["_id"]
    c = _plain_connection(api, "c")["_id"]
    original = api.ok(
        "POST",
        "/v1/integrations",
        201,
        json={
            "name": "Customer 1",
            "readme": "per customer",
            "settings": {"source": a, "target": b, "schedule": "0 * * * *", "mapping": {"exclude": ["title"]}},
        },
    )
    path = f"/v1/integrations/{original['_id']}/clone"
    unmapped = api.call("POST", path, json={"name": "Customer 2", "connectionMap": {a: c}})
    assert unmapped.status_code == 400
    assert unmapped.json()["errors"][0]["code"] == "invalid_connectionMap"
    dangling = api.call("POST", path, json={"name": "Customer 2", "connectionMap": {a: c, b: "0" * 24}})
    assert dangling.status_code == 422 and dangling.json()["errors"][0]["code"] == "invalid_ref"

    clone = api.ok("POST", path, 201, json={"name": "Customer 2", "connectionMap": {a: c, b: b}})
    assert clone["_id"] != original["_id"] and clone["name"] == "Customer 2"
    assert clone["settings"]["source"] == c and clone["settings"]["target"] == b
    assert clone["settings"]["mapping"] == {"exclude": ["title"]}
    assert clone["settings"]["schedule"] is None  # integrator.io does not copy schedules
    assert clone["readme"] == "per customer" and clone["mode"] == "install"
    assert [s["_connectionId"] for s in clone["install"]] == [c, b]
    # The original is untouched.
    assert api.ok("GET", f"/v1/integrations/{original['_id']}")["settings"]["source"] == a


def test_settings_are_locked_while_update_in_progress(api):
    created = api.ok(
        "POST", "/v1/integrations", 201, json={"name": "Locked", "updateInProgress": True}
    )
    path = f"/v1/integrations/{created['_id']}"
    refused = api.call("PUT", path, json={"settings": {"direction": "both"}})
    assert refused.status_code == 409
    assert refused.json()["errors"][0] == {
        "code": "update_in_progress",
        "message": "settings cannot change while updateInProgress is true",
        "field": "settings",
    }
    # Other fields, and the same settings, still go through; then the publisher clears it.
    assert api.ok("PUT", path, json={"readme": "notes", "settings": {}})["readme"] == "notes"
    cleared = api.ok("PUT", path, json={"updateInProgress": False, "version": "2.0.0"})
    assert cleared["updateInProgress"] is False
    moved = api.ok("PUT", path, json={"settings": {"direction": "both"}})
    assert moved["settings"] == {"direction": "both"}


def test_connection_secrets_are_write_only_and_stored_encrypted(api):
    created = _plain_connection(api, "secretive", password="hunter2-very-secret")
    assert created["type"] == "legacy" and created["secretKeys"] == ["password"]
    assert "password" not in created["settings"] and created["settings"]["username"] == "u"
    path = f"/v1/connections/{created['_id']}"
    for answer in (api.call("GET", path), api.call("GET", "/v1/connections")):
        assert "hunter2" not in answer.text
    with api.store.engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT settings, secrets_encrypted FROM connections").one()
    assert "hunter2" not in str(row[0]) and "hunter2" not in row[1]
    assert api.store.connections.config(created["_id"]).settings["password"] == "hunter2-very-secret"
    updated = api.ok("PUT", path, json={"settings": {"password": "rotated", "site_id": 7}})
    assert updated["settings"]["site_id"] == 7 and updated["secretKeys"] == ["password"]
    assert api.store.connections.config(created["_id"]).settings["password"] == "rotated"
    removed = api.ok("PUT", path, json={"settings": {"password": None}})
    assert removed["secretKeys"] == []
    assert api.call("PUT", path, json={"type": "bigin"}).status_code == 422
    nested = api.call("POST", "/v1/connections", json={"name": "n", "type": "legacy", "settings": {"a": {"b": 1}}})
    assert nested.status_code == 422


def test_secrets_need_the_encryption_key(start_api):
    running = start_api(secret_key=None)
    refused = running.call(
        "POST", "/v1/connections", json={"name": "x", "type": "egito", "settings": {"password": "p"}}
    )
    assert refused.status_code == 503
    assert refused.json()["errors"][0]["code"] == "encryption_unavailable"


def test_config_connections_and_integrations_appear_read_only(start_api):
    config = parse_config(
        {
            "connections": {
                "crm": {"kind": "legacy", "endpoint": "http://127.0.0.1:9/a", "username": "u",
                        "password": "file-secret", "site_id": 1},
                "bigin": {"kind": "bigin", "api_domain": "http://127.0.0.1:9", "accounts_url": "http://127.0.0.1:9",
                          "client_id": "c", "client_secret": "s", "refresh_token": "r"},
            },
            "integrations": [{"name": "members", "source": "crm", "target": "bigin", "direction": "both",
                              "schedule": "*/10 * * * *", "conflict_policy": "source"}],
        },
        env={},
    )
    running = start_api(config)
    connections = {c["name"]: c for c in running.ok("GET", "/v1/connections")}
    assert set(connections) == {"crm", "bigin"}
    assert connections["crm"]["managedBy"] == "config" and connections["crm"]["secretKeys"] == []
    assert "file-secret" not in running.call("GET", "/v1/connections").text
    [integration] = running.ok("GET", "/v1/integrations")
    assert integration["name"] == "members" and integration["managedBy"] == "config"
    assert integration["mode"] == "settings"
    assert integration["settings"] == {
        "source": connections["crm"]["_id"],
        "target": connections["bigin"]["_id"],
        "direction": "both",
        "schedule": "*/10 * * * *",
        "mapping": {},
        "options": {"conflict_policy": "source"},
    }
    for method, path in (
        ("PUT", f"/v1/integrations/{integration['_id']}"),
        ("DELETE", f"/v1/integrations/{integration['_id']}"),
        ("PUT", f"/v1/connections/{connections['crm']['_id']}"),
    ):
        refused = running.call(method, path, json={"readme": "x"})
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "managed_by_config"
    # The file's secrets reach the connector without ever being stored.
    assert running.plane.ctx.wiring.connection_config(connections["crm"]["_id"]).settings[
        "password"
    ] == "file-secret"
    # Importing again (another worker starting) changes nothing.
    running.plane.ctx.wiring.import_config()
    assert len(running.ok("GET", "/v1/integrations")) == 1
