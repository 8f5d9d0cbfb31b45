"""HubSpot webhook requests: v3 signatures checked, deliveries from the emulator accepted."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from bridge.connectors.hubspot import parse_events, verify_signature
from bridge.errors import AuthError, ProtocolError

from ..test_battery import person

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
# HubSpot's documented example delivery; its v3 signature computed by the published algorithm.
BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)
URI = "https://www.example.com/webhook_uri"
STAMP = "1564113600000"
SIGNATURE = "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw="


def headers(signature: str = SIGNATURE, stamp: str = STAMP) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def test_the_reference_vector_verifies():
    verify_signature(SECRET, method="POST", uri=URI, body=BODY, headers=headers(),
                     now_ms=int(STAMP) + 1000)  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY.replace(b"123", b"124")},
        {"secret": "another-secret"},
        {"uri": URI + "?x=1"},
        {"headers": headers(signature="A" + SIGNATURE[1:])},
        {"headers": {"X-HubSpot-Request-Timestamp": STAMP}},
    ],
    ids=["body", "secret", "uri", "signature", "missing"],
)
def test_a_bad_signature_is_refused(change: dict[str, Any]):
    call: dict[str, Any] = {"secret": SECRET, "body": BODY, "uri": URI, "headers": headers()}
    call.update(change)
    with pytest.raises(AuthError) as caught:
        verify_signature(call["secret"], method="POST", uri=call["uri"], body=call["body"],
                         headers=call["headers"], now_ms=int(STAMP) + 1000)  # fmt: skip
    assert SIGNATURE not in str(caught.value)


def test_a_stale_timestamp_is_refused_even_when_signed():
    with pytest.raises(AuthError, match="older than 5 minutes"):
        verify_signature(SECRET, method="POST", uri=URI, body=BODY, headers=headers(),
                         now_ms=int(STAMP) + 301_000)  # fmt: skip


def test_events_parse_in_the_order_they_happened():
    body = json.dumps([
        {"objectId": 2, "subscriptionType": "contact.deletion", "occurredAt": 20},
        {"objectId": 1, "subscriptionType": "contact.creation", "occurredAt": 10},
        {"objectId": 9, "subscriptionType": "contact.merge", "occurredAt": 30,
         "mergedObjectIds": [1, 2], "newObjectId": 9, "primaryObjectId": 1},
    ]).encode()  # fmt: skip
    events = parse_events(body)
    assert [e.object_id for e in events] == ["1", "2", "9"]
    assert events[1].deleted and not events[0].deleted
    assert events[2].merged_ids == ("1", "2") and events[2].new_id == "9"
    with pytest.raises(ProtocolError):
        parse_events(b'{"objectId": 1}')


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that verifies like the control plane would, and answers 401 if not."""

    secret = "hubspot-client-secret"
    accepted: list[Any] = []
    refused = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        uri = f"http://{self.headers['Host']}{self.path}"
        try:
            verify_signature(type(self).secret, method="POST", uri=uri, body=body,
                             headers=dict(self.headers.items()))  # fmt: skip
        except AuthError:
            type(self).refused += 1
            self.send_response(401)
            self.end_headers()
            return
        type(self).accepted.extend(parse_events(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _wait_for(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_emulator_deliveries_verify_and_a_wrong_secret_is_refused(start_hubspot):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = start_hubspot(0)
        app = started.emulator
        app.webhooks.retry_delay = 0.05
        key = {"hapikey": app.developer_key}
        hook = f"{started.url}/webhooks/v3/{app.app.app_id}"
        target = f"http://127.0.0.1:{server.server_port}/webhooks/hubspot"
        assert requests.put(
            f"{hook}/settings", params=key, json={"targetUrl": target}, timeout=5
        ).ok
        for event in ("contact.creation", "contact.deletion"):
            created = requests.post(f"{hook}/subscriptions", params=key, timeout=5,
                                    json={"eventType": event, "active": True})  # fmt: skip
            assert created.status_code == 201
        changes = requests.post(f"{hook}/subscriptions", params=key, timeout=5,
                                json={"eventType": "contact.propertyChange",
                                      "propertyName": "firstname"})  # fmt: skip
        assert changes.status_code == 201

        outcome = started.connector.upsert([person(1, "hook")])[0]
        started.connector.upsert([person(1, "hook").copy(first_name="Renamed")])
        assert started.connector.delete(str(outcome.id))
        assert _wait_for(lambda: len(Receiver.accepted) >= 3)
        kinds = [e.kind for e in Receiver.accepted]
        assert kinds == ["contact.creation", "contact.propertyChange", "contact.deletion"]
        assert {e.object_id for e in Receiver.accepted} == {outcome.id}

        Receiver.secret = "not-the-app-secret"
        started.connector.upsert([person(2, "hook")])
        assert _wait_for(lambda: Receiver.refused >= 2), "refused deliveries are retried"
        assert len(Receiver.accepted) == 3
    finally:
        server.shutdown()
