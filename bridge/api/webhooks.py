"""``POST /webhooks/<kind>``: a system's webhook deliveries, checked, filed and pushed.

One route per kind whose connector declares ``Capability.WEBHOOKS``
(:func:`webhook_kinds`); the connector's receiver
(:class:`~bridge.connectors.kit.webhooks.WebhookReceiver`) checks a delivery and reads it,
and nothing here knows a vendor. A delivery is trusted one of two ways:

- **by channel** (Bigin's watch notifications): it names a channel and its token, compared
  with the stored hash in constant time, an unknown channel costing the same as a known one
  (:meth:`WebhookChannelRepo.verify`). The channel names the integration.
- **signed** (HubSpot's contact events, signature v3): the receiver checks the signature
  with each connection of its kind; that connection's integrations all get the delivery
  (webhooks are set per app, not per integration), each through a channel named after
  the subscription.

A body that is not a delivery gets 400, a delivery nobody sent 401, both with the error
envelope. An accepted one is answered at once: its ids are synced toward each
integration's other side by the job runner's push thread, as a job of type ``webhook``.
Ids the integration's direction does not carry (changes on the target of a one-way
integration, mostly echoes of the bridge's own writes) are acknowledged, counted as
``ignored`` and not pushed. Deleted ids get a tombstone each (:mod:`bridge.sync.deletes`)
whatever the direction, so the facade can tell legacy consumers; when the integration
carries the system's changes they are pushed too, and the push finds them gone and carries
the deletes under the integration's policy and guard.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from bridge.api import metrics
from bridge.api.context import ApiContext
from bridge.api.runs import push_direction
from bridge.api.web import ApiError, json_response
from bridge.connectors.base import Capability
from bridge.connectors.kit.webhooks import Delivery, SignedRequest, WebhookReceiver
from bridge.connectors.registry import capabilities_of, connector_class, connector_kinds
from bridge.errors import ProtocolError
from bridge.store import Integration
from bridge.store.repos.tokens import WebhookChannel
from bridge.store.repos.tombstones import SideRef

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20


def webhook_kinds() -> list[str]:
    """The kinds whose connectors receive webhooks: one route each."""
    return [kind for kind in connector_kinds() if Capability.WEBHOOKS in capabilities_of(kind)]


def notification(ctx: ApiContext, request: Request, *, kind: str) -> Response:
    """One delivery to ``/webhooks/<kind>``."""
    found = connector_class(kind)
    receiver = found.webhooks if found is not None else None
    if receiver is None:
        raise ApiError(404, "not_found", "no such webhook")
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", receiver.too_large)
    body = request.get_data(cache=False)
    if receiver.by_channel:
        return _by_channel(ctx, kind, receiver, _read(receiver, kind, body))
    return _signed(ctx, kind, receiver, request, body)


def _read(receiver: WebhookReceiver, kind: str, body: bytes) -> Delivery:
    try:
        return receiver.read(body)
    except ProtocolError as exc:
        metrics.WEBHOOKS.labels(kind, "refused").inc()
        raise ApiError(400, "invalid_json", exc.message) from None


def _refused(receiver: WebhookReceiver, kind: str) -> ApiError:
    metrics.WEBHOOKS.labels(kind, "refused").inc()
    return ApiError(401, *receiver.refused)


def _by_channel(
    ctx: ApiContext, kind: str, receiver: WebhookReceiver, delivery: Delivery
) -> Response:
    channel = ctx.store.webhook_channels.verify(delivery.channel_id, delivery.token)
    if channel is None:
        raise _refused(receiver, kind)
    integration = (
        ctx.store.integrations.get(channel.integration_id) if channel.integration_id else None
    )
    direction = push_direction(ctx.wiring, integration, channel.connection) if integration else None
    if delivery.deleted and integration is not None:
        file_deletes(ctx, integration, channel.connection, kind, delivery.deleted)
    pushed = bool(delivery.pushed) and direction is not None
    metrics.WEBHOOKS.labels(kind, "accepted" if pushed else "ignored").inc()
    if pushed:
        assert integration is not None and direction is not None
        ctx.runner.push(integration, channel, direction, delivery.pushed)
    log.info(
        "%s notification %s of %d id(s) on channel %s",
        kind,
        ",".join(delivery.events),
        delivery.accepted,
        channel.channel_id,
    )
    return json_response(receiver.answer(delivery, int(pushed)))


def _signed(
    ctx: ApiContext, kind: str, receiver: WebhookReceiver, request: Request, body: bytes
) -> Response:
    signed = SignedRequest(request.method, request.url, body, dict(request.headers.items()))
    connection = None
    for candidate in ctx.store.connections.all(limit=1000):
        if candidate.kind != kind:
            continue
        settings = ctx.store.connections.config(candidate.id).settings
        if receiver.signed_by(settings, signed):
            connection = candidate
            break
    if connection is None:
        raise _refused(receiver, kind)
    delivery = _read(receiver, kind, body)
    now = datetime.now(UTC)
    pushes = 0
    for integration in ctx.wiring.references(connection.id) if delivery.pushed else []:
        if delivery.deleted:
            file_deletes(ctx, integration, connection.name, kind, delivery.deleted)
        direction = push_direction(ctx.wiring, integration, connection.name)
        if direction is None:
            continue
        # The push names its source as a channel; here it is the app's subscription.
        channel = WebhookChannel(
            f"{kind}:{connection.name}", connection.name, integration.id, delivery.events,
            request.url, now, now, now,
        )  # fmt: skip
        ctx.runner.push(integration, channel, direction, delivery.pushed)
        pushes += 1
    metrics.WEBHOOKS.labels(kind, "accepted" if pushes else "ignored").inc()
    log.info(
        "%s delivery of %d event(s) on %s: %d id(s) pushed to %d integration(s)",
        kind,
        delivery.accepted,
        connection.name,
        len(delivery.pushed),
        pushes,
    )
    return json_response(receiver.answer(delivery, pushes))


def file_deletes(
    ctx: ApiContext, integration: Integration, connection: str, system: str, ids: list[str]
) -> None:
    """A tombstone per notified id, on the integration's side that is this connection
    (``system`` its kind)."""
    for end in ("source", "target"):
        ident = integration.settings.get(end)
        if ident and ctx.wiring.connection(str(ident)).name == connection:
            ref = SideRef(integration.id, end, connection, system)
            for record_id in ids:
                ctx.store.tombstones.record(ref, record_id, seen_by="webhook")
