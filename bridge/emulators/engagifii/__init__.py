"""Emulator of the Engagifii CRM API: OAuth2 client credentials, tenant-code, people paging."""

from __future__ import annotations

from typing import Any, Unpack

from bridge.emulators.engagifii.app import EngagifiiApp, IssuedClient
from bridge.emulators.engagifii.store import EngagifiiStore
from bridge.emulators.kit.restapp import RestOptions, RestParts

DEFAULT_RATE_LIMIT = 1000


def build_app(
    records: int = 0,
    *,
    client: IssuedClient | None = None,
    modified_filter: bool = True,
    seed: int = 42,
    **options: Unpack[RestOptions],
) -> EngagifiiApp:
    """A seeded Engagifii emulator app: ``records`` people in the client's first tenant.

    ``modified_filter=False`` makes ``PeoplePagingList`` ignore ``filter.modifiedDate``;
    the rest are the kit's options (:meth:`RestParts.build`): ``rate_limit`` (requests per
    minute, here 1,000 unless given), ``throttle_rate``, ``retry_after``, ``token_ttl``,
    ``faults`` and ``stats`` (where the app counts ``tokens_issued``).
    """
    client = client or IssuedClient()
    store = EngagifiiStore(list(client.tenants))
    store.modified_filter = modified_filter
    store.seed(client.tenants[0], records, seed=seed)
    options.setdefault("rate_limit", DEFAULT_RATE_LIMIT)
    return EngagifiiApp(store, client, RestParts.build(seed, **options))


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
