"""Emulator of the Egito CRM REST API: password grant, JSON or form posts, errors in 200s."""

from __future__ import annotations

from typing import Any

from bridge.emulators.egito.app import EgitoAccount, EgitoApp
from bridge.emulators.egito.store import EgitoStore
from bridge.emulators.kit.rest import Throttle, TokenStore
from bridge.emulators.kit.server import Faults, Stats


def build_app(
    records: int = 0,
    *,
    account: EgitoAccount | None = None,
    faults: Faults | None = None,
    rate_limit: int = 0,
    throttle_rate: float | None = None,
    retry_after: float | None = None,
    token_ttl: float = 3600.0,
    error_status: int = 200,
    error_items: str = "objects",
    modified_filter: bool = True,
    timezone: str = "Europe/Warsaw",
    seed: int = 42,
    stats: Stats | None = None,
) -> EgitoApp:
    """A seeded Egito emulator app (``records`` contacts, three accounts).

    ``rate_limit`` is requests per minute (0: none, as documented); ``throttle_rate``
    refuses that share of API calls with 429; ``error_status`` is the HTTP status of
    ``{"errors": [...]}`` answers (200 by default) and ``error_items`` their items' shape
    (``objects`` with message/code/field, or bare message ``strings``); with ``stats``,
    the app counts ``tokens_issued`` there.
    """
    account = account or EgitoAccount()
    faults = Faults.given(faults, seed=seed, throttle_rate=throttle_rate, retry_after=retry_after)
    store = EgitoStore(timezone=timezone)
    store.seed(records, seed=seed)
    return EgitoApp(
        store,
        account,
        tokens=TokenStore(token_ttl),
        throttle=Throttle(limit=rate_limit, faults=faults),
        faults=faults,
        stats=stats,
        error_status=error_status,
        error_items=error_items,
        modified_filter=modified_filter,
    )


def connection_table(app: EgitoApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table for this emulator, with ``kind``."""
    return {
        "kind": "egito",
        "base_url": base_url.rstrip("/"),
        "client_id": app.account.client_id,
        "client_secret": app.account.client_secret,
        "username": app.account.username,
        "password": app.account.password,
        "timezone": app.store.tz.key,
    }


__all__ = ["EgitoAccount", "EgitoApp", "EgitoStore", "build_app", "connection_table"]
