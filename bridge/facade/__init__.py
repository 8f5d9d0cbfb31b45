"""The SOAP facade: the legacy contact contract served over any connector.

A legacy consumer changes the host name and nothing else: the same WSDL, operations,
element and type names, envelope prefixes and fault bytes as the original ASMX service,
with ``siteId`` selecting a configured site whose connection (Bigin, Engagifii, Egito,
or the legacy CRM itself) holds the contacts.

:func:`build_facade` wires a :class:`FacadeApp` from a :class:`~bridge.config.Config`.
Settings (all optional) sit in ``[server.facade]``: ``max_request_bytes``, ``max_depth``,
``max_elements``, ``max_text``, ``max_attributes`` (the XML guard's limits; attributes
are counted per element), ``cursor_ttl_seconds`` (how
long a paging position is kept) and ``page_cache_seconds`` (how long a CRM page may be
reused for other consumers paging the same feed; 0 turns the cache off) and
``page_cache_stale_seconds`` (how much longer an expired page may answer while one
thread re-reads it from the CRM in the background). A write through the facade makes
every process's cached pages of that CRM stale at once (see
:mod:`bridge.facade.generations`), so the cache never hides a consumer's own write.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from bridge.auth import SharedTokens
from bridge.config import Config
from bridge.connectors.base import Connector
from bridge.connectors.registry import build_connector
from bridge.errors import ConfigError
from bridge.facade.app import SERVICE_PATH, FacadeApp
from bridge.facade.generations import StoreCacheGenerations
from bridge.facade.operations import ContactFacade, FacadeFault
from bridge.facade.page_cache import PageCache
from bridge.facade.paging import FeedPager
from bridge.facade.sites import SiteDirectory, hash_password
from bridge.facade.state import MemoryCursorMap, MemoryEntityIdMap, StoreCursorMap, StoreEntityIdMap
from bridge.soap.contract.wire import XmlLimits
from bridge.store import Store
from bridge.store.repos.tombstones import TombstoneRepo

ENDPOINT_PATH = "/CatalystWebService/CatalystCRMWebservice.asmx"


class ConnectorPool:
    """One connector per configured connection, built on first use, shared by threads.

    With ``shared_tokens`` (the store's), the connectors share their OAuth tokens with
    the other worker processes and runs of the same account.
    """

    def __init__(self, config: Config, shared_tokens: SharedTokens | None = None) -> None:
        self._config = config
        self._shared_tokens = shared_tokens
        self._built: dict[str, Connector] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Connector:
        with self._lock:
            connector = self._built.get(name)
            if connector is None:
                connector = self._built[name] = build_connector(
                    self._config.connection(name), shared_tokens=self._shared_tokens
                )
            return connector

    def close(self) -> None:
        with self._lock:
            for connector in self._built.values():
                connector.close()
            self._built.clear()


def limits_from(options: dict[str, Any]) -> XmlLimits:
    defaults = XmlLimits()
    try:
        return XmlLimits(
            max_bytes=int(options.get("max_request_bytes", defaults.max_bytes)),
            max_depth=int(options.get("max_depth", defaults.max_depth)),
            max_elements=int(options.get("max_elements", defaults.max_elements)),
            max_text=int(options.get("max_text", defaults.max_text)),
            max_attributes=int(options.get("max_attributes", defaults.max_attributes)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"server.facade: {exc}") from None


def build_facade(
    config: Config, *, store: Store | None = None, tombstones: TombstoneRepo | None = None
) -> FacadeApp:
    """The facade WSGI app for a config.

    With ``store``, every worker process shares entityIds, paging positions, OAuth tokens,
    cache generations and deleted contacts through it. Without, that state is the
    process's own, tokens too; deleted contacts are answered (and facade deletes filed)
    only with ``tombstones``.
    """
    if not config.sites:
        raise ConfigError("the facade needs at least one entry in `sites`")
    options = dict(config.server.options.get("facade", {}))
    ttl = timedelta(seconds=float(options.get("cursor_ttl_seconds", 3600)))
    facade = ContactFacade(
        SiteDirectory(config.sites),
        ConnectorPool(config, store.oauth_tokens if store else None),
        StoreEntityIdMap(store) if store else MemoryEntityIdMap(),
        FeedPager(
            StoreCursorMap(store) if store else MemoryCursorMap(),
            ttl=ttl,
            cache=PageCache(
                float(options.get("page_cache_seconds", 10)),
                stale_seconds=float(options.get("page_cache_stale_seconds", 10)),
            ),
            generations=StoreCacheGenerations(store) if store else None,
        ),
        tombstones or (store.tombstones if store else None),
    )
    return FacadeApp(facade, limits_from(options))


__all__ = [
    "ENDPOINT_PATH",
    "SERVICE_PATH",
    "ConnectorPool",
    "ContactFacade",
    "FacadeApp",
    "FacadeFault",
    "build_facade",
    "hash_password",
]
