"""``POST /webhooks/hubspot``: HubSpot's signed contact events, handed to the same push as Bigin's.

HubSpot signs each delivery with the app's client secret (signature v3, checked by
:func:`bridge.connectors.hubspot.verify_signature`: method, full URL, raw body and a
timestamp no older than 5 minutes). The secret names the connection: the delivery is
checked against each HubSpot connection's ``client_secret``; none matching is a 401 with
the error envelope. Webhooks are set per app, not per integration [V], so every integration
over that connection whose direction carries HubSpot's changes gets the created, changed
and merged contact ids pushed toward its other side, as a job of type ``webhook``.

A ``contact.deletion`` (or ``contact.privacyDeletion``) files a tombstone for the contact
on every integration over the connection, whatever the direction, as Bigin's ``delete``
notifications do (:func:`bridge.api.webhooks.file_deletes`); when the direction carries
HubSpot's changes the id is pushed too, and the push finds it gone (archived) and carries
the delete under the integration's policy and guard. An id whose last event in the
delivery is a restore or a change is alive: it is pushed, not filed. The archived list,
read by every run, is the backstop for deliveries that never arrive.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from bridge.api import metrics
from bridge.api.context import ApiContext
from bridge.api.runs import push_direction
from bridge.api.web import ApiError, json_response
from bridge.api.webhooks import file_deletes
from bridge.connectors.hubspot import WebhookEvent, parse_events, verify_signature
from bridge.errors import AuthError, ProtocolError
from bridge.store.repos.tokens import WebhookChannel

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20
PUSHED = ("contact.creation", "contact.propertyChange", "contact.merge", "contact.restore")


def _pushed_ids(events: list[WebhookEvent]) -> list[str]:
    """Ids to push: changed, merged, restored and deleted ones (events in time order)."""
    ids: dict[str, None] = {}
    for event in events:
        if event.kind in PUSHED or event.deleted:
            ids[event.new_id or event.object_id] = None
    return list(ids)


def _deleted_ids(events: list[WebhookEvent]) -> list[str]:
    """Ids whose last event in the delivery is a deletion."""
    last: dict[str, bool] = {}
    for event in events:
        if event.kind in PUSHED or event.deleted:
            last[event.object_id] = event.deleted
    return [record_id for record_id, deleted in last.items() if deleted]


def hubspot_notification(ctx: ApiContext, request: Request) -> Response:
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", "a delivery holds at most 100 small events")
    body = request.get_data(cache=False)
    connection = None
    for candidate in ctx.store.connections.all(limit=1000):
        if candidate.kind != "hubspot":
            continue
        secret = str(ctx.store.connections.config(candidate.id).settings.get("client_secret") or "")
        try:
            verify_signature(
                secret,
                method=request.method,
                uri=request.url,
                body=body,
                headers=dict(request.headers.items()),
            )
        except AuthError:
            continue
        connection = candidate
        break
    if connection is None:
        metrics.WEBHOOKS.labels("hubspot", "refused").inc()
        raise ApiError(401, "invalid_signature", "no HubSpot connection signed this delivery")
    try:
        events = parse_events(body)
    except ProtocolError as exc:
        metrics.WEBHOOKS.labels("hubspot", "refused").inc()
        raise ApiError(400, "invalid_json", exc.message) from None
    ids = _pushed_ids(events)
    deleted = _deleted_ids(events)
    now = datetime.now(UTC)
    pushed = 0
    for integration in ctx.wiring.references(connection.id) if ids else []:
        if deleted:
            file_deletes(ctx, integration, connection.name, "hubspot", deleted)
        direction = push_direction(ctx.wiring, integration, connection.name)
        if direction is None:
            continue
        # The push names its source as a channel; HubSpot's is the app subscription.
        channel = WebhookChannel(
            f"hubspot:{connection.name}",
            connection.name,
            integration.id,
            tuple(sorted({e.kind for e in events})),
            request.url,
            now,
            now,
            now,
        )
        ctx.runner.push(integration, channel, direction, ids)
        pushed += 1
    metrics.WEBHOOKS.labels("hubspot", "accepted" if pushed else "ignored").inc()
    log.info(
        "hubspot delivery of %d event(s) on %s: %d id(s) pushed to %d integration(s)",
        len(events),
        connection.name,
        len(ids),
        pushed,
    )
    return json_response({"accepted": len(events), "pushed": pushed})
