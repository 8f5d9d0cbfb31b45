"""A short-lived cache of CRM pages, so consumers paging the same feed share CRM calls.

Every page fetched in one pass over a connector's feed is stored under the position it
was read from, stamped with that pass's *generation* (the time it began). An answer is
composed either entirely from pages of one generation, chained position to position, or
from a fresh pass: never from pages of different passes, which could disagree about where
the contacts are after a change (a crossing from one CRM page to the next must see both
as they were at one moment, or a shift between them would go unnoticed). Within one
page the pager re-aligns on the contacts it served last, whichever view it reads, so the
paging guarantee in :mod:`bridge.facade.paging` holds with the cache on: a view older
than the consumer's last one can repeat a contact (older data), never skip one. Answers
may be up to ``seconds`` old, except after a write: the scope of a page includes the CRM's
cache generation (:mod:`bridge.facade.generations`) it was read under, and a write through
the facade, in any process, advances that generation, so no process answers from pages
read before the write and a consumer reads back its own writes through any worker or host.
The writing process also drops its pages of that CRM at once, to free the memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bridge.connectors.base import Page, Position


class ChainBroken(Exception):
    """The next page of a cached chain is not cached (or expired)."""


def position_key(position: Position | None) -> str:
    return json.dumps(position.to_json(), sort_keys=True) if position else "start"


#: (id of the connector, ``since`` as ISO text, the CRM's cache generation).
Scope = tuple[int, str, int]
Key = tuple[int, str, int, str]


class PageCache:
    """Per-process cache: (scope, position) -> the last few (pass, page).

    A *pass* (the time a read of the CRM feed began) is what chains pages; the scope's
    cache generation is what a write through the facade advances.
    """

    GENERATIONS_PER_PAGE = 4

    def __init__(self, seconds: float, max_pages: int = 512, *, stale_seconds: float = 0) -> None:
        self.seconds = seconds
        # How long past ``seconds`` a page may still answer while a refresh runs.
        self.stale_seconds = stale_seconds
        self.max_pages = max_pages
        self._pages: OrderedDict[Key, list[tuple[float, float, Page]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def _live(self, key: Key, stale: bool = False) -> list[tuple[float, Page]]:
        """Unexpired (generation, page) pairs at ``key``, newest first (``stale``: or
        expired less than ``stale_seconds`` ago)."""
        now = time.time()
        with self._lock:
            entries = self._pages.get(key)
            if not entries:
                return []
            entries[:] = [e for e in entries if e[1] + self.seconds + self.stale_seconds > now]
            self._pages.move_to_end(key)
            return [
                (generation, page)
                for generation, stored, page in reversed(entries)
                if stale or stored + self.seconds > now
            ]

    def _exact(
        self, key: Key, generation: float, stale: bool = False
    ) -> Page | None:
        for found, page in self._live(key, stale):
            if found == generation:
                return page
        return None

    def put(self, scope: Scope, position: Position | None, generation: float,
            page: Page) -> None:
        if not self.enabled:
            return
        key = (*scope, position_key(position))
        with self._lock:
            entries = self._pages.setdefault(key, [])
            entries.append((generation, time.time(), page))
            del entries[: -self.GENERATIONS_PER_PAGE]
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def invalidate(self, connector: Any) -> None:
        """Forget every page read through ``connector`` (after a write through it)."""
        with self._lock:
            for key in [k for k in self._pages if k[0] == id(connector)]:
                del self._pages[key]

    def chains(
        self, scope: Scope, start: Position | None, *, stale: bool = False
    ) -> list[Iterator[Page]]:
        """Candidate chains of cached pages from ``start``, newest generation first.

        Each iterator stays in one generation and raises :class:`ChainBroken` when it
        needs a page that generation does not have. ``stale`` admits pages expired less
        than ``stale_seconds`` ago.
        """
        if not self.enabled:
            return []
        return [
            self._walk(scope, generation, first, stale)
            for generation, first in self._live((*scope, position_key(start)), stale)
        ]

    def _walk(
        self, scope: Scope, generation: float, first: Page, stale: bool
    ) -> Iterator[Page]:
        page = first
        while True:
            yield page
            if not page.more:
                return
            found = self._exact((*scope, position_key(page.position)), generation, stale)
            if found is None:
                raise ChainBroken
            page = found


def scope_of(connector: Any, since: datetime | None, generation: int = 0) -> Scope:
    return (id(connector), since.isoformat() if since else "", generation)
