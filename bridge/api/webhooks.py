"""``POST /webhooks/bigin``: Bigin's watch notifications, verified and handed to a push.

The channel's token is compared with the stored hash in constant time, and an unknown
channel costs the same as a known one (:meth:`WebhookChannelRepo.verify`); a refused
notification gets 401 with the error envelope. An accepted one is answered at once: the
notified ids are synced toward the integration's other side by the job runner's push
thread, as a job of type ``webhook``. Notifications the integration's direction does not
carry (Bigin changes on a legacy -> Bigin integration, mostly echoes of the bridge's own
writes) are acknowledged, counted as ``ignored`` and not pushed.

A ``delete`` notification files a tombstone for each id (:mod:`bridge.sync.deletes`),
whatever the direction, so the facade can tell legacy consumers; when the integration
carries Bigin's changes, the ids are pushed too, and the push finds them gone and carries
the deletes under the integration's policy and guard.
"""

from __future__ import annotations

import logging

from werkzeug.wrappers import Request, Response

from bridge.api import metrics
from bridge.api.context import ApiContext
from bridge.api.runs import push_direction
from bridge.api.web import ApiError, json_response, parse_json
from bridge.store import Integration
from bridge.store.repos.tombstones import SideRef

log = logging.getLogger(__name__)
PUSHED_OPERATIONS = ("insert", "update", "delete")
MAX_BODY = 1 << 20


def bigin_notification(ctx: ApiContext, request: Request) -> Response:
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", "notification bodies are small")
    try:
        body = parse_json(request.get_data(cache=False) or b"null")
    except ApiError:
        body = None
    if not isinstance(body, dict):
        metrics.WEBHOOKS.labels("bigin", "refused").inc()
        raise ApiError(400, "invalid_json", "a notification is a JSON object")
    channel = ctx.store.webhook_channels.verify(
        str(body.get("channel_id") or ""), str(body.get("token") or "")
    )
    if channel is None:
        metrics.WEBHOOKS.labels("bigin", "refused").inc()
        raise ApiError(401, "invalid_token", "unknown channel, wrong token or expired channel")
    ids = [str(i) for i in body.get("ids") or () if isinstance(i, (str, int))]
    operation = str(body.get("operation") or "")
    integration = (
        ctx.store.integrations.get(channel.integration_id) if channel.integration_id else None
    )
    direction = push_direction(ctx.wiring, integration, channel.connection) if integration else None
    if operation == "delete" and integration is not None and ids:
        file_deletes(ctx, integration, channel.connection, "bigin", ids)
    pushed = bool(ids) and operation in PUSHED_OPERATIONS and direction is not None
    metrics.WEBHOOKS.labels("bigin", "accepted" if pushed else "ignored").inc()
    if pushed:
        assert integration is not None and direction is not None
        ctx.runner.push(integration, channel, direction, ids)
    log.info(
        "bigin notification %s of %d id(s) on channel %s", operation, len(ids), channel.channel_id
    )
    return json_response({"accepted": len(ids), "pushed": pushed})


def file_deletes(
    ctx: ApiContext, integration: Integration, connection: str, system: str, ids: list[str]
) -> None:
    """A tombstone per notified id, on the integration's side that is this connection
    (``system`` its kind); HubSpot's deletion events file theirs here too."""
    for end in ("source", "target"):
        ident = integration.settings.get(end)
        if ident and ctx.wiring.connection(str(ident)).name == connection:
            ref = SideRef(integration.id, end, connection, system)
            for record_id in ids:
                ctx.store.tombstones.record(ref, record_id, seen_by="webhook")
