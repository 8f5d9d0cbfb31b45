"""``/metrics``: REST calls, sync records, webhooks and SOAP requests move as traffic flows."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from bridge.config import parse_config
from bridge.emulators.kit.server import EmulatorServer
from bridge.server import build_app
from bridge.store import Store


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_rest_calls_sync_records_and_webhooks_are_counted(api, start_legacy, start_bigin):
    legacy, bigin = start_legacy(records=12), start_bigin()
    before = scrape(api.url)
    source, target = api.connection("legacy", legacy), api.connection("bigin", bigin)
    integration = api.ok(
        "POST", "/v1/integrations", 201, json={"name": "m", "settings": {"source": source, "target": target, "direction": "both"}}
    )
    for step in range(len(integration["install"])):
        api.ok("POST", f"/v1/integrations/{integration['_id']}/install/{step}")
    job = api.wait_job(api.ok("POST", f"/v1/integrations/{integration['_id']}/run", 202)["_id"])
    assert job["numSuccess"] == 12
    api.plane.ctx.runner.shutdown(wait=True)  # let the echo pushes of Bigin's notifications end
    after = scrape(api.url)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("soapbridge_sync_records_total", type="flow", outcome="created") == 12
    assert moved("soapbridge_sync_jobs_total", type="flow", status="completed") == 1
    assert moved("soapbridge_sync_job_seconds_count", type="flow") == 1
    assert moved("soapbridge_rest_calls_total", system="bigin", status="200") >= 1
    assert moved("soapbridge_rest_calls_total", system="legacy", status="200") >= 1
    assert moved("soapbridge_rest_call_seconds_count", system="bigin") >= 1
    # Bigin notified the run's own writes; a two-way integration pushes them back (unchanged).
    assert moved("soapbridge_webhook_notifications_total", source="bigin", outcome="accepted") >= 1
    assert moved("soapbridge_sync_records_total", type="webhook", outcome="unchanged") >= 1
    requests.post(f"{api.url}/webhooks/bigin", json={"channel_id": "1", "token": "x"}, timeout=10)
    refused = scrape(api.url)
    assert value(refused, "soapbridge_webhook_notifications_total", source="bigin", outcome="refused") == (
        value(after, "soapbridge_webhook_notifications_total", source="bigin", outcome="refused") + 1
    )


def test_soap_requests_are_counted_by_operation_and_outcome(tmp_path, start_legacy, store_secret_key):
    legacy = start_legacy(records=3)
    table = {k: v for k, v in legacy.table.items() if k != "kind"}
    config = parse_config(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'serve.db'}"},
            "connections": {"crm": {"kind": "legacy", **table}},
            "sites": [{"site_id": 9, "connection": "crm", "username": "site", "password": "pw"}],
        },
        env={},
    )
    store = Store(config.store.url, secret_key=store_secret_key)
    store.migrate()
    app = build_app(config, store)
    server = EmulatorServer(app).start()
    try:
        endpoint = f"{server.url}/CatalystWebService/CatalystCRMWebservice.asmx"
        before = scrape(server.url)
        assert requests.get(f"{endpoint}?WSDL", timeout=10).status_code == 200
        broken = requests.post(
            endpoint,
            data=b"<not-soap/>",
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"http://tempuri.org/ContactList_Retrieve"',
            },
            timeout=10,
        )
        assert broken.status_code == 500
        after = scrape(server.url)

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved("soapbridge_soap_requests_total", operation="wsdl", outcome="ok") == 1
        assert moved("soapbridge_soap_requests_total", operation="ContactList_Retrieve", outcome="fault") == 1
        assert moved("soapbridge_soap_request_seconds_count", operation="ContactList_Retrieve") == 1
        # The control plane answers beside the facade on the same app.
        assert requests.get(f"{server.url}/healthz", timeout=10).json() == {"status": "ok"}
        assert requests.get(f"{server.url}/v1/integrations", timeout=10).status_code == 401
    finally:
        server.stop()
        store.dispose()
