"""HubSpot webhook requests: the v3 signature checked, the event array read.

Signature v3 [V]: ``X-HubSpot-Signature-v3`` is base64(HMAC-SHA256(key = the app's client
secret, message = method + uri + raw body + ``X-HubSpot-Request-Timestamp``)), where
``uri`` is the full URL HubSpot called with a few percent-escapes decoded; a timestamp
older than 5 minutes is refused; the comparison is constant-time. The control plane's
webhook route asks :class:`EventReceiver` whether a HubSpot connection signed the
delivery (:func:`verify_signature` with that connection's ``client_secret``), then reads
it (:func:`parse_events`) into the ids to push and the ids deleted.

Webhooks are set per app, not per integration [V], so a delivery goes to every
integration over the signing connection. Created, changed, merged, restored and deleted
contacts are pushed; a ``contact.deletion`` (or ``contact.privacyDeletion``) is filed as
deleted unless a later event of the delivery (a restore, a change) shows the contact alive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.connectors.kit.webhooks import Delivery, SignedRequest, WebhookReceiver
from bridge.errors import AuthError, ProtocolError

SYSTEM = "hubspot"
MAX_AGE_MS = 300_000
PUSHED = ("contact.creation", "contact.propertyChange", "contact.merge", "contact.restore")
# The escapes HubSpot decodes in the uri before signing [V] (both SDKs list these).
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def _decode_uri(uri: str) -> str:
    for escaped, plain in _DECODED.items():
        uri = uri.replace(escaped, plain).replace(escaped.lower(), plain)
    return uri


def expected_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + _decode_uri(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_signature(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now_ms: int | None = None,
) -> None:
    """Return when the request is HubSpot's; raise :class:`AuthError` (say 401) when not.

    ``headers`` is looked up case-insensitively; the error never repeats the signature.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = lowered.get("x-hubspot-signature-v3")
    timestamp = lowered.get("x-hubspot-request-timestamp")
    if not signature or not timestamp or not timestamp.isdigit():
        raise AuthError("webhook without a v3 signature and timestamp", system=SYSTEM)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if now - int(timestamp) > MAX_AGE_MS:
        raise AuthError("webhook timestamp older than 5 minutes", system=SYSTEM)
    expected = expected_signature(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise AuthError("webhook signature does not match", system=SYSTEM)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One contact event: what happened to which contact id, when (epoch ms)."""

    kind: str
    object_id: str
    occurred_at: int
    property_name: str | None = None
    property_value: str | None = None
    merged_ids: tuple[str, ...] = field(default=())
    new_id: str | None = None

    @property
    def deleted(self) -> bool:
        return self.kind in ("contact.deletion", "contact.privacyDeletion")


def parse_events(body: bytes) -> list[WebhookEvent]:
    """The events of a delivery (a JSON array [V]); :class:`ProtocolError` when malformed."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"webhook body is not JSON: {exc}", system=SYSTEM) from None
    if not isinstance(raw, list):
        raise ProtocolError("webhook body is not a JSON array", system=SYSTEM)
    events = []
    for item in raw:
        if not isinstance(item, dict) or "objectId" not in item:
            raise ProtocolError("webhook event without objectId", system=SYSTEM)
        kind = str(item.get("subscriptionType") or item.get("eventType") or "")
        merged: Any = item.get("mergedObjectIds") or ()
        events.append(
            WebhookEvent(
                kind=kind,
                object_id=str(item["objectId"]),
                occurred_at=int(item.get("occurredAt") or 0),
                property_name=item.get("propertyName"),
                property_value=item.get("propertyValue"),
                merged_ids=tuple(str(m) for m in merged),
                new_id=str(item["newObjectId"]) if item.get("newObjectId") else None,
            )
        )
    # No ordering promise [V]: the order they happened in.
    return sorted(events, key=lambda e: e.occurred_at)


def pushed_ids(events: list[WebhookEvent]) -> list[str]:
    """Ids to push: changed, merged, restored and deleted ones (events in time order)."""
    ids: dict[str, None] = {}
    for event in events:
        if event.kind in PUSHED or event.deleted:
            ids[event.new_id or event.object_id] = None
    return list(ids)


def deleted_ids(events: list[WebhookEvent]) -> list[str]:
    """Ids whose last event in the delivery is a deletion."""
    last: dict[str, bool] = {}
    for event in events:
        if event.kind in PUSHED or event.deleted:
            last[event.object_id] = event.deleted
    return [record_id for record_id, deleted in last.items() if deleted]


class EventReceiver(WebhookReceiver):
    """HubSpot's contact events, signed with the app's client secret (signature v3)."""

    too_large = "a delivery holds at most 100 small events"
    refused = ("invalid_signature", "no HubSpot connection signed this delivery")

    def signed_by(self, settings: Mapping[str, Any], request: SignedRequest) -> bool:
        secret = str(settings.get("client_secret") or "")
        try:
            verify_signature(
                secret,
                method=request.method,
                uri=request.uri,
                body=request.body,
                headers=request.headers,
            )
        except AuthError:
            return False
        return True

    def read(self, body: bytes) -> Delivery:
        events = parse_events(body)
        return Delivery(
            accepted=len(events),
            pushed=pushed_ids(events),
            deleted=deleted_ids(events),
            events=tuple(sorted({e.kind for e in events})),
        )
