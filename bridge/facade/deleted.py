"""Deleted contacts in ``ContactList_Retrieve`` over a REST CRM, from the store's tombstones.

The legacy service kept a deleted contact and answered it with ``deleted=true``, which is
how its consumers learned of deletions. A REST CRM forgets the record, so the facade
answers the tombstones of the site's connection instead (records deleted at or after
``lastUpdateDate``) as contacts with ``deleted=true``, after the live feed: when the live
feed ends, ``moreRecords`` stays true while tombstones remain, and the offsets past the
live feed walk the tombstones in filing order. The position is saved with the paging
cursors (``{"deleted_after": <tombstone id>}``), so each deleted contact is answered once
to a consumer paging from ``recordStart=0`` until ``moreRecords`` is false, on any worker.

Contacts only flagged deleted (the legacy ``deleted`` flag, an inactive Engagifii person)
are in the live feed already and are not repeated here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.connectors.base import Connector
from bridge.facade.paging import FacadePage
from bridge.facade.state import CursorMap, SiteFeed
from bridge.model import Contact
from bridge.store.repos.tombstones import Tombstone, TombstoneRepo

STATE_KEY = "deleted_after"


class DeletedTail:
    """The tombstone part of a connection's feed, paged like the live part."""

    def __init__(
        self,
        tombstones: TombstoneRepo,
        cursors: CursorMap,
        *,
        page_size: int = 100,
        ttl: timedelta = timedelta(hours=1),
    ) -> None:
        self.tombstones = tombstones
        self.cursors = cursors
        self.page_size = page_size
        self.ttl = ttl

    def answer(
        self,
        site_id: int,
        connection: str,
        connector: Connector,
        since: datetime | None,
        offset: int,
    ) -> FacadePage | None:
        """The page at ``offset`` when it lies in the tombstones, else None."""
        if offset <= 0:
            return None
        state = self.cursors.load(SiteFeed(site_id, since), offset)
        if not state or STATE_KEY not in state:
            return None
        stones = self.tombstones.gone_since(
            connection, since, after_id=int(state[STATE_KEY]), limit=self.page_size + 1
        )
        served = stones[: self.page_size]
        more = len(stones) > self.page_size
        next_offset = offset + len(served)
        if served and more:
            self._save(site_id, since, next_offset, served[-1].id)
        return FacadePage([_contact(s, connector.system) for s in served], next_offset, more)

    def extend(
        self,
        site_id: int,
        connection: str,
        connector: Connector,
        since: datetime | None,
        page: FacadePage,
    ) -> FacadePage:
        """The live feed's last page, its free room filled with the first tombstones."""
        if page.more:
            return page
        room = self.page_size - len(page.contacts)
        stones = self.tombstones.gone_since(connection, since, limit=room + 1)
        if not stones:
            return page
        served = stones[:room]
        more = len(stones) > room
        next_offset = page.next_offset + len(served)
        if more:
            self._save(site_id, since, next_offset, served[-1].id if served else 0)
        deleted = [_contact(s, connector.system) for s in served]
        return FacadePage(page.contacts + deleted, next_offset, more)

    def _save(self, site_id: int, since: datetime | None, offset: int, after: int) -> None:
        self.cursors.save(SiteFeed(site_id, since), offset, {STATE_KEY: after}, self.ttl)


def _contact(stone: Tombstone, system: str) -> Contact:
    return Contact(
        ids={system: stone.record_id},
        external_id=stone.external_id,
        email=stone.email,
        updated_at=stone.deleted_at,
        deleted=True,
    )
