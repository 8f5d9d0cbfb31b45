"""Emulator of HubSpot's CRM v3 contacts API: private-app and OAuth tokens, search, batches,
merges, the archived list, rate limits and signed webhooks (see :mod:`.app` for what is
followed as documented and what is inferred)."""

from __future__ import annotations

from typing import Any

from bridge.emulators.hubspot.access import App
from bridge.emulators.hubspot.app import HubSpotApp
from bridge.emulators.hubspot.store import ContactStore
from bridge.emulators.kit.server import Faults, Stats

AUTH_STYLES = ("oauth", "private")


def build_app(
    records: int = 0,
    *,
    app: App | None = None,
    faults: Faults | None = None,
    burst_limit: int = 190,
    oauth_burst_limit: int = 110,
    daily_limit: int = 625_000,
    search_limit: int = 5,
    burst_window: float = 10.0,
    token_ttl: float = 1800.0,
    index_lag: float = 0.0,
    auth: str = "oauth",
    seed: int = 42,
    stats: Stats | None = None,
) -> HubSpotApp:
    """A seeded HubSpot emulator app with ``records`` contacts.

    ``burst_limit``/``oauth_burst_limit`` are calls per 10 s (private app / OAuth),
    ``daily_limit`` calls per day (private apps), ``search_limit`` searches per second
    (0 = unlimited for each); ``burst_window`` is the rolling window in seconds (HubSpot:
    10; shorter makes tests quick); ``index_lag`` is how many seconds a write takes to show in
    search; ``auth`` picks the credentials ``connection_table`` prints.
    """
    if auth not in AUTH_STYLES:
        raise ValueError(f"auth must be one of {AUTH_STYLES}")
    store = ContactStore(index_lag=index_lag)
    store.seed(records, seed=seed)
    return HubSpotApp(
        store,
        app or App(),
        burst_limit=burst_limit,
        oauth_burst_limit=oauth_burst_limit,
        daily_limit=daily_limit,
        search_limit=search_limit,
        token_ttl=token_ttl,
        faults=faults or Faults(seed=seed),
        stats=stats,
        auth_style=auth,
        burst_window=burst_window,
    )


def connection_table(app: HubSpotApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table: ``kind``, ``base_url`` and one style of credentials.

    ``client_secret`` is in both styles: webhook signatures are made with it.
    """
    table: dict[str, Any] = {
        "kind": "hubspot",
        "base_url": base_url.rstrip("/"),
        "client_id": app.app.client_id,
        "client_secret": app.app.client_secret,
        "portal_id": app.app.portal_id,
    }
    if app.auth_style == "private":
        table["access_token"] = app.app.private_token
    else:
        table["refresh_token"] = app.grants.install()
    return table


__all__ = ["App", "ContactStore", "HubSpotApp", "build_app", "connection_table"]
