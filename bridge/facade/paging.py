"""Legacy offset paging (``recordStart``, 100 per call) over a connector's change feed.

The CRMs page their own way (Bigin: 200 per page, a ``page_token`` past 2,000 records), so
an offset means nothing to them. After each answer the facade saves, under the offset it
told the consumer to ask for next, the connector :class:`Position` of the CRM page that
held the last contact served, that contact's index in it, and the CRM ids it just served
(the *tail*). The next call resumes the feed there: one or two CRM pages, however deep
the offset, on any worker, after a restart.

**The guarantee while contacts change.** A consumer that pages from ``recordStart=0``
until ``moreRecords`` is false receives every contact that matched ``lastUpdateDate`` when
its first call was answered and was not deleted meanwhile, at least once. Contacts
changed during the run may come again near the end, with their new data. Why: a CRM feed
ordered by modification time moves a changed contact to its end, so the contacts after
it shift back; resuming by a fixed index would skip one per change. Instead the resumed
page is re-aligned on the last tail contact still found in it, and when none is found
(all of them changed) it restarts from the top of that CRM page, repeating rather than
skipping. The bound: it holds while, between two calls, fewer contacts change than
there are positions between the top of that CRM page and the last contact served.
Positions are kept per (site, ``lastUpdateDate``, offset) and shared by every consumer
paging that feed: whoever answered an offset last leaves the position the next consumer
at that offset resumes from; any saved position is a valid place to resume, because the
re-alignment above works from whichever view it meets (at worst it repeats contacts).
With the page cache on (:mod:`bridge.facade.page_cache`) the same holds: an answer that
crosses from one CRM page to the next reads both from one pass over the CRM. A write
through the facade (:meth:`FeedPager.written`) advances the CRM's cache generation, so
the next answer, in any process, reads the CRM again and includes the write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.connectors.base import Connector, Page, Position
from bridge.facade.generations import CacheGenerations, MemoryCacheGenerations
from bridge.facade.page_cache import (
    ChainBroken,
    Key,
    PageCache,
    Scope,
    position_key,
    scope_of,
)
from bridge.facade.state import CursorMap, SiteFeed
from bridge.model import Contact

log = logging.getLogger(__name__)
PAGE_SIZE = 100


@dataclass(slots=True)
class FacadePage:
    contacts: list[Contact]
    next_offset: int
    more: bool


class FeedPager:
    """Answers ``(since, offset)`` from a connector, remembering positions in a CursorMap."""

    def __init__(
        self,
        cursors: CursorMap,
        *,
        page_size: int = PAGE_SIZE,
        ttl: timedelta = timedelta(hours=1),
        cache: PageCache | None = None,
        generations: CacheGenerations | None = None,
    ) -> None:
        self.cursors = cursors
        self.page_size = page_size
        self.ttl = ttl
        self.cache = cache or PageCache(0)
        self.generations = generations or MemoryCacheGenerations()
        self._flights: dict[Key, threading.Lock] = {}
        self._flights_lock = threading.Lock()

    def page(
        self,
        connector: Connector,
        site_id: int,
        since: datetime | None,
        offset: int,
        *,
        feed: str = "",
    ) -> FacadePage:
        """One legacy page; ``feed`` names the CRM for its cache generation (the connection)."""
        state = self.cursors.load(SiteFeed(site_id, since), offset) if offset > 0 else None
        if offset > 0 and state is None:
            log.info("facade: no saved position for offset %d; reading from the start", offset)
        resume = _position(state.get("position")) if state else None
        # Read per answer, so a write through any process is seen by the very next read.
        generation = self.generations.current(feed) if self.cache.enabled else 0
        scope = scope_of(connector, since, generation)
        answer = self._from_cache(scope, connector.system, state, offset, resume)
        if answer is None and self.cache.stale_seconds > 0:
            # A recently expired view answers now; one thread refreshes it meanwhile.
            answer = self._from_cache(scope, connector.system, state, offset, resume, stale=True)
            if answer is not None:
                self._refresh_later(connector, since, resume, scope)
        if answer is None:
            # One thread per resume point reads the CRM; the others wait and use its pages.
            with self._flight(scope, resume):
                answer = self._from_cache(scope, connector.system, state, offset, resume)
                if answer is None:
                    answer = self._read(connector, since, resume, scope, state, offset)
        served, last_position, last_index, more = answer
        next_offset = offset + len(served)
        if served:
            system = connector.system
            self.cursors.save(
                SiteFeed(site_id, since),
                next_offset,
                {
                    "position": last_position.to_json() if last_position else None,
                    "index": last_index,
                    "tail": [c.ids.get(system) for c in served if c.ids.get(system)],
                },
                self.ttl,
            )
        return FacadePage(served, next_offset, more)

    def written(self, connector: Connector, feed: str = "") -> None:
        """After a write through ``connector``: no process answers from older pages."""
        try:
            self.generations.advance(feed)
        except Exception as exc:  # the write itself succeeded; do not fail the consumer
            log.warning("facade: could not advance the cache generation of %r: %s", feed, exc)
        self.cache.invalidate(connector)

    def _read(
        self,
        connector: Connector,
        since: datetime | None,
        resume: Position | None,
        scope: Scope,
        state: dict[str, Any] | None,
        offset: int,
    ) -> tuple[list[Contact], Position | None, int, bool]:
        """Answer from a fresh pass over the CRM (its pages go to the cache)."""
        fresh = self._fresh(connector, since, resume, scope, time.time())
        answer = self._compose(fresh, connector.system, state, offset, resume)
        if self.cache.enabled and answer[3]:
            # Read one page ahead in the same pass: the consumer's next call crosses
            # into it and needs both pages from one generation.
            next(fresh, None)
        return answer

    def _refresh_later(
        self,
        connector: Connector,
        since: datetime | None,
        resume: Position | None,
        scope: Scope,
    ) -> None:
        lock = self._flight(scope, resume)
        if not lock.acquire(blocking=False):
            return  # already being refreshed

        def refresh() -> None:
            try:
                fresh = self._fresh(connector, since, resume, scope, time.time())
                for _ in range(2):
                    if next(fresh, None) is None:
                        break
            except Exception as exc:  # a failed refresh only means the next read is fresh
                log.info("facade: background page refresh failed: %s", exc)
            finally:
                lock.release()

        threading.Thread(target=refresh, name="facade-page-refresh", daemon=True).start()

    def _from_cache(
        self,
        scope: Scope,
        system: str,
        state: dict[str, Any] | None,
        offset: int,
        resume: Position | None,
        stale: bool = False,
    ) -> tuple[list[Contact], Position | None, int, bool] | None:
        for pages in self.cache.chains(scope, resume, stale=stale):
            try:
                return self._compose(pages, system, state, offset, resume)
            except ChainBroken:
                continue
        return None

    def _flight(self, scope: Scope, resume: Position | None) -> threading.Lock:
        key = (*scope, position_key(resume))
        with self._flights_lock:
            lock = self._flights.get(key)
            if lock is None:
                if len(self._flights) > 1024:
                    self._flights.clear()
                lock = self._flights[key] = threading.Lock()
            return lock

    def _fresh(
        self,
        connector: Connector,
        since: datetime | None,
        resume: Position | None,
        scope: Scope,
        generation: float,
    ) -> Iterator[Page]:
        before = resume
        for page in _feed(connector, since, resume):
            self.cache.put(scope, before, generation, page)
            yield page
            before = page.position

    def _compose(
        self,
        pages: Iterator[Page],
        system: str,
        state: dict[str, Any] | None,
        offset: int,
        resume: Position | None,
    ) -> tuple[list[Contact], Position | None, int, bool]:
        """Take up to one legacy page from ``pages``: (contacts, page position, index, more)."""
        tail = set(state.get("tail", ())) if state else set()
        # Without a saved position the first ``offset`` records are walked past.
        to_skip = offset if state is None else 0
        served: list[Contact] = []
        last_page_position: Position | None = None
        last_index = -1
        more = False
        before: Position | None = resume
        for page in pages:
            contacts = page.contacts
            start = 0
            if tail:
                start = _realign(contacts, tail, system)
                tail = set()
            if to_skip:
                skipped = min(to_skip, len(contacts) - start)
                start += skipped
                to_skip -= skipped
            room = self.page_size - len(served)
            taken = contacts[start : start + room]
            if taken:
                served.extend(taken)
                last_page_position = before
                last_index = start + len(taken) - 1
            if len(served) >= self.page_size:
                more = start + len(taken) < len(contacts) or page.more
                break
            before = page.position
            if not page.more:
                break
        return served, last_page_position, last_index, more


def _position(data: dict[str, Any] | None) -> Position | None:
    return Position.from_json(data) if data else None


def _feed(connector: Connector, since: datetime | None, resume: Position | None) -> Iterator[Page]:
    if resume is not None:
        return connector.read_changes(since, resume=resume)
    return connector.read_changes(since)


def _realign(contacts: list[Contact], tail: set[str], system: str) -> int:
    """Index after the last tail contact in this re-read page (0 when none is left)."""
    for index in range(len(contacts) - 1, -1, -1):
        if contacts[index].ids.get(system) in tail:
            return index + 1
    return 0
