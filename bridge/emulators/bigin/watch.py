"""The Watch API (``/bigin/v2/actions/watch``) and the delivery of its notifications.

Channels [V: S3, S7]: a caller-chosen ``channel_id``, ``events`` like ``Contacts.create``
or ``Contacts.all``, a mandatory ``notify_url``, an optional ``token`` (at most 50
characters) echoed back, ``channel_expiry`` at most one day ahead (omitted or further
means one hour). Channels silently stop at expiry. ``PUT`` overwrites a channel; ``DELETE``
takes ``channel_ids``.

Notifications are POSTed as JSON to ``notify_url`` from a background thread, one per write
call and operation, in the Zoho CRM shape [I]: ``server_time``, ``query_params``,
``module``, ``resource_uri``, ``ids``, ``affected_fields``, ``operation``
(``insert|update|delete``), ``channel_id``, ``token``. The emulator only delivers to
loopback addresses: a test double must never send traffic anywhere else.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bridge.emulators.kit.server import Stats

log = logging.getLogger(__name__)

OPERATION_EVENTS = {"insert": "create", "update": "edit", "delete": "delete"}
EVENT_ACTIONS = ("create", "edit", "delete", "all")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_EXPIRY = timedelta(days=1)
DEFAULT_EXPIRY = timedelta(hours=1)


class WatchError(ValueError):
    """One channel of a watch request is refused; ``entry`` is its wire outcome."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.entry = {"code": code, "details": details, "message": message, "status": "error"}


class WatchChannels:
    """The registered channels; thread-safe."""

    def __init__(self, clock: Callable[[], datetime], modules: tuple[str, ...]) -> None:
        self._clock = clock
        self._modules = modules
        self._lock = threading.Lock()
        self._channels: dict[str, dict[str, Any]] = {}

    def _validate(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise WatchError("INVALID_DATA", "invalid data")
        channel_id = str(raw.get("channel_id") or "").strip()
        if not channel_id.isdigit():
            raise WatchError(
                "MANDATORY_NOT_FOUND" if not channel_id else "INVALID_DATA",
                "channel_id must be a number",
                api_name="channel_id",
            )
        events = raw.get("events")
        if not isinstance(events, list) or not events:
            raise WatchError("MANDATORY_NOT_FOUND", "events are required", api_name="events")
        for event in events:
            module, _, action = str(event).partition(".")
            if module not in self._modules or action not in EVENT_ACTIONS:
                raise WatchError("INVALID_DATA", f"invalid event {event}", api_name="events")
        notify_url = str(raw.get("notify_url") or "")
        parts = urlsplit(notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WatchError(
                "MANDATORY_NOT_FOUND" if not notify_url else "INVALID_URL",
                "notify_url must be an http(s) URL",
                api_name="notify_url",
            )
        if parts.hostname not in LOOPBACK_HOSTS:
            raise WatchError(
                "INVALID_URL", "the emulator delivers to loopback only", api_name="notify_url"
            )
        token = raw.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 50):
            raise WatchError("INVALID_DATA", "token is at most 50 characters", api_name="token")
        now = self._clock()
        expiry = now + DEFAULT_EXPIRY
        if raw.get("channel_expiry"):
            try:
                asked = datetime.fromisoformat(str(raw["channel_expiry"]).replace("Z", "+00:00"))
            except ValueError:
                raise WatchError(
                    "INVALID_DATA", "channel_expiry is not a datetime", api_name="channel_expiry"
                ) from None
            if asked.tzinfo is not None and now < asked <= now + MAX_EXPIRY:
                expiry = asked
        return {
            "channel_id": channel_id,
            "events": [str(e) for e in events],
            "notify_url": notify_url,
            "token": token,
            "channel_expiry": expiry,
            "notify_on_related_action": bool(raw.get("notify_on_related_action", False)),
            "return_affected_field_values": bool(raw.get("return_affected_field_values", False)),
        }

    def subscribe(self, raw: Any, *, replace: bool) -> dict[str, Any]:
        """Add (POST) or overwrite (PUT) one channel; its wire entry."""
        channel = self._validate(raw)
        with self._lock:
            if replace and channel["channel_id"] not in self._channels:
                raise WatchError("INVALID_DATA", "no such channel", api_name="channel_id")
            self._channels[channel["channel_id"]] = channel
        return channel

    def active(self) -> list[dict[str, Any]]:
        now = self._clock()
        with self._lock:
            for channel_id in [
                c for c, ch in self._channels.items() if ch["channel_expiry"] <= now
            ]:
                del self._channels[channel_id]
            return [dict(ch) for ch in self._channels.values()]

    def remove(self, channel_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._channels.pop(channel_id, None)

    def listening(self, module: str, operation: str) -> list[dict[str, Any]]:
        action = OPERATION_EVENTS[operation]
        wanted = {f"{module}.{action}", f"{module}.all"}
        return [ch for ch in self.active() if wanted & set(ch["events"])]


class Notifier:
    """Delivers notification bodies to their ``notify_url`` in order, off the request path."""

    def __init__(self, stats: Stats, timeout: float = 5.0) -> None:
        self._stats = stats
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="bigin-notifier", daemon=True)
        self._thread.start()

    def send(self, url: str, body: dict[str, Any]) -> None:
        self._queue.put((url, json.dumps(body).encode()))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            url, payload = item
            request = urllib.request.Request(
                url, data=payload, headers={"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    response.read()
                self._stats.incr("notifications_sent")
            except OSError as exc:
                # Zoho does not retry failed deliveries either [I]; count and move on.
                self._stats.incr("notifications_failed")
                log.info("notification to %s failed: %s", urlsplit(url).netloc, exc)
            finally:
                self._queue.task_done()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued notification was attempted (tests use this)."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)


def notification(
    channel: dict[str, Any], module: str, operation: str, ids: list[str], api_domain: str
) -> dict[str, Any]:
    query = {
        k: v[0] if len(v) == 1 else v
        for k, v in parse_qs(urlsplit(channel["notify_url"]).query).items()
    }
    return {
        "server_time": int(datetime.now().timestamp() * 1000),
        "query_params": query,
        "module": module,
        "resource_uri": f"{api_domain}/bigin/v1/{module}",
        "ids": ids,
        "affected_fields": [],
        "operation": operation,
        "channel_id": channel["channel_id"],
        "token": channel["token"],
    }
