"""Install steps that do real work, and the upkeep of Bigin watch channels.

integrator.io's install steps name an ``installerFunction`` and a ``_connectionId`` [V];
here the functions are:

- ``verifyConnection``: one cheap authenticated call through the connection's connector
  (its ``verify()``); refused credentials fail the step.
- ``createHubSpotProperty``: the unique contact property that holds the External ID on a
  HubSpot connection (upserts are keyed on it) and the checkbox property the ``flag``
  deletes policy sets, each created when missing.
- ``createBiginWatch``: a Bigin watch channel on the connection, notifying this server's
  ``/webhooks/bigin`` with a random token; the channel and its token are kept in the store
  (the token hashed for checks, encrypted for renewals).

Steps complete in order; completing the last moves the integration's ``mode`` from
``install`` to ``settings``. Channels live at most a day [V], so :func:`renew_channels`
pushes out those that expire within the hour, and :func:`remove_channels` deletes an
integration's channels at Bigin when the integration goes.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from bridge.api.web import ApiError
from bridge.api.wiring import Wiring
from bridge.connectors.bigin.watch import WatchChannel, WatchManager
from bridge.connectors.hubspot.connector import HubSpotConnector
from bridge.errors import AuthError, BridgeError
from bridge.model import utc_now
from bridge.store import Integration

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/bigin"
RENEW_WITHIN = timedelta(hours=1)


def _watch(connector: object) -> WatchManager:
    watch = getattr(connector, "watch", None)
    if not isinstance(watch, WatchManager):
        raise ApiError(422, "invalid_connection", "createBiginWatch needs a bigin connection")
    return watch


def run_step(wiring: Wiring, integration: Integration, index: int, base_url: str) -> Integration:
    """Run install step ``index`` of ``integration``; the integration after it."""
    steps = [dict(step) for step in integration.install_steps]
    if integration.mode != "install":
        raise ApiError(409, "not_installing", "the integration is not in install mode")
    if not 0 <= index < len(steps):
        raise ApiError(404, "not_found", f"the integration has no install step {index}")
    if any(not step.get("completed") for step in steps[:index]):
        raise ApiError(409, "step_out_of_order", "complete the earlier install steps first")
    step = steps[index]
    connection_id = str(step.get("_connectionId") or "")
    function = step.get("installerFunction")
    try:
        with wiring.connector(connection_id) as connector:
            if function == "verifyConnection":
                connector.verify()
            elif function == "createHubSpotProperty":
                if not isinstance(connector, HubSpotConnector):
                    raise ApiError(
                        422, "invalid_connection", f"{function} needs a hubspot connection"
                    )
                connector.ensure_external_id_property()
                connector.ensure_deleted_property()
            elif function == "createBiginWatch":
                _create_watch(wiring, integration, connection_id, connector, base_url)
            else:
                raise ApiError(422, "invalid_installer", f"unknown installerFunction {function!r}")
    except AuthError as exc:
        raise ApiError(422, "installer_failed", f"credentials refused: {exc}") from exc
    except BridgeError as exc:
        raise ApiError(422, "installer_failed", str(exc)) from exc
    step["completed"] = True
    steps[index] = step
    changes: dict[str, Any] = {"install_steps": steps}
    if all(s.get("completed") for s in steps):
        changes["mode"] = "settings"
    return wiring.store.integrations.update(integration.id, **changes)


def _create_watch(
    wiring: Wiring,
    integration: Integration,
    connection_id: str,
    connector: object,
    base_url: str,
) -> None:
    connection = wiring.connection(connection_id)
    notify_url = base_url.rstrip("/") + WEBHOOK_PATH
    channel = _watch(connector).create(notify_url)
    wiring.store.webhook_channels.put(
        channel.channel_id,
        connection=connection.name,
        events=channel.events,
        notify_url=notify_url,
        token=cast(str, channel.token),
        expires_at=channel.expires_at or utc_now() + timedelta(hours=1),
        integration_id=integration.id,
    )


def _connection_id(wiring: Wiring, name: str) -> str | None:
    found = wiring.store.connections.by_name(name)
    return found.id if found else None


def renew_channels(wiring: Wiring, within: timedelta = RENEW_WITHIN) -> int:
    """Renew (same id and token) every channel expiring within ``within``; how many."""
    renewed = 0
    for channel in wiring.store.webhook_channels.expiring(utc_now() + within):
        connection_id = _connection_id(wiring, channel.connection)
        if connection_id is None:
            continue
        try:
            with wiring.connector(connection_id) as connector:
                fresh = _watch(connector).renew(
                    WatchChannel(
                        channel.channel_id,
                        channel.notify_url,
                        channel.events,
                        wiring.store.webhook_channels.token(channel.channel_id),
                    )
                )
            wiring.store.webhook_channels.renew(
                channel.channel_id, fresh.expires_at or utc_now() + timedelta(hours=1)
            )
            renewed += 1
        except (BridgeError, ApiError) as exc:
            log.warning("renewing Bigin channel %s failed: %s", channel.channel_id, exc)
    return renewed


def remove_channels(wiring: Wiring, integration_id: str) -> int:
    """Delete ``integration_id``'s channels at Bigin and in the store; how many."""
    removed = 0
    for channel in wiring.store.webhook_channels.all():
        if channel.integration_id != integration_id:
            continue
        connection_id = _connection_id(wiring, channel.connection)
        try:
            if connection_id is not None:
                with wiring.connector(connection_id) as connector:
                    _watch(connector).delete(channel.channel_id)
        except (BridgeError, ApiError) as exc:
            log.warning("deleting Bigin channel %s failed: %s", channel.channel_id, exc)
        wiring.store.webhook_channels.delete(channel.channel_id)
        removed += 1
    return removed
