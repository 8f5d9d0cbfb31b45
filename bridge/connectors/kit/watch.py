"""Push channels, as a connector that declares ``Capability.WATCH_CHANNELS`` offers them.

The control plane creates a channel at install, renews it before it expires and deletes
it with its integration, through :class:`WatchChannels`, whatever system is behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bridge.model import utc_now

DEFAULT_EVENTS = ("Contacts.all",)


@dataclass(slots=True)
class WatchChannel:
    channel_id: str
    notify_url: str
    events: tuple[str, ...] = DEFAULT_EVENTS
    token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None

    def due(self, within: timedelta, now: datetime | None = None) -> bool:
        """True when the channel expires within ``within`` (or its expiry is unknown)."""
        return self.expires_at is None or self.expires_at - within <= (now or utc_now())


class WatchChannels(Protocol):
    """Create, renew (same id and token) and delete one system's notification channels."""

    def create(self, notify_url: str) -> WatchChannel: ...

    def renew(self, channel: WatchChannel) -> WatchChannel: ...

    def delete(self, channel_id: str) -> bool: ...
