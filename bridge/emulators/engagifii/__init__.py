"""Emulator of the Engagifii CRM API: OAuth2 client credentials, tenant-code, people paging."""

from __future__ import annotations

from typing import Any

from bridge.emulators.engagifii.app import EngagifiiApp, IssuedClient
from bridge.emulators.engagifii.store import EngagifiiStore
from bridge.emulators.kit.rest import Throttle, TokenStore
from bridge.emulators.kit.server import Faults, Stats

DEFAULT_RATE_LIMIT = 1000


def build_app(
    records: int = 0,
    *,
    client: IssuedClient | None = None,
    faults: Faults | None = None,
    rate_limit: int = DEFAULT_RATE_LIMIT,
    throttle_rate: float | None = None,
    retry_after: float | None = None,
    token_ttl: float = 3600.0,
    modified_filter: bool = True,
    seed: int = 42,
    stats: Stats | None = None,
) -> EngagifiiApp:
    """A seeded Engagifii emulator app: ``records`` people in the client's first tenant.

    ``rate_limit`` is requests per minute (0: unlimited); ``throttle_rate`` refuses that
    share of API calls with 429 regardless; ``modified_filter=False`` makes
    ``PeoplePagingList`` ignore ``filter.modifiedDate``. With ``stats``, the app counts
    ``tokens_issued`` there (serve it through ``with_admin`` with the same object).
    """
    client = client or IssuedClient()
    faults = Faults.given(faults, seed=seed, throttle_rate=throttle_rate, retry_after=retry_after)
    store = EngagifiiStore(list(client.tenants))
    store.modified_filter = modified_filter
    store.seed(client.tenants[0], records, seed=seed)
    throttle = Throttle(limit=rate_limit, faults=faults)
    return EngagifiiApp(
        store,
        client,
        tokens=TokenStore(token_ttl),
        throttle=throttle,
        faults=faults,
        stats=stats,
    )


def connection_table(app: EngagifiiApp, base_url: str) -> dict[str, Any]:
    """The ``[connections.<name>]`` table for this emulator, with ``kind``."""
    root = base_url.rstrip("/")
    return {
        "kind": "engagifii",
        "base_url": root + "/api/v1",
        "token_url": root + "/oauth/token",
        "client_id": app.client.client_id,
        "client_secret": app.client.client_secret,
        "tenant_code": app.client.tenants[0],
    }


__all__ = ["EngagifiiApp", "EngagifiiStore", "IssuedClient", "build_app", "connection_table"]
