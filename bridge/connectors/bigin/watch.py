"""Bigin watch channels (notifications): create, list, renew before expiry, delete.

A channel lives at most one day; asking for more (or nothing) gets one hour [V: S3], so
the requested expiry is kept a few minutes under a day. Channels stop silently at expiry
[V], hence :meth:`WatchManager.renew_due`, which a scheduler calls well before then.
Incoming notifications carry the channel's ``token``; :func:`verify_notification`
compares it in constant time. :class:`NotificationReceiver` reads a notification for the
control plane's webhook route (which checks the channel and token against the channels it
keeps): ``insert``, ``update`` and ``delete`` ids are pushed, ``delete`` ids filed too.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.connectors.bigin.client import BiginClient
from bridge.connectors.bigin.mapping import format_time, parse_time
from bridge.connectors.kit.watch import DEFAULT_EVENTS, WatchChannel
from bridge.connectors.kit.webhooks import Delivery, WebhookReceiver
from bridge.errors import ProtocolError, RemoteError
from bridge.model import utc_now

MAX_LIFETIME = timedelta(days=1) - timedelta(minutes=5)
PUSHED_OPERATIONS = ("insert", "update", "delete")


@dataclass(frozen=True, slots=True)
class Notification:
    channel_id: str
    operation: str
    module: str
    ids: tuple[str, ...]


def verify_notification(body: dict[str, Any], expected_token: str | None) -> Notification:
    """The notification in ``body``; ``ProtocolError`` when its token does not match."""
    token = body.get("token") or ""
    if expected_token is not None and not hmac.compare_digest(str(token), expected_token):
        raise ProtocolError("notification token does not match the channel's", system="bigin")
    return Notification(
        channel_id=str(body.get("channel_id") or ""),
        operation=str(body.get("operation") or ""),
        module=str(body.get("module") or ""),
        ids=tuple(str(i) for i in body.get("ids") or ()),
    )


class NotificationReceiver(WebhookReceiver):
    """Bigin's watch notifications: a JSON object naming its channel and that channel's token."""

    by_channel = True
    too_large = "notification bodies are small"
    refused = ("invalid_token", "unknown channel, wrong token or expired channel")

    def read(self, body: bytes) -> Delivery:
        try:
            parsed = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            raise ProtocolError("a notification is a JSON object", system="bigin")
        ids = [str(i) for i in parsed.get("ids") or () if isinstance(i, (str, int))]
        operation = str(parsed.get("operation") or "")
        return Delivery(
            accepted=len(ids),
            pushed=ids if operation in PUSHED_OPERATIONS else [],
            deleted=ids if operation == "delete" else [],
            events=(operation,),
            channel_id=str(parsed.get("channel_id") or ""),
            token=str(parsed.get("token") or ""),
        )

    def answer(self, delivery: Delivery, pushes: int) -> dict[str, Any]:
        return {"accepted": delivery.accepted, "pushed": pushes > 0}


class WatchManager:
    """Channel management over one :class:`BiginClient`."""

    def __init__(self, client: BiginClient) -> None:
        self.client = client

    def _body(self, channel: WatchChannel, lifetime: timedelta) -> dict[str, Any]:
        expiry = utc_now() + min(lifetime, MAX_LIFETIME)
        item: dict[str, Any] = {
            "channel_id": channel.channel_id,
            "events": list(channel.events),
            "notify_url": channel.notify_url,
            "channel_expiry": format_time(expiry),
        }
        if channel.token:
            item["token"] = channel.token
        return {"watch": [item]}

    def _apply(self, method: str, channel: WatchChannel, lifetime: timedelta) -> WatchChannel:
        response = self.client.call(method, "/actions/watch", json=self._body(channel, lifetime))
        entries = (response.body or {}).get("watch") or []
        entry = entries[0] if entries else {}
        if entry.get("status") != "success":
            raise RemoteError(
                f"watch {method}: {entry.get('code')} {entry.get('message')}",
                system="bigin",
                code=entry.get("code"),
                status=response.status,
            )
        events = (entry.get("details") or {}).get("events") or [{}]
        expires = parse_time(events[0].get("channel_expiry"))
        return WatchChannel(
            channel.channel_id, channel.notify_url, channel.events, channel.token, expires
        )

    def create(
        self,
        notify_url: str,
        *,
        events: Iterable[str] = DEFAULT_EVENTS,
        channel_id: str | None = None,
        token: str | None = None,
        lifetime: timedelta = MAX_LIFETIME,
    ) -> WatchChannel:
        """Subscribe ``notify_url``; a random channel id and token when not given."""
        channel = WatchChannel(
            channel_id=channel_id or str(secrets.randbelow(10**15) + 10**15),
            notify_url=notify_url,
            events=tuple(events),
            token=token if token is not None else secrets.token_urlsafe(24)[:32],
        )
        return self._apply("POST", channel, lifetime)

    def renew(self, channel: WatchChannel, lifetime: timedelta = MAX_LIFETIME) -> WatchChannel:
        """Push the expiry out again (PUT overwrites the channel)."""
        return self._apply("PUT", channel, lifetime)

    def renew_due(
        self, channels: Iterable[WatchChannel], within: timedelta = timedelta(hours=1)
    ) -> list[WatchChannel]:
        """Each channel, renewed when it expires within ``within``."""
        return [self.renew(c) if c.due(within) else c for c in channels]

    def list(self) -> list[WatchChannel]:
        response = self.client.call("GET", "/actions/watch")
        if response.empty:
            return []
        return [
            WatchChannel(
                channel_id=str(item.get("channel_id")),
                notify_url=str(item.get("notify_url")),
                events=tuple(item.get("events") or ()),
                token=item.get("token"),
                expires_at=parse_time(item.get("channel_expiry")),
            )
            for item in (response.body or {}).get("watch") or []
        ]

    def delete(self, channel_id: str) -> bool:
        try:
            response = self.client.call(
                "DELETE", "/actions/watch", params={"channel_ids": channel_id}
            )
        except RemoteError:
            return False
        entries = (response.body or {}).get("watch") or []
        return bool(entries) and entries[0].get("status") == "success"
