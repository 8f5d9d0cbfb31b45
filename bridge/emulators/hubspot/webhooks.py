"""Webhook deliveries of the emulated app: contact events, signed, batched, retried.

Shape [V]: ``POST targetUrl`` with a JSON array of at most 100 events; each event has
``objectId`` (number), ``subscriptionType``, ``eventId``, ``subscriptionId``,
``portalId``, ``appId``, ``occurredAt`` (epoch ms), ``attemptNumber``, ``changeSource``;
``propertyName``/``propertyValue`` on ``contact.propertyChange``; ``changeFlag: NEW`` on
creation and ``DELETED`` on deletion [I]; ``primaryObjectId``, ``mergedObjectIds``,
``newObjectId`` on ``contact.merge``. Signed with ``X-HubSpot-Signature-v3`` =
base64(HMAC-SHA256(client secret, method + uri + body + timestamp)) and
``X-HubSpot-Request-Timestamp`` in ms, plus the v1 header [V]. A non-2xx answer or no
answer is retried with ``attemptNumber`` + 1, up to ``retries`` times (HubSpot: 10 over
24 hours [V]; here a short, configurable delay). Subscriptions are per event type;
``contact.propertyChange`` names its property [V]. Only loopback targets are called.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import queue
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from bridge.emulators.hubspot.access import App
from bridge.emulators.hubspot.store import Record

log = logging.getLogger(__name__)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_EVENTS = 100


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: int) -> str:
    message = method.encode() + uri.encode() + body + str(timestamp).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class WebhookSender:
    """Queues events from the store and delivers them from one background thread."""

    def __init__(self, app: App, *, retries: int = 3, retry_delay: float = 0.5) -> None:
        self.app = app
        self.target_url: str | None = None
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.retries = retries
        self.retry_delay = retry_delay
        self.delivered: list[dict[str, Any]] = []
        self.refused = 0
        self._ids = itertools.count(1)
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def subscribe(self, body: dict[str, Any]) -> dict[str, Any]:
        event_type = str(body.get("eventType") or body.get("subscriptionType") or "")
        if not event_type.startswith("contact."):
            raise ValueError("eventType must be a contact event")
        if event_type == "contact.propertyChange" and not body.get("propertyName"):
            raise ValueError("contact.propertyChange needs propertyName")
        with self._lock:
            sub_id = next(self._ids)
            sub = {
                "id": str(sub_id),
                "eventType": event_type,
                "propertyName": body.get("propertyName"),
                "active": body.get("active", True),
                "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            }
            self.subscriptions[sub_id] = sub
        return sub

    def set_target(self, url: str) -> None:
        host = urlsplit(url).hostname
        if host not in LOOPBACK:
            raise ValueError("the emulator only delivers to loopback addresses")
        self.target_url = url

    # -- events ----------------------------------------------------------------------

    def on_change(self, event: str, record: Record, names: list[str]) -> None:
        """A store listener: queue one event per matching subscription."""
        if self.target_url is None:
            return
        with self._lock:
            subs = [
                s for s in self.subscriptions.values() if s["active"] and s["eventType"] == event
            ]
        for sub in subs:
            if event == "contact.propertyChange" and sub["propertyName"] not in names:
                continue
            payload: dict[str, Any] = {
                "objectId": record.id,
                "changeSource": "CRM",
                "eventId": next(self._ids),
                "subscriptionId": int(sub["id"]),
                "portalId": self.app.portal_id,
                "appId": self.app.app_id,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": event,
                "attemptNumber": 0,
            }
            if event == "contact.propertyChange":
                payload["propertyName"] = sub["propertyName"]
                payload["propertyValue"] = record.props.get(sub["propertyName"]) or ""
            elif event == "contact.creation":
                payload["changeFlag"] = "NEW"
            elif event == "contact.deletion":
                payload["changeFlag"] = "DELETED"
            elif event == "contact.merge":
                payload.update(
                    primaryObjectId=int(names[0]),
                    newObjectId=record.id,
                    mergedObjectIds=[int(n) for n in names[1:]],
                )
            self._events.put(payload)
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hubspot-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._events.get()  # blocks: no CPU while idle
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_EVENTS:
                try:
                    more = self._events.get(timeout=0.05)
                except queue.Empty:
                    break
                if more is None:
                    self._events.put(None)
                    break
                batch.append(more)
            self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        url = self.target_url
        if url is None:
            return
        for attempt in range(self.retries + 1):
            for event in batch:
                event["attemptNumber"] = attempt
            body = json.dumps(batch).encode()
            stamp = int(time.time() * 1000)
            request = urllib.request.Request(url, data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            request.add_header("X-HubSpot-Signature-Version", "v1")
            v1 = hashlib.sha256(self.app.client_secret.encode() + body).hexdigest()
            request.add_header("X-HubSpot-Signature", v1)
            request.add_header(
                "X-HubSpot-Signature-v3", sign_v3(self.app.client_secret, "POST", url, body, stamp)
            )
            request.add_header("X-HubSpot-Request-Timestamp", str(stamp))
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if 200 <= response.status < 300:
                        self.delivered.extend(batch)
                        return
            except OSError as exc:
                log.info("webhook delivery attempt %d failed: %s", attempt, exc)
            self.refused += 1
            time.sleep(self.retry_delay * (attempt + 1))

    def close(self) -> None:
        if self._thread is not None:
            self._events.put(None)
            self._thread.join(timeout=5)
