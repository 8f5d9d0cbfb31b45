"""What the facade must remember between calls, behind two small interfaces.

- :class:`EntityIdMap`: the legacy contract identifies contacts by ``entityId`` integers;
  the bridge allocates one per CRM record, stable per scope (the connection), and maps it
  back to the CRM id.
- :class:`CursorMap`: legacy paging is by offset; the CRMs page by page number or token.
  For each :class:`SiteFeed` (site, ``lastUpdateDate``) the facade keeps, per offset it has
  answered, the CRM position to resume from, so any worker (or a restarted server)
  continues a consumer's paging without re-reading from the start.

In production both live in the project store (:mod:`bridge.store`), so every worker and
a restarted server see the same state: :class:`StoreEntityIdMap` and
:class:`StoreCursorMap` adapt its repositories. The in-memory versions serve tests and
single-process use.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from bridge.model import utc_now


class EntityIdMap(Protocol):
    def entity_ids(self, scope: str, crm_ids: Sequence[str]) -> dict[str, int]:
        """The entityId of each CRM id, allocating the missing ones."""
        ...

    def crm_id(self, scope: str, entity_id: int) -> str | None:
        """The CRM id behind an entityId, or None when it was never allocated."""
        ...


class SiteFeed(NamedTuple):
    """What a consumer pages through: a site's contacts changed since ``since``."""

    site_id: int
    since: datetime | None


class CursorMap(Protocol):
    def save(self, feed: SiteFeed, offset: int, state: dict[str, Any], ttl: timedelta) -> None:
        """Remember where offset ``offset`` of ``feed`` starts (until ``ttl`` passes)."""
        ...

    def load(self, feed: SiteFeed, offset: int) -> dict[str, Any] | None:
        """The newest unexpired state saved for this exact offset, or None."""
        ...


class MemoryEntityIdMap:
    """Process-local :class:`EntityIdMap` (ids start at 1 per scope)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_crm: dict[tuple[str, str], int] = {}
        self._by_entity: dict[tuple[str, int], str] = {}
        self._next: dict[str, int] = {}

    def entity_ids(self, scope: str, crm_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for crm_id in crm_ids:
                key = (scope, crm_id)
                entity_id = self._by_crm.get(key)
                if entity_id is None:
                    entity_id = self._next.get(scope, 1)
                    self._next[scope] = entity_id + 1
                    self._by_crm[key] = entity_id
                    self._by_entity[(scope, entity_id)] = crm_id
                out[crm_id] = entity_id
        return out

    def crm_id(self, scope: str, entity_id: int) -> str | None:
        with self._lock:
            return self._by_entity.get((scope, entity_id))


class MemoryCursorMap:
    """Process-local :class:`CursorMap`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[SiteFeed, int], tuple[datetime, dict[str, Any]]] = {}

    def save(self, feed: SiteFeed, offset: int, state: dict[str, Any], ttl: timedelta) -> None:
        now = utc_now()
        with self._lock:
            self._states[(feed, offset)] = (now + ttl, dict(state))
            # Expired entries go on every write, so the map stays as small as live paging.
            for key in [k for k, (expires, _) in self._states.items() if expires <= now]:
                del self._states[key]

    def load(self, feed: SiteFeed, offset: int) -> dict[str, Any] | None:
        with self._lock:
            entry = self._states.get((feed, offset))
        if entry is None or entry[0] <= utc_now():
            return None
        return dict(entry[1])


class StoreEntityIdMap:
    """:class:`EntityIdMap` over the store's ``entity_ids`` repository.

    An entityId never changes once given, so each process remembers the ones it has seen
    and asks the store only about CRM ids new to it.
    """

    def __init__(self, store: Any, *, remember: int = 200_000) -> None:
        self._repo = store.entity_ids
        self._remember = remember
        self._known: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def entity_ids(self, scope: str, crm_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        missing: list[str] = []
        with self._lock:
            for crm_id in crm_ids:
                known = self._known.get((scope, crm_id))
                if known is None:
                    missing.append(crm_id)
                else:
                    out[crm_id] = known
        if missing:
            found: dict[str, int] = self._repo.allocate_many(scope, missing)
            out.update(found)
            with self._lock:
                if len(self._known) + len(found) > self._remember:
                    self._known.clear()
                self._known.update({(scope, k): v for k, v in found.items()})
        return out

    def crm_id(self, scope: str, entity_id: int) -> str | None:
        crm_id: str | None = self._repo.crm_id(scope, entity_id)
        return crm_id


class StoreCursorMap:
    """:class:`CursorMap` over the store's ``cursors`` repository.

    One store cursor per (site, ``lastUpdateDate``): every consumer paging the same feed
    of the same site continues the same walk, so the snapshot key is constant. The cursor
    row is re-opened (which pushes its expiry out) at most every few minutes; a position
    identical to the one this process last saved for the same offset (another consumer on
    the same page) is not written again; and a position this process saved or read in the
    last ``local_seconds`` is answered without a query (any saved position of an offset is
    a valid place to resume from, see :mod:`bridge.facade.paging`).
    """

    SNAPSHOT = "shared"

    def __init__(
        self, store: Any, *, reopen_seconds: float = 120.0, local_seconds: float = 5.0
    ) -> None:
        self._repo = store.cursors
        self._reopen = reopen_seconds
        self._local_seconds = local_seconds
        self._lock = threading.Lock()
        self._cursors: dict[SiteFeed, tuple[str, float]] = {}
        self._saved: dict[tuple[str, int], str] = {}
        self._recent: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
        # The pager's TTL, learnt from its saves, so a re-open on load keeps it too.
        self._ttl: timedelta | None = None

    def _cursor_id(self, feed: SiteFeed, ttl: timedelta | None) -> str:
        now = time.monotonic()
        with self._lock:
            known = self._cursors.get(feed)
        if known is not None and known[1] > now:
            return known[0]
        options = {"ttl": ttl} if ttl is not None else {}
        cursor = self._repo.open(f"site:{feed.site_id}", feed.since, self.SNAPSHOT, **options)
        with self._lock:
            self._cursors[feed] = (cursor.id, now + self._reopen)
        return str(cursor.id)

    def save(self, feed: SiteFeed, offset: int, state: dict[str, Any], ttl: timedelta) -> None:
        self._ttl = ttl
        cursor_id = self._cursor_id(feed, ttl)
        encoded = json.dumps(state, sort_keys=True)
        with self._lock:
            if self._saved.get((cursor_id, offset)) == encoded:
                return
        self._repo.save_position(cursor_id, offset, state)
        with self._lock:
            if len(self._saved) > 10_000:
                self._saved.clear()
            self._saved[(cursor_id, offset)] = encoded
            self._remember(cursor_id, offset, state)

    def _remember(self, cursor_id: str, offset: int, state: dict[str, Any]) -> None:
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[(cursor_id, offset)] = (time.monotonic() + self._local_seconds, state)

    def load(self, feed: SiteFeed, offset: int) -> dict[str, Any] | None:
        cursor_id = self._cursor_id(feed, self._ttl)
        with self._lock:
            recent = self._recent.get((cursor_id, offset))
        if recent is not None and recent[0] > time.monotonic():
            return dict(recent[1])
        state: dict[str, Any] | None = self._repo.position(cursor_id, offset)
        if state is not None:
            with self._lock:
                self._remember(cursor_id, offset, state)
        return state
