"""Cache generations: how the facade's processes tell each other that a CRM changed.

Each facade process caches CRM pages for a few seconds (:mod:`bridge.facade.page_cache`).
A write through the facade (an upsert, a delete) *advances* the generation of the
connection it wrote to; before answering from its cache, every process reads the current
generation and only uses pages read under it. So a consumer that writes and then reads
sees its write at once, whichever worker or host answers the read, while consumers
paging between writes keep sharing one process's pages.

:class:`StoreCacheGenerations` keeps the counters in the project store (SQLite or
PostgreSQL), shared by every worker and every ``soapbridge serve`` on that store.
:class:`MemoryCacheGenerations` serves tests and single-process use.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from bridge.store.repos.generations import GenerationReader


class CacheGenerations(Protocol):
    def current(self, scope: str) -> int:
        """The generation of ``scope`` (a connection name) as every process sees it now."""
        ...

    def advance(self, scope: str) -> None:
        """Record a write to ``scope``: pages read before it must not answer again."""
        ...


class MemoryCacheGenerations:
    """Process-local :class:`CacheGenerations`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def current(self, scope: str) -> int:
        with self._lock:
            return self._counts.get(scope, 0)

    def advance(self, scope: str) -> None:
        with self._lock:
            self._counts[scope] = self._counts.get(scope, 0) + 1


class StoreCacheGenerations:
    """:class:`CacheGenerations` over the store's ``cache_generations`` repository."""

    def __init__(self, store: Any) -> None:
        self._repo = store.cache_generations
        self._reader = GenerationReader(store.engine)

    def current(self, scope: str) -> int:
        return self._reader.current(scope)

    def advance(self, scope: str) -> None:
        self._repo.advance(scope)
